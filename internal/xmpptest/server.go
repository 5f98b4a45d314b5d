package xmpptest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/server"
)

// Server is a running Parley for one test.
type Server struct {
	*server.Server
	Config config.Config
	t      testing.TB
}

// Option changes the configuration before the server starts.
type Option func(*config.Config)

// Start runs a server on 127.0.0.1 with random ports and a temporary data
// directory; it is shut down when the test ends.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	return StartLogged(t, nil, opts...)
}

// StartLogged is Start with the server's log going to h as well (at debug
// level), for tests that check what the server logs.
func StartLogged(t testing.TB, h slog.Handler, opts ...Option) *Server {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.C2S.Addr = "127.0.0.1:0"
	cfg.C2S.TLSAddr = "127.0.0.1:0"
	cfg.Admin.Addr = "127.0.0.1:0"
	cfg.HTTP.Addr = "127.0.0.1:0"
	cfg.HTTP.TLSAddr = "127.0.0.1:0"
	// Federation is off unless a test turns it on (internal/s2s tests):
	// a stanza to another domain is bounced at once, without DNS.
	cfg.S2S.Enabled = false
	cfg.S2S.Addr = "127.0.0.1:0"
	cfg.Limits.AuthFailureDelay = config.Duration(10 * time.Millisecond)
	// Tests push data over loopback far faster than a client would (the
	// byte rate, which applies to loopback too, has tests of its own that
	// set it).
	cfg.Limits.BytesPerSecond = 0
	cfg.Auth.ScramIterations = 4096
	// The server's XEP-0092 query to each client would be one more stanza
	// in every test's stream; the tests of the query turn it on.
	cfg.Clients.AskVersion = false
	for _, o := range opts {
		o(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("xmpptest: config: %v", err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() || os.Getenv("PARLEY_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if h != nil {
		log = slog.New(teeHandler{log.Handler(), h})
	}
	ctx := context.Background()
	srv, err := server.New(ctx, cfg, log)
	if err != nil {
		t.Fatalf("xmpptest: new server: %v", err)
	}
	if err := srv.Start(ctx); err != nil {
		t.Fatalf("xmpptest: start: %v", err)
	}
	s := &Server{Server: srv, Config: cfg, t: t}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("xmpptest: shutdown: %v", err)
		}
	})
	return s
}

// FreeAddr returns an address nobody listens on, for servers that must
// know each other's address before they start (federating ones): a free
// port of a random address of its own in 127.0.0.0/8 (outside
// 127.0.0.0/16, which the interop tests use). A released port of
// 127.0.0.1 could be taken by another test before the server listens;
// one of a random loopback address is taken only by a listener on all
// addresses that happens to get the same port.
func FreeAddr(t testing.TB) string {
	t.Helper()
	for range 100 {
		ip := netip.AddrFrom4([4]byte{127, byte(1 + rand.IntN(254)), byte(rand.IntN(256)), byte(1 + rand.IntN(254))})
		if ln, err := net.Listen("tcp", netip.AddrPortFrom(ip, 0).String()); err == nil {
			addr := ln.Addr().String()
			ln.Close()
			return addr
		}
	}
	t.Fatalf("xmpptest: no free loopback address")
	return ""
}

// AddUser creates an account and returns its bare JID.
func (s *Server) AddUser(t testing.TB, address, password string) jid.JID {
	t.Helper()
	j, err := jid.Parse(address)
	if err != nil {
		t.Fatalf("xmpptest: bad user %q: %v", address, err)
	}
	if err := s.Accounts().Create(context.Background(), j, password); err != nil {
		t.Fatalf("xmpptest: create %s: %v", j, err)
	}
	return j
}

// RootCAs returns a pool trusting the server's generated certificates.
func (s *Server) RootCAs(t testing.TB) *x509.CertPool {
	t.Helper()
	pool := x509.NewCertPool()
	for _, d := range s.Config.Domains {
		pem, err := os.ReadFile(filepath.Join(s.Config.DataDir, "certs", d+".crt"))
		if err != nil {
			t.Fatalf("xmpptest: read cert: %v", err)
		}
		pool.AppendCertsFromPEM(pem)
	}
	return pool
}

// TLSConfig returns a client TLS configuration that verifies the server's
// certificate for domain.
func (s *Server) TLSConfig(t testing.TB, domain string) *tls.Config {
	return &tls.Config{ServerName: domain, RootCAs: s.RootCAs(t), MinVersion: tls.VersionTLS12}
}

// teeHandler sends each record to two handlers.
type teeHandler struct{ a, b slog.Handler }

func (t teeHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return t.a.Enabled(ctx, l) || t.b.Enabled(ctx, l)
}

func (t teeHandler) Handle(ctx context.Context, r slog.Record) error {
	var err error
	if t.a.Enabled(ctx, r.Level) {
		err = t.a.Handle(ctx, r.Clone())
	}
	if t.b.Enabled(ctx, r.Level) {
		err = errors.Join(err, t.b.Handle(ctx, r.Clone()))
	}
	return err
}

func (t teeHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return teeHandler{t.a.WithAttrs(as), t.b.WithAttrs(as)}
}

func (t teeHandler) WithGroup(name string) slog.Handler {
	return teeHandler{t.a.WithGroup(name), t.b.WithGroup(name)}
}
