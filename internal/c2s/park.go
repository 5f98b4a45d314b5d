package c2s

import (
	"crypto/tls"
	"errors"
	"time"

	"github.com/parleyim/parley/internal/netpoll"
	"github.com/parleyim/parley/internal/tlsutil"
)

// This file holds session parking: a connection that has been silent for
// c2s.park_after gives up its reading goroutine and its decoder's read
// buffer and waits in the shared poller (internal/netpoll). It comes back
// on a new goroutine when the client sends something, when its idle timer
// fires (ping, pre-auth or ping timeout) or when the server closes it.
// Writes do not need the reading goroutine: the output queue has its own.
//
// Ownership: at any time exactly one goroutine runs the session (loop), or
// none and the session is parked. parkMu hands the session over; whoever
// unparks it (unpark returns true) runs it next.

// errPark is what the reader returns when the connection has been silent
// for park_after and can be parked.
var errPark = errors.New("c2s: connection idle")

// wakeReason is why a parked session runs again.
type wakeReason uint8

const (
	wakeReadable wakeReason = iota // bytes, end of stream or an error on the socket
	wakeTimer                      // the idle timer: ping, or a timeout
	wakeClose                      // the session is asked to close
)

// start runs a new connection: parked until its first bytes when it can
// be polled, else on its own goroutine.
func (t *tcpTransport) start() {
	s := t.s
	now := time.Now()
	s.deadline = now.Add(s.srv.cfg.Limits.PreAuthTimeout.D())
	s.lastRead = now
	if s.srv.cfg.C2S.ParkAfter > 0 {
		if p, err := netpoll.Default(); err == nil {
			t.poll, _ = p.Register(rawConn(t.c), t.onReadable)
		}
	}
	if t.poll == nil {
		go t.loop(wakeReadable)
		return
	}
	if !t.park() {
		go t.loop(wakeClose)
	}
}

// loop runs the session on the calling goroutine until it parks or ends.
func (t *tcpTransport) loop(why wakeReason) {
	for {
		err := t.step(why)
		if errors.Is(err, errResumed) {
			why = wakeReadable // this connection now carries the resumed session, t.s (resume.go)
			continue
		}
		if !errors.Is(err, errPark) {
			t.end(t.s.stop(err))
			return
		}
		t.s.smBeforePark()
		t.s.releaseIdlePipeline()
		t.s.scopeCtx = nil // made again by the next stanza; an idle session keeps none
		if t.park() {
			return
		}
		why = wakeClose // not parked: closing, or the socket is gone
	}
}

// step does the one-time setup if needed, handles a timer wake-up and
// serves the stream until it parks (errPark) or ends.
func (t *tcpTransport) step(why wakeReason) error {
	s := t.s
	if !t.started {
		if why == wakeClose || why == wakeTimer && t.directTLS {
			// Nothing was negotiated: no handshake for a closing or
			// timed-out connection.
			if why == wakeClose {
				return errClosing
			}
			return s.onIdle()
		}
		if err := t.setup(); err != nil {
			return err
		}
	}
	if why == wakeTimer {
		if err := s.onIdle(); err != nil {
			return err
		}
	}
	return s.serve(&s.ctx)
}

// canPark reports whether the reader may give up the goroutine after
// park_after of silence.
func (t *tcpTransport) canPark() bool {
	return t.poll != nil && !t.s.closing.Load()
}

// park hands the session to the poller. It reports false when the session
// cannot wait there (closing, or the socket is gone); the caller then keeps
// running it.
func (t *tcpTransport) park() bool {
	if t.dec != nil {
		t.dec.Release()
	}
	if tc, ok := t.conn().(*tls.Conn); ok {
		tlsutil.ReleaseBuffers(tc)
	}
	t.parkMu.Lock()
	defer t.parkMu.Unlock()
	if t.s.closing.Load() {
		return false
	}
	if err := t.poll.Arm(); err != nil {
		return false
	}
	t.parked = true
	wakes.add(t, time.Until(t.s.wakeAt()))
	mParked.Inc()
	return true
}

// unpark takes the session from the poller; true means the caller now
// runs it.
func (t *tcpTransport) unpark() bool {
	t.parkMu.Lock()
	defer t.parkMu.Unlock()
	if !t.parked {
		return false
	}
	t.parked = false
	wakes.remove(t)
	mParked.Dec()
	return true
}

func (t *tcpTransport) onReadable() {
	if t.unpark() {
		t.loop(wakeReadable)
	}
}

func (t *tcpTransport) onTimer() {
	if t.unpark() {
		t.loop(wakeTimer)
	}
}

// wake runs a parked session that is asked to close, so its owner can end
// it (close.go).
func (t *tcpTransport) wake() {
	if t.unpark() {
		go t.loop(wakeClose)
	}
}

// end gives back what the connection held once the session ended: its
// poller registration, its timer, its per-address slot and its place in
// the server's connections (unless the session hibernated: it is still
// the server's, resume.go).
func (t *tcpTransport) end(hibernated bool) {
	t.Close()
	if t.poll != nil {
		t.poll.Close()
	}
	t.parkMu.Lock()
	wakes.remove(t)
	t.parkMu.Unlock()
	if t.slot != nil {
		t.slot()
	}
	if !hibernated {
		t.s.srv.ended(t.s)
	}
}
