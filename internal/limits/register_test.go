package limits

import (
	"errors"
	"net/netip"
	"testing"
	"time"
)

func TestRegistrationsPerIP(t *testing.T) {
	cases := []struct {
		name   string
		exempt bool
		addr   netip.Addr
		limit  int
		want   int // registrations accepted out of 5 in one instant
	}{
		{"remote, limit 2", true, remote, 2, 2},
		{"loopback exempt", true, netip.MustParseAddr("127.0.0.1"), 2, 5},
		{"loopback not exempt", false, netip.MustParseAddr("::1"), 2, 2},
		{"IPv4-mapped counts as IPv4", true, netip.MustParseAddr("::ffff:192.0.2.7"), 1, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l, _ := limiter(tc.exempt)
			l.cfg.RegistrationsPerIPPerHour = tc.limit
			got := 0
			for range 5 {
				if _, err := l.ReserveRegistration(tc.addr); err == nil {
					got++
				} else if !errors.Is(err, ErrTooManyRegistrations) {
					t.Fatalf("unexpected error %v", err)
				}
			}
			if got != tc.want {
				t.Errorf("accepted %d, want %d", got, tc.want)
			}
		})
	}
}

func TestRegistrationWindowAndRelease(t *testing.T) {
	l, now := limiter(true)
	l.cfg.RegistrationsPerIPPerHour = 2
	r1, err := l.ReserveRegistration(remote)
	if err != nil {
		t.Fatal(err)
	}
	*now = now.Add(10 * time.Minute)
	if _, err := l.ReserveRegistration(remote); err != nil {
		t.Fatal(err)
	}
	if _, err := l.ReserveRegistration(remote); !errors.Is(err, ErrTooManyRegistrations) {
		t.Fatalf("third = %v", err)
	}
	// A failed registration gives its slot back, once.
	r1()
	r1()
	if _, err := l.ReserveRegistration(remote); err != nil {
		t.Fatalf("after release: %v", err)
	}
	if _, err := l.ReserveRegistration(remote); !errors.Is(err, ErrTooManyRegistrations) {
		t.Fatalf("release freed two slots: %v", err)
	}
	// Another address has its own quota.
	if _, err := l.ReserveRegistration(netip.MustParseAddr("198.51.100.1")); err != nil {
		t.Fatalf("other address: %v", err)
	}
	// An hour later the slots are free again.
	*now = now.Add(RegistrationWindow + time.Second)
	if _, err := l.ReserveRegistration(remote); err != nil {
		t.Fatalf("after the window: %v", err)
	}
	// Sweep forgets records once they are all older than the window.
	*now = now.Add(2 * RegistrationWindow)
	l.Sweep()
	l.regMu.Lock()
	n := len(l.regs)
	l.regMu.Unlock()
	if n != 0 {
		t.Errorf("%d addresses remembered after sweep", n)
	}
}

func BenchmarkReserveRegistration(b *testing.B) {
	l, _ := limiter(true)
	l.cfg.RegistrationsPerIPPerHour = 1 << 30
	b.ReportAllocs()
	for b.Loop() {
		release, _ := l.ReserveRegistration(remote)
		release()
	}
}
