package c2s

import (
	"context"
	"sync"
	"time"
)

// sessionContext is a session's context: the server's values and
// deadline, done when the session ends. It lives inside the session, so it
// costs no allocation and no entry in the server context's list of
// children (an idle session stays small); its channel is made on first use.
// It is not linked to the server's context: Server.Shutdown cancels every
// session's context itself.
type sessionContext struct {
	parent context.Context
	mu     sync.Mutex // guards done and ended
	done   chan struct{}
	ended  bool
}

func (c *sessionContext) Deadline() (time.Time, bool) { return c.parent.Deadline() }
func (c *sessionContext) Value(key any) any           { return c.parent.Value(key) }

func (c *sessionContext) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done == nil {
		c.done = make(chan struct{})
		if c.ended {
			close(c.done)
		}
	}
	return c.done
}

func (c *sessionContext) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended {
		return context.Canceled
	}
	return nil
}

// cancel ends the context; later calls do nothing.
func (c *sessionContext) cancel() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended {
		return
	}
	c.ended = true
	if c.done != nil {
		close(c.done)
	}
}
