package c2s

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/parleyim/parley/internal/account"
	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/limits"
	"github.com/parleyim/parley/internal/router"
	"github.com/parleyim/parley/internal/sockio"
	"github.com/parleyim/parley/internal/storage"
	"github.com/parleyim/parley/internal/stream"
	"github.com/parleyim/parley/internal/tlsutil"
)

// Deps are what the client service needs from the rest of the server.
type Deps struct {
	Config   config.Config
	Router   *router.Router
	Accounts *account.Store
	Certs    *tlsutil.Certs
	Limiter  *limits.IPLimiter
	Log      *slog.Logger
	// Tokens stores XEP-0484 FAST tokens; nil offers no FAST.
	Tokens *storage.FastTokens
}

// Server accepts client connections on any number of listeners.
type Server struct {
	cfg      config.Config
	router   *router.Router
	accounts *account.Store
	certs    *tlsutil.Certs
	limiter  *limits.IPLimiter
	log      *slog.Logger
	tokens   *storage.FastTokens
	domains  map[string]bool
	// directTLS is the configuration of the XEP-0368 port: SNI picks the
	// certificate and ALPN announces xmpp-client.
	directTLS *tls.Config
	// startTLS caches tlsConfigFor's answer per domain (string → *tls.Config):
	// one shared configuration instead of a clone per connection.
	startTLS sync.Map

	// mu guards conns and closing.
	mu      sync.Mutex
	conns   map[*Session]struct{}
	closing bool
	wg      sync.WaitGroup

	sm smRegistry // resumable sessions by id (resume.go)
}

// NewServer returns a client service.
func NewServer(d Deps) *Server {
	s := &Server{
		cfg: d.Config, router: d.Router, accounts: d.Accounts, certs: d.Certs,
		limiter: d.Limiter, log: d.Log.With("component", "c2s"), tokens: d.Tokens,
		domains: map[string]bool{}, conns: map[*Session]struct{}{},
	}
	for _, dom := range d.Config.Domains {
		s.domains[dom] = true
	}
	if d.Certs != nil {
		s.directTLS = d.Certs.TLSConfig().Clone()
		s.directTLS.NextProtos = []string{"xmpp-client"}
	}
	return s
}

// Serve accepts connections on ln until ctx is cancelled or ln fails. With
// directTLS the TLS handshake comes first (XEP-0368); otherwise the stream
// starts in plaintext and offers STARTTLS.
func (s *Server) Serve(ctx context.Context, ln net.Listener, directTLS bool) error {
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	var backoff time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || isTemporary(err) {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				s.log.Warn("accept failed; retrying", "err", err, "backoff", backoff)
				time.Sleep(backoff)
				continue
			}
			return err
		}
		backoff = 0
		s.accept(ctx, c, directTLS)
	}
}

func isTemporary(err error) bool {
	t, ok := err.(interface{ Temporary() bool })
	return ok && t.Temporary()
}

func (s *Server) accept(ctx context.Context, c net.Conn, directTLS bool) {
	addr := remoteAddr(c)
	release, err := s.limiter.Acquire(addr)
	if err != nil {
		s.refuse(c, addr, err, directTLS)
		return
	}
	sess, tr := newTCPSession(ctx, s, sockio.Wrap(c), addr, directTLS)
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		release()
		c.Close()
		return
	}
	s.conns[sess] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	mConnections.Inc()
	tr.slot = release
	tr.start()
}

// ended is the listener's bookkeeping for a connection that ended. (A
// method rather than a closure per connection: an idle connection's size
// counts.)
func (s *Server) ended(sess *Session) {
	mConnections.Dec()
	sess.info.Store(nil)
	s.mu.Lock()
	delete(s.conns, sess)
	s.mu.Unlock()
	s.wg.Done()
}

// refuse answers a connection we will not serve with a stream error, in
// plaintext (we do not spend a TLS handshake on it); on the direct TLS
// port, where plaintext would be garbage to the client, it just closes.
func (s *Server) refuse(c net.Conn, addr netip.Addr, err error, directTLS bool) {
	defer c.Close()
	if directTLS {
		s.log.Info("connection refused", "peer", addr, "err", err)
		return
	}
	s.log.Info("connection refused", "peer", addr, "condition", stream.PolicyViolation, "err", err)
	text := "too many connections from your address"
	if errors.Is(err, limits.ErrBanned) {
		text = "too many failed logins from your address; try again later"
	}
	e := stream.New(stream.PolicyViolation, text)
	mStreamErrors.WithLabelValues(e.Condition).Inc()
	b := stream.Header{ContentNS: stream.NSClient}.AppendXML(nil)
	b = append(e.AppendXML(b), stream.Close...)
	c.SetWriteDeadline(time.Now().Add(time.Second))
	c.Write(b)
}

// serves reports whether domain is one of ours.
func (s *Server) serves(domain string) bool { return s.domains[domain] }

func remoteAddr(c net.Conn) netip.Addr {
	if ta, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		a, _ := netip.AddrFromSlice(ta.IP)
		return a.Unmap()
	}
	return netip.IPv6Loopback() // pipes in tests
}

// Shutdown closes every stream with <system-shutdown/> and waits (until
// ctx ends) for the connections to finish.
func (s *Server) Shutdown(ctx context.Context) {
	s.mu.Lock()
	s.closing = true
	conns := make([]*Session, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.ctx.cancel() // what a session is doing for its client stops
		c.Close(stream.SystemShutdown, "the server is shutting down")
	}
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		s.mu.Lock()
		for c := range s.conns {
			c.abort()
		}
		s.mu.Unlock()
		<-done
	}
}

// tlsConfigFor returns the TLS configuration for a STARTTLS on a stream to
// domain: the certificate is the domain's, whatever SNI says. It is built
// once per domain and shared (a tls.Config is safe for concurrent use).
func (s *Server) tlsConfigFor(domain string) *tls.Config {
	if cfg, ok := s.startTLS.Load(domain); ok {
		return cfg.(*tls.Config)
	}
	cfg, _ := s.startTLS.LoadOrStore(domain, s.newTLSConfigFor(domain))
	return cfg.(*tls.Config)
}

func (s *Server) newTLSConfigFor(domain string) *tls.Config {
	cfg := s.certs.TLSConfig().Clone()
	// Asked at each handshake: a reload (tlsutil.Certs.Reload) applies.
	cfg.GetCertificate = func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return s.certs.Certificate(domain), nil }
	return cfg
}
