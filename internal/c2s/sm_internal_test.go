package c2s

import (
	"io"
	"log/slog"
	"math"
	"strings"
	"testing"

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/router"
	"github.com/parleyim/parley/internal/stanza"
)

// TestSMCountersWrap: both counters are modulo 2^32 (XEP-0198 §4): acks
// across the wrap drop exactly the stanzas they cover, an ack of more
// than was sent is refused across the wrap too, and the inbound count
// wraps to 0.
func TestSMCountersWrap(t *testing.T) {
	cfg := config.Default()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := &Server{cfg: cfg, router: router.New(log, module.NewRegistry(), cfg.Domains), log: log, domains: map[string]bool{"localhost": true}}
	s, _ := boundSession(t, srv, "alice@localhost/phone")
	if !s.smEnable(true, 0, nil) {
		t.Fatal("enable failed")
	}
	s.out.mu.Lock()
	s.sm.acked = math.MaxUint32 - 2 // as if 2^32-3 stanzas were acknowledged already
	s.out.mu.Unlock()
	for range 6 {
		if err := s.Deliver(stanza.New(stanza.NSClient, "message").SetAttr("to", "alice@localhost/phone")); err != nil {
			t.Fatal(err)
		}
	}
	s.out.mu.Lock()
	sent := s.sm.sent()
	s.out.mu.Unlock()
	if sent != 3 {
		t.Fatalf("sent = %d after 2^32-3+6 stanzas, want 3", sent)
	}
	if _, ok := s.out.smAck(4); ok {
		t.Error("an ack of 4 with 3 sent (across the wrap) was accepted")
	}
	if _, ok := s.out.smAck(math.MaxUint32); !ok {
		t.Fatal("ack of 2^32-1 refused")
	}
	if n := len(s.sm.items); n != 4 {
		t.Fatalf("%d held after acking 2 of 6, want 4", n)
	}
	if _, ok := s.out.smAck(1); !ok {
		t.Fatal("ack of 1 (across the wrap) refused")
	}
	if n := len(s.sm.items); n != 2 {
		t.Fatalf("%d held after acking 4 of 6, want 2", n)
	}
	if _, ok := s.out.smAck(0); ok {
		t.Error("an ack going backwards was accepted")
	}
	s.sm.inH.Store(math.MaxUint32)
	s.smHandled()
	if s.sm.inH.Load() != 0 {
		t.Errorf("inbound h after 2^32 stanzas = %d, want 0", s.sm.inH.Load())
	}
}

// TestSMValidation: the [sm] section's problems name the key.
func TestSMValidation(t *testing.T) {
	c := config.Default()
	c.SM.ResumeWindow = 0
	c.SM.MaxUnacked = 0
	c.SM.RequestAckAfter = -1
	c.SM.Location = "no-port"
	err := c.Validate()
	for _, key := range []string{"sm.resume_window", "sm.max_unacked", "sm.request_ack_after", "sm.location"} {
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("no problem reported for %s: %v", key, err)
		}
	}
}
