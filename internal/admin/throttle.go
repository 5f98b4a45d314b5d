package admin

import (
	"sync"
	"time"
)

// throttle counts failed logins per key (an address, an account) in the
// manner of limits.IPLimiter: max failures within window ban the key for
// ban.
type throttle struct {
	max         int
	window, ban time.Duration

	mu   sync.Mutex
	keys map[string]*failures
}

type failures struct {
	times       []time.Time
	bannedUntil time.Time
}

func newThrottle(max int, window, ban time.Duration) *throttle {
	return &throttle{max: max, window: window, ban: ban, keys: map[string]*failures{}}
}

// banned reports whether key may not try now.
func (t *throttle) banned(key string, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	f := t.keys[key]
	return f != nil && now.Before(f.bannedUntil)
}

// failed records a failure of key.
func (t *throttle) failed(key string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	f := t.keys[key]
	if f == nil {
		f = &failures{}
		t.keys[key] = f
	}
	cutoff := now.Add(-t.window)
	kept := f.times[:0]
	for _, at := range f.times {
		if at.After(cutoff) {
			kept = append(kept, at)
		}
	}
	f.times = append(kept, now)
	if len(f.times) >= t.max {
		f.bannedUntil = now.Add(t.ban)
		f.times = f.times[:0]
	}
}

// sweep forgets keys with nothing left to remember.
func (t *throttle) sweep(now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	cutoff := now.Add(-t.window)
	for k, f := range t.keys {
		if now.After(f.bannedUntil) && (len(f.times) == 0 || f.times[len(f.times)-1].Before(cutoff)) {
			delete(t.keys, k)
		}
	}
}
