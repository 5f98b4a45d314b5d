package c2s

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/stream"
	"github.com/parleyim/parley/internal/xmlstream"
)

// state is where a stream is in its negotiation.
type state int

const (
	stateConnected     state = iota // before TLS (if required) and SASL
	stateAuthenticated              // SASL done, resource not bound
	stateBound                      // resource bound: stanzas flow
)

// Session is one client session: the stream's negotiation state, the
// bound address, presence, the output queue and the hooks. Its bytes go
// through a transport (transport.go), whose goroutine runs it: the owner,
// which owns every field not marked otherwise.
type Session struct {
	srv  *Server
	tr   transport
	addr netip.Addr // the peer's address
	out  output

	state    state
	id       string
	domain   string  // the served domain this stream is for
	user     jid.JID // bare JID after SASL
	full     jid.JID // full JID after bind; immutable once bound (read by router)
	fullStr  string
	login    *loginState // SASL before login (auth.go); nil once logged in
	preAuthN int

	// ctx is the session's context (context.go), ended when the session
	// ends (close.go) or the server shuts down.
	ctx         sessionContext
	deadline    time.Time // absolute pre-auth deadline, or the ping's
	lastRead    time.Time // when the client last sent bytes
	pingPending bool
	pingSeq     int32 // beside pingPending: no padding (TestIdleConnectionSize)

	scope    module.Scope    // work after the current stanza (module.AfterReply)
	scopeCtx context.Context // the run context carrying scope, made on first use
	pl       *pipeline       // deferred stanza work (pipeline.go), made on first use

	available atomic.Bool
	priority  atomic.Int32

	// info is what administrators see of the session (info.go), nil until
	// it authenticates; replaced whole, from any goroutine. (It was a
	// server-wide sync.Map once: its entry cost a bound session about
	// 150 bytes more than this pointer.)
	info atomic.Pointer[Info]

	// sm is the stream management state (sm.go, resume.go), nil until
	// <enable/>; set by the owner under closeMu and out.mu.
	sm *smState

	// Closing (close.go): closeMu guards the first close request, which
	// wins; closing is set once there is one.
	closeMu   sync.Mutex
	closeReq  *closeRequest
	closing   atomic.Bool
	headerOut atomic.Bool // our stream header was sent (beside closing: no padding)
}

// tcpSession is a session and its TCP transport in one allocation: an
// idle connection costs one object.
type tcpSession struct {
	Session
	tcp tcpTransport
}

// newTCPSession returns a session on the TCP connection c.
func newTCPSession(ctx context.Context, srv *Server, c net.Conn, addr netip.Addr, directTLS bool) (*Session, *tcpTransport) {
	x := &tcpSession{}
	s, t := &x.Session, &x.tcp
	s.srv, s.tr, s.addr, s.id = srv, t, addr, stream.NewID()
	s.ctx.parent = ctx
	s.out.s = s
	t.s, t.c, t.directTLS = s, c, directTLS
	return s, t
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

func (s *Session) limitsPreAuth() xmlstream.Limits {
	l := s.srv.cfg.Limits
	return xmlstream.Limits{MaxElementBytes: l.PreAuthStanzaBytes, MaxDepth: min(l.MaxDepth, 16), MaxAttrs: l.MaxAttrs, MaxMemory: l.MaxStanzaMemory}
}

func (s *Session) limitsFull() xmlstream.Limits {
	l := s.srv.cfg.Limits
	return xmlstream.Limits{MaxElementBytes: l.MaxStanzaBytes, MaxDepth: l.MaxDepth, MaxAttrs: l.MaxAttrs, MaxMemory: l.MaxStanzaMemory}
}

// rate is the per-connection byte rate; no address is exempt from it (the
// loopback and trusted-proxy exemptions are for the per-IP limits only).
func (s *Session) rate() int {
	return s.srv.cfg.Limits.BytesPerSecond
}

// serve runs stream after stream (a restart after STARTTLS and SASL) until
// an error ends the connection or the connection parks (errPark). After
// parking it resumes where it stopped: the decoder keeps its state.
func (s *Session) serve(ctx context.Context) error {
	for {
		if s.tr.WantHeader() {
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
		el, err := s.tr.Next()
		if err != nil {
			return false, err
		}
		if s.state != stateBound {
			s.preAuthN++
			if n := s.srv.cfg.Limits.PreAuthElements; n > 0 && s.preAuthN > n {
				return false, stream.New(stream.PolicyViolation, "too many elements before authentication")
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
		return false, errClosing // asked to close (conflict, account removed): the rest is not handled
	}
	switch s.state {
	case stateConnected:
		return s.handlePreAuth(ctx, el)
	case stateAuthenticated:
		if el.Space == NSSM {
			return false, s.handleSMUnbound(ctx, el)
		}
		return false, s.handleBind(ctx, el)
	default:
		return false, s.handleStanza(ctx, el)
	}
}

// heard notes that the client sent bytes: it is alive.
func (s *Session) heard() {
	s.pingPending = false
	s.lastRead = time.Now()
}

// wakeAt is when the session needs attention without any input: the
// pre-auth deadline, the ping deadline, or the next ping.
func (s *Session) wakeAt() time.Time {
	if s.state != stateBound || s.pingPending {
		return s.deadline
	}
	return s.lastRead.Add(s.srv.cfg.C2S.PingInterval.D())
}

// onIdle handles the session's wake time passing without input: a bound
// session that has been silent for the ping interval gets a ping and may
// park again; a session past its deadline (pre-auth, or an unanswered
// ping) times out.
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
		SetAttr("id", "ping-"+strconv.Itoa(int(s.pingSeq))).
		SetAttr("from", s.domain).
		SetAttr("to", s.fullStr).
		Append(stanza.New(NSPing, "ping"))
	return s.Deliver(ping) == nil
}

func (s *Session) String() string { return fmt.Sprintf("c2s[%s %s]", s.addr, s.fullStr) }
