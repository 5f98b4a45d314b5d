package c2s

import (
	"crypto/tls"
	"errors"
	"os"
	"time"

	"github.com/parleyim/parley/internal/netpoll"
	"github.com/parleyim/parley/internal/tlsutil"
	"github.com/parleyim/parley/internal/xmlstream"
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
func (s *Session) start() {
	now := time.Now()
	s.deadline = now.Add(s.srv.cfg.Limits.PreAuthTimeout.D())
	s.lastRead = now
	if s.srv.cfg.C2S.ParkAfter > 0 {
		if p, err := netpoll.Default(); err == nil {
			s.poll, _ = p.Register(s.c, s.onReadable)
		}
	}
	if s.poll == nil {
		go s.loop(wakeReadable)
		return
	}
	if !s.park() {
		go s.loop(wakeClose)
	}
}

// loop runs the session on the calling goroutine until it parks or ends.
func (s *Session) loop(why wakeReason) {
	for {
		err := s.step(why)
		if !errors.Is(err, errPark) {
			s.stop(err)
			return
		}
		if s.park() {
			return
		}
		why = wakeClose // not parked: closing, or the socket is gone
	}
}

// step does the one-time setup if needed, handles a timer wake-up and
// serves the stream until it parks (errPark) or ends.
func (s *Session) step(why wakeReason) error {
	if !s.started {
		if why == wakeClose || why == wakeTimer && s.directTLS {
			// Nothing was negotiated: no handshake for a closing or
			// timed-out connection.
			if why == wakeClose {
				return errClosing
			}
			return s.onIdle()
		}
		if err := s.setup(); err != nil {
			return err
		}
	}
	if why == wakeTimer {
		if err := s.onIdle(); err != nil {
			return err
		}
	}
	return s.serve(s.ctx)
}

// setup runs the direct TLS handshake (XEP-0368) and makes the decoder.
func (s *Session) setup() error {
	if s.directTLS {
		if err := s.handshake(s.srv.directTLS); err != nil {
			s.srv.log.Debug("direct TLS handshake failed", "peer", s.addr, "err", err)
			return err
		}
	}
	s.dec = xmlstream.NewDecoder(rateReaderFor(s), s.limitsPreAuth())
	s.started = true
	return nil
}

// onIdle handles the idle timer: a bound session that has been silent for
// the ping interval gets a ping and parks again; a session past its
// deadline (pre-auth, or an unanswered ping) times out.
func (s *Session) onIdle() error {
	if s.closing.Load() {
		return errClosing
	}
	if time.Now().Before(s.wakeAt()) {
		return errPark // a stale timer: nothing is due yet
	}
	if s.state == stateBound && !s.pingPending && s.pingIdle() {
		return errPark
	}
	return os.ErrDeadlineExceeded
}

// wakeAt is when the session needs attention without any input: the
// pre-auth deadline, the ping deadline, or the next ping.
func (s *Session) wakeAt() time.Time {
	if s.state != stateBound || s.pingPending {
		return s.deadline
	}
	return s.lastRead.Add(s.srv.cfg.C2S.PingInterval.D())
}

// canPark reports whether the reader may give up the goroutine after
// park_after of silence.
func (s *Session) canPark() bool {
	return s.poll != nil && !s.closing.Load()
}

// park hands the session to the poller. It reports false when the session
// cannot wait there (closing, or the socket is gone); the caller then keeps
// running it.
func (s *Session) park() bool {
	if s.dec != nil {
		s.dec.Release()
	}
	if tc, ok := s.conn().(*tls.Conn); ok {
		tlsutil.ReleaseBuffers(tc)
	}
	s.parkMu.Lock()
	defer s.parkMu.Unlock()
	if s.closing.Load() {
		return false
	}
	if err := s.poll.Arm(); err != nil {
		return false
	}
	s.parked = true
	d := time.Until(s.wakeAt())
	if s.parkTimer == nil {
		s.parkTimer = time.AfterFunc(d, s.onTimer)
	} else {
		s.parkTimer.Reset(d)
	}
	mParked.Inc()
	return true
}

// unpark takes the session from the poller; true means the caller now
// runs it.
func (s *Session) unpark() bool {
	s.parkMu.Lock()
	defer s.parkMu.Unlock()
	if !s.parked {
		return false
	}
	s.parked = false
	s.parkTimer.Stop()
	mParked.Dec()
	return true
}

func (s *Session) onReadable() {
	if s.unpark() {
		s.loop(wakeReadable)
	}
}

func (s *Session) onTimer() {
	if s.unpark() {
		s.loop(wakeTimer)
	}
}

// wake runs a parked session that is asked to close, so its owner can end
// it (close.go).
func (s *Session) wake() {
	if s.unpark() {
		go s.loop(wakeClose)
	}
}
