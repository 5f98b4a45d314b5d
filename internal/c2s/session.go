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

// Session is one client connection. The goroutine running it (its owner,
// see park.go) owns every field not marked otherwise.
type Session struct {
	srv       *Server
	addr      netip.Addr
	directTLS bool
	out       output

	// connMu guards c (replaced by the TLS connection after STARTTLS).
	connMu sync.Mutex
	c      net.Conn

	dec        *xmlstream.Decoder
	state      state
	id         string
	domain     string // the served domain this stream is for
	tls        *tls.ConnectionState
	tlsPending bool    // <proceed/> sent, handshake not done: no stream to write to
	user       jid.JID // bare JID after SASL
	full       jid.JID // full JID after bind; immutable once bound (read by router)
	fullStr    string
	sasl       *sasl.Server
	saslMech   string
	authFail   int
	preAuthN   int
	headerOut  atomic.Bool // our stream header was sent

	// ctx is the session's context, a child of the server's run context;
	// cancel ends it when the session ends (close.go).
	ctx         context.Context
	cancel      context.CancelFunc
	started     bool      // setup done: direct TLS handshake, decoder
	done        func()    // the listener's bookkeeping, run once at the end
	deadline    time.Time // absolute pre-auth deadline, or the ping's
	lastRead    time.Time // when the client last sent bytes
	pingPending bool
	pingSeq     int
	draining    bool // our closing tag is out: read what the peer still sends, without timers

	// Parking (park.go). parkMu guards parked and parkTimer.
	poll      *netpoll.Handle
	parkMu    sync.Mutex
	parked    bool
	parkTimer *time.Timer

	scope    module.Scope    // work after the current stanza (module.AfterReply)
	scopeCtx context.Context // the run context carrying scope, made on first use

	available atomic.Bool
	priority  atomic.Int32

	// Closing (close.go): closeMu guards the first close request, which
	// wins; closing is set once there is one.
	closeMu  sync.Mutex
	closeReq *closeRequest
	closing  atomic.Bool
}

func newSession(ctx context.Context, srv *Server, c net.Conn, addr netip.Addr, directTLS bool) *Session {
	s := &Session{srv: srv, c: c, addr: addr, directTLS: directTLS, id: stream.NewID()}
	s.ctx, s.cancel = context.WithCancel(ctx)
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

func (s *Session) limitsPreAuth() xmlstream.Limits {
	l := s.srv.cfg.Limits
	return xmlstream.Limits{MaxElementBytes: l.PreAuthStanzaBytes, MaxDepth: min(l.MaxDepth, 16), MaxAttrs: l.MaxAttrs}
}

func (s *Session) limitsFull() xmlstream.Limits {
	l := s.srv.cfg.Limits
	return xmlstream.Limits{MaxElementBytes: l.MaxStanzaBytes, MaxDepth: l.MaxDepth, MaxAttrs: l.MaxAttrs}
}

func rateReaderFor(s *Session) io.Reader {
	return limits.NewRateReader(idleReader{s}, s.rate(), s.srv.cfg.Limits.BurstBytes)
}

func (s *Session) rate() int {
	if s.srv.cfg.Limits.ExemptLoopback && s.addr.IsLoopback() {
		return 0
	}
	return s.srv.cfg.Limits.BytesPerSecond
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
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
		return false, s.handleBind(ctx, el)
	default:
		return false, s.handleStanza(ctx, el)
	}
}

// idleReader reads from the connection with deadlines: before login the
// absolute pre-auth deadline; after it, an idle timeout that triggers a
// server-to-client ping (XEP-0199), and a second one that ends the stream.
// A connection that can park stops waiting after park_after of silence and
// returns errPark (park.go). A close request (Close) makes it return
// errClosing, at once even when a read is in progress; once our closing
// tag is out (draining) it reads until the grace deadline close.go set.
type idleReader struct{ s *Session }

func (r idleReader) Read(p []byte) (int, error) {
	s := r.s
	for {
		c := s.conn()
		parkAt := time.Time{}
		if !s.draining {
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
			// After our deadline: a Close from now on moves it to the
			// past (interrupt), one before is seen here.
			if s.closing.Load() {
				return 0, errClosing
			}
		}
		n, err := c.Read(p)
		if n > 0 {
			s.pingPending = false
			s.lastRead = time.Now()
			return n, err
		}
		if s.draining || !isTimeout(err) {
			return n, err
		}
		if s.closing.Load() {
			return 0, errClosing
		}
		if !parkAt.IsZero() && time.Now().Before(s.wakeAt()) {
			return 0, errPark
		}
		if s.pingIdle() {
			continue
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
