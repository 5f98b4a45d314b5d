package loadtest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// The states in which Unauth leaves its connections.
const (
	// UnauthTCP: connected, nothing sent (not even a TLS ClientHello on a
	// direct TLS port).
	UnauthTCP = "tcp"
	// UnauthHeader: stream header sent, the server's header and features
	// read (RFC 6120 §4.2, §4.3.2), in plaintext.
	UnauthHeader = "header"
	// UnauthTLS: TLS established (STARTTLS, RFC 6120 §5.4.3.3, or a direct
	// TLS handshake, XEP-0368), then silent: no new stream header.
	UnauthTLS = "tls"
	// UnauthTLSHeader: TLS established, then a stream header sent and the
	// features read: the state right before SASL.
	UnauthTLSHeader = "tls-header"
)

// UnauthModes lists the valid Options.UnauthMode values.
var UnauthModes = []string{UnauthTCP, UnauthHeader, UnauthTLS, UnauthTLSHeader}

// unauthConn is a connection that never authenticates, watched by one
// reader goroutine: whatever the server sends before the stream closes is
// read and dropped; a stream error, the end of the stream or a read error
// means the server dropped the connection.
type unauthConn struct {
	c    *Conn
	done chan struct{} // closed when the server ended the connection (or we closed it)
	err  error         // why (read after done)
}

// Unauth opens o.N connections that never authenticate, brings each to
// the state o.UnauthMode names, and holds them silent for o.Duration. It
// reports how many stayed up (not closed by the server: a server closes
// unauthenticated connections after its pre-auth timeout, so the hold
// must be shorter than that), the server's resident memory before, while
// holding and after, and the memory per connection.
func Unauth(ctx context.Context, o Options) (Result, error) {
	r := Result{Scenario: "unauth", Time: time.Now()}
	if err := o.check("n"); err != nil {
		return r, err
	}
	mode, err := o.unauthMode()
	if err != nil {
		return r, err
	}
	o.quiet()
	r.param("n", o.N)
	r.param("hold", o.Duration)
	r.param("mode", mode)
	if o.Target.DirectTLS {
		r.param("direct_tls", true)
	}
	var mu sync.Mutex
	var conns []*unauthConn
	names := holdNames{count: "connections", failed: "failed", perItem: "bytes_per_connection"}
	err = measureHold(ctx, &o, &r, names, func(prog *progressState, errs *firstError) []held {
		hs := make([]held, o.N)
		forEach(ctx, o.N, o.concurrency(), func(i int) {
			u, err := o.Target.openUnauth(ctx, mode)
			if err != nil {
				errs.add(err)
				return
			}
			hs[i] = u
			mu.Lock()
			conns = append(conns, u)
			mu.Unlock()
			prog.a.Add(1)
		})
		return hs
	}, func() string { return unauthWhy(conns) })
	return r, err
}

func (o *Options) unauthMode() (string, error) {
	m := o.UnauthMode
	if m == "" {
		m = UnauthHeader
	}
	for _, v := range UnauthModes {
		if v == m {
			if m == UnauthHeader && o.Target.DirectTLS {
				return "", errors.New("loadtest: unauth mode header is plaintext; on a direct TLS port use tls-header")
			}
			return m, nil
		}
	}
	return "", fmt.Errorf("loadtest: unauth mode %q is not one of %v", m, UnauthModes)
}

// openUnauth connects and negotiates up to mode, then starts the watcher.
func (t *Target) openUnauth(ctx context.Context, mode string) (*unauthConn, error) {
	c, err := t.connect(ctx)
	if err != nil {
		return nil, err
	}
	if err := c.negotiateUnauth(mode); err != nil {
		c.tcp.Close()
		return nil, fmt.Errorf("unauth %s: %w", mode, err)
	}
	c.tcp.SetDeadline(time.Time{})
	u := &unauthConn{c: c, done: make(chan struct{})}
	go func() {
		defer close(u.done)
		u.err = c.watch()
	}()
	return u, nil
}

func (c *Conn) negotiateUnauth(mode string) error {
	tlsMode := mode == UnauthTLS || mode == UnauthTLSHeader
	if mode == UnauthTCP || (mode == UnauthTLS && c.t.DirectTLS) {
		return nil
	}
	if tlsMode && !c.t.DirectTLS {
		if err := c.open(); err != nil {
			return err
		}
		if err := c.startTLS(); err != nil {
			return err
		}
		if mode == UnauthTLS {
			return nil
		}
	}
	return c.open()
}

// watch reads the stream until the server ends it: it returns the stream
// error, the end of the stream or the read error.
func (c *Conn) watch() error {
	if c.dec.WantHeader() {
		if _, err := c.dec.ReadHeader(); err != nil {
			return err
		}
	}
	for {
		el, err := c.dec.Next()
		if err != nil {
			return err
		}
		if el.Space == nsStream && el.Local == "error" {
			return unexpected(el, "nothing")
		}
	}
}

// upAfterHold reports whether the server has left the connection open.
func (u *unauthConn) upAfterHold(context.Context, *Options) bool { return !u.closed() }

func (u *unauthConn) closed() bool {
	select {
	case <-u.done:
		return true
	default:
		return false
	}
}

func (u *unauthConn) close() {
	u.c.tcp.Close()
	<-u.done
}

// unauthWhy names what ended the first connection the server dropped.
func unauthWhy(conns []*unauthConn) string {
	for _, u := range conns {
		if u.closed() {
			return fmt.Sprintf(" (closed by the server; first: %v)", u.err)
		}
	}
	return ""
}
