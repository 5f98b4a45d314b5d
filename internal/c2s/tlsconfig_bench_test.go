package c2s

import (
	"io"
	"log/slog"
	"testing"

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/tlsutil"
)

// BenchmarkTLSConfigFor measures what a STARTTLS costs before the
// handshake: the per-domain configuration is built once and shared, so a
// login allocates nothing here (it used to clone a tls.Config, about 1 KiB
// kept for the life of every TLS session).
func BenchmarkTLSConfigFor(b *testing.B) {
	cfg := config.Default()
	certs, err := tlsutil.Load(b.TempDir(), cfg.Domains, cfg.TLS)
	if err != nil {
		b.Fatal(err)
	}
	srv := NewServer(Deps{Config: cfg, Certs: certs, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	first := srv.tlsConfigFor("localhost")
	b.ReportAllocs()
	for b.Loop() {
		if srv.tlsConfigFor("localhost") != first {
			b.Fatal("configuration not shared")
		}
	}
}
