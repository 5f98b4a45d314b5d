package xmpptest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
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
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.C2S.Addr = "127.0.0.1:0"
	cfg.C2S.TLSAddr = "127.0.0.1:0"
	cfg.Admin.Addr = "127.0.0.1:0"
	cfg.Limits.AuthFailureDelay = config.Duration(10 * time.Millisecond)
	cfg.Auth.ScramIterations = 4096
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
