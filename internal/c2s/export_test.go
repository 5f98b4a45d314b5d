package c2s

import (
	"context"

	"github.com/parleyim/parley/internal/router"
)

// QueuedBytes returns how many bytes wait in the output queue of rs, a
// client session, not yet handed to the socket.
func QueuedBytes(rs router.Session) int {
	o := &rs.(*Session).out
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.pending == nil {
		return 0
	}
	return len(*o.pending)
}

// SessionContext returns the context of rs, a client session.
func SessionContext(rs router.Session) context.Context { return &rs.(*Session).ctx }
