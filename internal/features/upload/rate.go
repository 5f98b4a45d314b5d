package upload

import (
	"sync"
	"time"

	"github.com/parleyim/parley/internal/jid"
)

// maxBuckets is how many users' buckets are kept before full ones are
// dropped (a full bucket is the same as none).
const maxBuckets = 10000

// slotRate limits slot requests per user: a token bucket of perMinute
// tokens refilled at perMinute a minute.
type slotRate struct {
	perMinute int
	mu        sync.Mutex
	users     map[jid.JID]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newSlotRate(perMinute int) *slotRate {
	return &slotRate{perMinute: perMinute, users: map[jid.JID]*bucket{}}
}

// allow takes a token of user's at now; when there is none it returns
// false and when the next one comes (XEP-0363 §5 <retry stamp/>).
func (r *slotRate) allow(user jid.JID, now time.Time) (bool, time.Time) {
	if r == nil || r.perMinute <= 0 {
		return true, time.Time{}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	burst, perSec := float64(r.perMinute), float64(r.perMinute)/60
	b := r.users[user]
	if b == nil {
		r.prune(now, burst, perSec)
		b = &bucket{tokens: burst, last: now}
		r.users[user] = b
	}
	b.tokens = min(burst, b.tokens+now.Sub(b.last).Seconds()*perSec)
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return true, time.Time{}
	}
	wait := time.Duration((1 - b.tokens) / perSec * float64(time.Second))
	return false, now.Add(wait).Truncate(time.Second).Add(time.Second)
}

// prune drops the buckets that have refilled, once there are many.
func (r *slotRate) prune(now time.Time, burst, perSec float64) {
	if len(r.users) < maxBuckets {
		return
	}
	for u, b := range r.users {
		if b.tokens+now.Sub(b.last).Seconds()*perSec >= burst {
			delete(r.users, u)
		}
	}
}
