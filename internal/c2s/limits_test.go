package c2s_test

import (
	"strings"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/xmpptest"
)

// noExemption turns off the loopback exemption so per-IP limits apply to
// the test's 127.0.0.1 connections.
func noExemption(c *config.Config) { c.Limits.ExemptLoopback = false }

func TestAuthFailuresPerIPBan(t *testing.T) {
	srv := xmpptest.Start(t, noExemption, func(c *config.Config) {
		c.Limits.AuthFailuresPerIP = 3
		c.Limits.AuthBanDuration = config.Duration(time.Hour)
	})
	srv.AddUser(t, "alice@localhost", "pw")
	cfg := srv.TLSConfig(t, "localhost")
	r := srv.Raw(t)
	r.Open("localhost")
	r.StartTLS(cfg, "localhost")
	for i := 0; i < 2; i++ {
		if out := r.Plain("", "alice", "wrong"); !strings.Contains(out, "not-authorized") {
			t.Fatalf("attempt %d: %q", i, out)
		}
	}
	r.Plain("", "alice", "wrong") // the third failure crosses the limit
	if out, closed := r.ReadToEOF(wait); !closed || !strings.Contains(out, "policy-violation") {
		t.Fatalf("third failure: closed=%v %q", closed, out)
	}
	// The address is now refused before any TLS, even with the right password.
	again := srv.Raw(t)
	if out, closed := again.ReadToEOF(wait); !closed || !strings.Contains(out, "policy-violation") || !strings.Contains(out, "failed logins") {
		t.Fatalf("banned address: closed=%v %q", closed, out)
	}
}

// TestTrustedProxyExemptFromPerIPLimits: a connection from an address in
// limits.trusted_proxies is not counted against connections_per_ip (with
// the loopback exemption off, so the proxy entry is what exempts it).
func TestTrustedProxyExemptFromPerIPLimits(t *testing.T) {
	srv := xmpptest.Start(t, noExemption, func(c *config.Config) {
		c.Limits.ConnectionsPerIP = 1
		c.Limits.TrustedProxies = []string{"127.0.0.1", "::1"}
	})
	for i := range 3 {
		r := srv.Raw(t)
		r.Write(xmpptest.Header("localhost"))
		if out, err := r.ReadUntilAny([]string{"</stream:features>", "</stream:stream>"}, wait); err != nil || !strings.Contains(out, "stream:features") {
			t.Fatalf("connection %d from the trusted proxy: %v %q", i+1, err, out)
		}
	}
}

func TestConnectionsPerIP(t *testing.T) {
	srv := xmpptest.Start(t, noExemption, func(c *config.Config) { c.Limits.ConnectionsPerIP = 2 })
	a, b := srv.Raw(t), srv.Raw(t)
	a.Open("localhost")
	b.Open("localhost")
	third := srv.Raw(t)
	if out, closed := third.ReadToEOF(wait); !closed || !strings.Contains(out, "policy-violation") {
		t.Fatalf("third connection: closed=%v %q", closed, out)
	}
	a.Conn.Close()
	// Once a connection ends its slot is free again.
	deadline := time.Now().Add(wait)
	for {
		r := srv.Raw(t)
		r.Write(xmpptest.Header("localhost"))
		out, err := r.ReadUntilAny([]string{"</stream:features>", "</stream:stream>"}, wait)
		if err == nil && strings.Contains(out, "stream:features") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("slot not released: %q", out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestConnectionsPerIPDirectTLS: on the direct TLS port a refused
// connection is closed without plaintext (it would be garbage inside the
// TLS the client expects).
func TestConnectionsPerIPDirectTLS(t *testing.T) {
	srv := xmpptest.Start(t, noExemption, func(c *config.Config) { c.Limits.ConnectionsPerIP = 1 })
	held := srv.RawAt(t, srv.Addr("c2s-tls"))
	defer held.Conn.Close()
	refused := srv.RawAt(t, srv.Addr("c2s-tls"))
	if out, closed := refused.ReadToEOF(wait); !closed || out != "" {
		t.Fatalf("refused direct TLS connection: closed=%v %q", closed, out)
	}
}

func TestLoopbackExemptByDefault(t *testing.T) {
	srv := xmpptest.Start(t, func(c *config.Config) { c.Limits.ConnectionsPerIP = 1 })
	a, b := srv.Raw(t), srv.Raw(t)
	a.Open("localhost")
	if f := b.Open("localhost"); !strings.Contains(f, "starttls") {
		t.Fatalf("second loopback connection refused: %q", f)
	}
}
