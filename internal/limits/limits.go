package limits

import (
	"errors"
	"io"
	"net/netip"
	"sync"
	"time"

	"github.com/parleyim/parley/internal/config"
)

// Sentinel errors.
var (
	// ErrTooManyConnections means the address already holds its quota of connections.
	ErrTooManyConnections = errors.New("limits: too many connections from this address")
	// ErrBanned means the address failed authentication too often and must wait.
	ErrBanned = errors.New("limits: too many authentication failures from this address")
)

// IPLimiter counts connections and authentication failures per address.
type IPLimiter struct {
	cfg     config.Limits
	now     func() time.Time
	trusted []netip.Prefix // limits.trusted_proxies

	// mu guards conns and fails.
	mu    sync.Mutex
	conns map[netip.Addr]int
	fails map[netip.Addr]*failures

	// regMu guards regs: per address, the times of its in-band
	// registrations within the last RegistrationWindow (register.go).
	regMu sync.Mutex
	regs  map[netip.Addr][]time.Time
}

type failures struct {
	times       []time.Time
	bannedUntil time.Time
}

// NewIPLimiter returns a limiter with the given limits.
// Entries of cfg.TrustedProxies that do not parse (Config.Validate
// refuses them) are ignored.
func NewIPLimiter(cfg config.Limits) *IPLimiter {
	l := &IPLimiter{cfg: cfg, now: time.Now, conns: map[netip.Addr]int{}, fails: map[netip.Addr]*failures{}}
	for _, s := range cfg.TrustedProxies {
		if p, err := config.ParsePrefix(s); err == nil {
			l.trusted = append(l.trusted, p)
		}
	}
	return l
}

// exempt reports whether a is exempt from the per-IP limits: a loopback
// address with limits.exempt_loopback, or one in limits.trusted_proxies.
// Nothing exempts a connection from the per-connection byte rate.
func (l *IPLimiter) exempt(a netip.Addr) bool {
	a = a.Unmap()
	if l.cfg.ExemptLoopback && a.IsLoopback() {
		return true
	}
	for _, p := range l.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Acquire accounts a new connection from a. The caller must call release
// when the connection ends.
func (l *IPLimiter) Acquire(a netip.Addr) (release func(), err error) {
	a = a.Unmap()
	if l.exempt(a) {
		return func() {}, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if f := l.fails[a]; f != nil && l.now().Before(f.bannedUntil) {
		return nil, ErrBanned
	}
	if l.cfg.ConnectionsPerIP > 0 && l.conns[a] >= l.cfg.ConnectionsPerIP {
		return nil, ErrTooManyConnections
	}
	l.conns[a]++
	var once sync.Once
	return func() { once.Do(func() { l.releaseConn(a) }) }, nil
}

func (l *IPLimiter) releaseConn(a netip.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conns[a] <= 1 {
		delete(l.conns, a)
		return
	}
	l.conns[a]--
}

// AuthFailed records a failed authentication from a. It returns ErrBanned
// when this failure crossed the limit.
func (l *IPLimiter) AuthFailed(a netip.Addr) error {
	a = a.Unmap()
	if l.exempt(a) || l.cfg.AuthFailuresPerIP <= 0 {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	f := l.fails[a]
	if f == nil {
		f = &failures{}
		l.fails[a] = f
	}
	cutoff := now.Add(-l.cfg.AuthFailureWindow.D())
	kept := f.times[:0]
	for _, t := range f.times {
		if t.After(cutoff) {
			kept = append(kept, t)
		}
	}
	f.times = append(kept, now)
	if len(f.times) >= l.cfg.AuthFailuresPerIP {
		f.bannedUntil = now.Add(l.cfg.AuthBanDuration.D())
		f.times = f.times[:0]
		return ErrBanned
	}
	return nil
}

// Banned reports whether a is currently refused.
func (l *IPLimiter) Banned(a netip.Addr) bool {
	a = a.Unmap()
	if l.exempt(a) {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.fails[a]
	return f != nil && l.now().Before(f.bannedUntil)
}

// Sweep forgets expired failure and registration records; call it
// periodically.
func (l *IPLimiter) Sweep() {
	l.sweepRegistrations(l.now())
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	cutoff := now.Add(-l.cfg.AuthFailureWindow.D())
	for a, f := range l.fails {
		if now.After(f.bannedUntil) && (len(f.times) == 0 || f.times[len(f.times)-1].Before(cutoff)) {
			delete(l.fails, a)
		}
	}
}

// RateReader limits the bytes per second read through it with a token
// bucket. Blocking the reader is the back-pressure: TCP flow control then
// slows the peer down.
type RateReader struct {
	R io.Reader
	b *Bucket
}

// NewRateReader wraps r; rate <= 0 means unlimited.
func NewRateReader(r io.Reader, rate, burst int) io.Reader {
	b := NewBucket(rate, burst)
	if b == nil {
		return r
	}
	return &RateReader{R: r, b: b}
}

// Read implements io.Reader.
func (rr *RateReader) Read(p []byte) (int, error) {
	if d := rr.b.Take(0, time.Now()); d > 0 {
		time.Sleep(d)
	}
	n, err := rr.R.Read(p)
	rr.b.Take(n, time.Now())
	return n, err
}

// Bucket is a token bucket of bytes: it refills at rate bytes per second
// up to burst, and says how long a peer that spent more must wait. The
// TCP reader (RateReader) and BOSH (whose bodies come on many
// connections) share it. Safe for concurrent use.
type Bucket struct {
	mu     sync.Mutex
	rate   float64 // bytes per second
	burst  float64
	tokens float64
	last   time.Time
}

// NewBucket returns a full bucket, or nil (unlimited) when rate <= 0; a
// burst below rate is rate.
func NewBucket(rate, burst int) *Bucket {
	if rate <= 0 {
		return nil
	}
	if burst < rate {
		burst = rate
	}
	return &Bucket{rate: float64(rate), burst: float64(burst), tokens: float64(burst), last: time.Now()}
}

// Take spends n bytes at now and returns how long the spender must wait
// before its next bytes are read: 0 while within the rate and burst.
func (b *Bucket) Take(n int, now time.Time) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	if now.After(b.last) {
		b.tokens += now.Sub(b.last).Seconds() * b.rate
		b.last = now
	}
	if b.tokens > b.burst {
		b.tokens = b.burst
	}
	b.tokens -= float64(n)
	if b.tokens >= 0 {
		return 0
	}
	return time.Duration(-b.tokens / b.rate * float64(time.Second))
}
