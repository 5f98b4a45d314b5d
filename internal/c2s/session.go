package c2s

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/limits"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/netpoll"
	"github.com/parleyim/parley/internal/sasl"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/xmlstream"
)

// state is where a stream is in its negotiation.
type state int

const (
	stateConnected     state = iota // before TLS (if required) and SASL
	stateAuthenticated              // SASL done, resource not bound
	stateBound                      // resource bound: stanzas flow
)

// Session is one client connection. The run goroutine owns every field
// not marked otherwise.
type Session struct {
	srv       *Server
	addr      netip.Addr
	directTLS bool
	out       output

	// connMu guards c (replaced by the TLS connection after STARTTLS).
	connMu sync.Mutex
	c      net.Conn

	dec       *xmlstream.Decoder
	state     state
	id        string
	domain    string // the served domain this stream is for
	tls       *tls.ConnectionState
	user      jid.JID // bare JID after SASL
	full      jid.JID // full JID after bind; immutable once bound (read by router)
	fullStr   string
	sasl      *sasl.Server
	saslMech  string // as the client named it; see mechanismLabel
	saslUser  string // the username of the current or last exchange, for logs
	authFail  int    // failed logins on this stream (auth.go)
	preAuthN  int
	headerOut atomic.Bool // our stream header was sent

	ctx         context.Context // the server's run context
	started     bool            // setup done: direct TLS handshake, decoder
	done        func()          // the listener's bookkeeping, run once at the end
	deadline    time.Time       // absolute pre-auth deadline, or the ping's
	lastRead    time.Time       // when the client last sent bytes
	pingPending bool
	pingSeq     int

	// Parking (park.go). parkMu guards parked and parkTimer.
	poll      *netpoll.Handle
	parkMu    sync.Mutex
	parked    bool
	parkTimer *time.Timer

	scope    module.Scope    // work after the current stanza (module.AfterReply)
	scopeCtx context.Context // the run context carrying scope, made on first use

	available atomic.Bool
	priority  atomic.Int32
	closing   atomic.Bool
	closeOnce sync.Once
}

func newSession(ctx context.Context, srv *Server, c net.Conn, addr netip.Addr, directTLS bool) *Session {
	s := &Session{ctx: ctx, srv: srv, c: c, addr: addr, directTLS: directTLS, id: newStreamID()}
	s.out.s = s
	return s
}

func (s *Session) conn() net.Conn {
	s.connMu.Lock()
	defer s.connMu.Unlock()
	return s.c
}

// JID implements router.Session.
func (s *Session) JID() jid.JID { return s.full }

// Deliver implements router.Session.
func (s *Session) Deliver(el *stanza.Element) error {
	if err := s.out.deliver(el); err != nil {
		return err
	}
	mOutStanzas.Inc()
	return nil
}

// Presence implements router.Session.
func (s *Session) Presence() (bool, int) {
	return s.available.Load(), int(s.priority.Load())
}

// Close implements router.Session: it sends the stream error, the closing
// tag, and ends the connection after the peer closes its side (or a short
// grace period).
func (s *Session) Close(cond, text string) {
	s.closeOnce.Do(func() {
		s.closing.Store(true)
		mStreamErrors.WithLabelValues(cond).Inc()
		var b []byte
		if !s.headerOut.Load() {
			b = append(b, streamHeader(s.id, "", "")...)
		}
		if cond != "" {
			b = append(b, streamErrorXML(cond, text)...)
		}
		b = append(b, "</stream:stream>"...)
		s.finish(b)
		s.wake()
	})
}

// finish queues the final bytes, waits for them to be written, and gives
// the peer a moment to send its closing tag before the socket closes.
func (s *Session) finish(b []byte) {
	s.out.mu.Lock()
	alreadyClosed := s.out.closed
	s.out.mu.Unlock()
	if !alreadyClosed && s.out.raw(b, true) == nil {
		s.out.mu.Lock()
		done := s.out.done
		s.out.mu.Unlock()
		if done != nil {
			select {
			case <-done:
			case <-time.After(5 * time.Second):
			}
		}
	}
	c := s.conn()
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
}

func (s *Session) limitsPreAuth() xmlstream.Limits {
	l := s.srv.cfg.Limits
	return xmlstream.Limits{MaxElementBytes: l.PreAuthStanzaBytes, MaxDepth: min(l.MaxDepth, 16), MaxAttrs: l.MaxAttrs, MaxMemory: l.MaxStanzaMemory}
}

func (s *Session) limitsFull() xmlstream.Limits {
	l := s.srv.cfg.Limits
	return xmlstream.Limits{MaxElementBytes: l.MaxStanzaBytes, MaxDepth: l.MaxDepth, MaxAttrs: l.MaxAttrs, MaxMemory: l.MaxStanzaMemory}
}

func rateReaderFor(s *Session) io.Reader {
	return limits.NewRateReader(idleReader{s}, s.rate(), s.srv.cfg.Limits.BurstBytes)
}

// rate is the per-connection byte rate; no address is exempt from it (the
// loopback and trusted-proxy exemptions are for the per-IP limits only).
func (s *Session) rate() int {
	return s.srv.cfg.Limits.BytesPerSecond
}

// end turns the error that stopped serve into the right close.
func (s *Session) end(err error) {
	var se *StreamError
	var xe *xmlstream.Error
	switch {
	case s.closing.Load():
		// Close already sent our side; drain until the peer closes.
		s.drain()
	case errors.As(err, new(*handshakeError)):
		s.srv.log.Debug("TLS handshake failed", "peer", s.addr, "stream_id", s.id, "err", err)
	case errors.Is(err, xmlstream.ErrStreamClosed):
		s.Close("", "")
	case errors.As(err, &se):
		s.Close(se.Condition, se.Text)
	case errors.As(err, &xe):
		s.Close(xe.Condition, xe.Text)
	case isTimeout(err):
		s.Close("connection-timeout", "")
	case err == nil, errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
		// The peer went away; nothing can be sent.
	default:
		s.srv.log.Debug("connection error", "peer", s.addr, "jid", s.fullStr, "err", err)
	}
	s.conn().Close()
}

// drain reads what the peer still sends after our closing tag, until it
// closes or the grace deadline set by finish passes.
func (s *Session) drain() {
	for {
		if _, err := s.dec.Next(); err != nil {
			return
		}
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func (s *Session) cleanup(ctx context.Context) {
	if s.state == stateBound {
		s.srv.router.Unbind(s)
		mSessions.Dec()
		ev := &module.Event{From: s.full, Session: s.full, Conn: s}
		if err := s.srv.router.Registry().Notify(context.WithoutCancel(ctx), module.SessionClosed, ev); err != nil {
			s.srv.log.Warn("session-closed hooks failed", "jid", s.fullStr, "err", err)
		}
	}
	s.conn().Close()
}

// serve runs stream after stream (a restart after STARTTLS and SASL) until
// an error ends the connection or the connection parks (errPark). After
// parking it resumes where it stopped: the decoder keeps its state.
func (s *Session) serve(ctx context.Context) error {
	for {
		if s.dec.WantHeader() {
			if err := s.openStream(); err != nil {
				return err
			}
		}
		restart, err := s.readElements(ctx)
		if err != nil || !restart {
			return err
		}
	}
}

// readElements handles elements until the stream must restart.
func (s *Session) readElements(ctx context.Context) (restart bool, err error) {
	for {
		el, err := s.dec.Next()
		if err != nil {
			return false, err
		}
		if s.state != stateBound {
			s.preAuthN++
			if n := s.srv.cfg.Limits.PreAuthElements; n > 0 && s.preAuthN > n {
				return false, streamErr("policy-violation", "too many elements before authentication")
			}
		}
		restart, err = s.handle(ctx, el)
		if err != nil || restart {
			return restart, err
		}
	}
}

func (s *Session) handle(ctx context.Context, el *stanza.Element) (restart bool, err error) {
	if s.closing.Load() {
		return false, nil // we closed the stream (conflict, account removed): the rest is ignored
	}
	switch s.state {
	case stateConnected:
		return s.handlePreAuth(ctx, el)
	case stateAuthenticated:
		return false, s.handleBind(ctx, el)
	default:
		return false, s.handleStanza(ctx, el)
	}
}

// idleReader reads from the connection with deadlines: before login the
// absolute pre-auth deadline; after it, an idle timeout that triggers a
// server-to-client ping (XEP-0199), and a second one that ends the stream.
// A connection that can park stops waiting after park_after of silence and
// returns errPark (park.go).
type idleReader struct{ s *Session }

func (r idleReader) Read(p []byte) (int, error) {
	s := r.s
	for {
		c := s.conn()
		parkAt := time.Time{}
		if !s.closing.Load() {
			dl := s.wakeAt()
			if s.canPark() {
				parkAt = time.Now().Add(s.srv.cfg.C2S.ParkAfter.D())
				if parkAt.Before(dl) {
					dl = parkAt
				}
			}
			if err := c.SetReadDeadline(dl); err != nil {
				return 0, err
			}
		}
		n, err := c.Read(p)
		if n > 0 {
			s.pingPending = false
			s.lastRead = time.Now()
			return n, err
		}
		if isTimeout(err) && !s.closing.Load() {
			if !parkAt.IsZero() && time.Now().Before(s.wakeAt()) {
				return 0, errPark
			}
			if s.pingIdle() {
				continue
			}
		}
		return n, err
	}
}

// pingIdle sends a ping to a silent bound client and reports whether to
// keep waiting.
func (s *Session) pingIdle() bool {
	if s.state != stateBound || s.pingPending {
		return false
	}
	s.pingPending = true
	s.pingSeq++
	s.deadline = time.Now().Add(s.srv.cfg.C2S.PingTimeout.D())
	ping := stanza.New(stanza.NSClient, stanza.KindIQ).
		SetAttr("type", stanza.Get).
		SetAttr("id", "ping-"+strconv.Itoa(s.pingSeq)).
		SetAttr("from", s.domain).
		SetAttr("to", s.fullStr).
		Append(stanza.New(NSPing, "ping"))
	return s.Deliver(ping) == nil
}

func (s *Session) String() string { return fmt.Sprintf("c2s[%s %s]", s.addr, s.fullStr) }
