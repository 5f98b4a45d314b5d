package limits

import (
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/config"
)

func limiter(exempt bool) (*IPLimiter, *time.Time) {
	cfg := config.Default().Limits
	cfg.ConnectionsPerIP = 2
	cfg.AuthFailuresPerIP = 3
	cfg.AuthFailureWindow = config.Duration(time.Minute)
	cfg.AuthBanDuration = config.Duration(10 * time.Minute)
	cfg.ExemptLoopback = exempt
	l := NewIPLimiter(cfg)
	now := time.Unix(1000, 0)
	l.now = func() time.Time { return now }
	return l, &now
}

var remote = netip.MustParseAddr("192.0.2.7")

func TestConnectionsPerIP(t *testing.T) {
	l, _ := limiter(true)
	r1, err1 := l.Acquire(remote)
	_, err2 := l.Acquire(remote)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if _, err := l.Acquire(remote); !errors.Is(err, ErrTooManyConnections) {
		t.Fatalf("third = %v", err)
	}
	r1()
	r1() // releasing twice must not free two slots
	if _, err := l.Acquire(remote); err != nil {
		t.Fatalf("after release: %v", err)
	}
	if _, err := l.Acquire(remote); !errors.Is(err, ErrTooManyConnections) {
		t.Fatalf("double release freed a second slot: %v", err)
	}
	for i := 0; i < 10; i++ {
		if _, err := l.Acquire(netip.MustParseAddr("127.0.0.1")); err != nil {
			t.Fatalf("loopback limited: %v", err)
		}
	}
}

func TestAuthFailureBanExpires(t *testing.T) {
	l, now := limiter(true)
	for i := 0; i < 2; i++ {
		if err := l.AuthFailed(remote); err != nil {
			t.Fatalf("failure %d: %v", i, err)
		}
	}
	// Failures older than the window are forgotten.
	*now = now.Add(2 * time.Minute)
	if err := l.AuthFailed(remote); err != nil {
		t.Fatalf("old failures counted: %v", err)
	}
	l.AuthFailed(remote)
	if err := l.AuthFailed(remote); !errors.Is(err, ErrBanned) {
		t.Fatalf("third failure in the window: %v", err)
	}
	if !l.Banned(remote) {
		t.Fatal("not banned")
	}
	if _, err := l.Acquire(remote); !errors.Is(err, ErrBanned) {
		t.Fatalf("banned address connected: %v", err)
	}
	*now = now.Add(11 * time.Minute)
	if l.Banned(remote) {
		t.Fatal("ban did not expire")
	}
	l.Sweep()
	if len(l.fails) != 0 {
		t.Fatal("sweep kept an expired record")
	}
}

func TestLoopbackExemptionConfigurable(t *testing.T) {
	l, _ := limiter(false)
	lo := netip.MustParseAddr("::1")
	l.Acquire(lo)
	l.Acquire(lo)
	if _, err := l.Acquire(lo); !errors.Is(err, ErrTooManyConnections) {
		t.Fatalf("loopback not limited with exemption off: %v", err)
	}
}

func TestTrustedProxies(t *testing.T) {
	l, _ := limiter(false)
	l = NewIPLimiter(func() config.Limits {
		cfg := l.cfg
		cfg.TrustedProxies = []string{"192.0.2.0/24", "2001:db8::1", "not an address"}
		return cfg
	}())
	for _, a := range []string{"192.0.2.7", "::ffff:192.0.2.200", "2001:db8::1"} {
		addr := netip.MustParseAddr(a)
		for i := range 5 {
			if _, err := l.Acquire(addr); err != nil {
				t.Fatalf("trusted %s limited at connection %d: %v", a, i+1, err)
			}
		}
		for range 20 {
			if err := l.AuthFailed(addr); err != nil {
				t.Fatalf("trusted %s banned: %v", a, err)
			}
		}
	}
	// Everything else is limited, loopback included (exempt_loopback is off).
	for _, a := range []string{"198.51.100.1", "2001:db8::2", "127.0.0.1"} {
		addr := netip.MustParseAddr(a)
		l.Acquire(addr)
		l.Acquire(addr)
		if _, err := l.Acquire(addr); !errors.Is(err, ErrTooManyConnections) {
			t.Fatalf("%s not limited: %v", a, err)
		}
	}
}

// TestBucket: within the burst nothing waits; past it the wait is the
// debt at the rate; time refills it up to the burst only.
func TestBucket(t *testing.T) {
	if NewBucket(0, 100) != nil {
		t.Fatal("rate 0 is not unlimited")
	}
	t0 := time.Unix(1000, 0)
	b := NewBucket(100, 200)
	b.last = t0
	if d := b.Take(200, t0); d != 0 {
		t.Errorf("within the burst: wait %v", d)
	}
	if d := b.Take(50, t0); d != 500*time.Millisecond {
		t.Errorf("50 bytes over at 100 B/s: wait %v", d)
	}
	if d := b.Take(0, t0.Add(500*time.Millisecond)); d != 0 {
		t.Errorf("after the debt is paid: wait %v", d)
	}
	if d := b.Take(250, t0.Add(time.Hour)); d != 500*time.Millisecond {
		t.Errorf("refill beyond the burst: wait %v", d)
	}
}
