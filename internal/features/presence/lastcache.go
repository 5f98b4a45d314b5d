package presence

import (
	"sync"
	"time"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/stanza"
)

// Bounds of the last-presence cache.
const (
	// lastCacheTTL is how long an entry read from or written to the
	// database is trusted. Only this process writes presence_last, so
	// within it the cache is exact; the TTL bounds what it can miss from
	// elsewhere (an account deleted by the CLI, another node later).
	lastCacheTTL = time.Minute
	// lastCacheMax bounds the entries (each holds one small parsed
	// presence, or none).
	lastCacheMax = 16384
)

// lastCache remembers, per account, the last unavailable presence as
// stored (parsed; callers get copies, see lastEntry) or that there is
// none, so that the probes of a login storm do not read and parse the same
// contacts' presences again and again.
type lastCache struct {
	mu    sync.Mutex
	m     map[jid.JID]lastEntry
	puts  uint64           // bumped by every put, see snapshot/fill
	clock func() time.Time // nil: time.Now (tests set it)
}

func (c *lastCache) now() time.Time {
	if c.clock != nil {
		return c.clock()
	}
	return time.Now()
}

type lastEntry struct {
	el      *stanza.Element // nil: none stored; never handed out (Copy it)
	at      time.Time
	expires time.Time
}

// get returns user's entry if it is fresh.
func (c *lastCache) get(user jid.JID) (lastEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[user]
	if !ok || c.now().After(e.expires) {
		return lastEntry{}, false
	}
	return e, true
}

// put records what was just written for user (el nil: unknown, forget);
// el must not be changed afterwards.
func (c *lastCache) put(user jid.JID, el *stanza.Element, at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.puts++
	if el == nil {
		delete(c.m, user)
		return
	}
	c.setLocked(user, lastEntry{el: el, at: at, expires: c.now().Add(lastCacheTTL)})
}

// snapshot returns the put counter, to be passed to fill.
func (c *lastCache) snapshot() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.puts
}

// fill records what a database read found for users (absent from found:
// none stored), unless a put happened since snapshot: the read may then
// be older than what the cache has.
func (c *lastCache) fill(snap uint64, users []jid.JID, found map[jid.JID]lastEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.puts != snap {
		return
	}
	expires := c.now().Add(lastCacheTTL)
	for _, u := range users {
		e := found[u]
		e.expires = expires
		c.setLocked(u, e)
	}
}

func (c *lastCache) setLocked(user jid.JID, e lastEntry) {
	if c.m == nil {
		c.m = map[jid.JID]lastEntry{}
	}
	if _, ok := c.m[user]; !ok && len(c.m) >= lastCacheMax {
		c.evictLocked(c.now())
	}
	c.m[user] = e
}

// evictLocked drops the expired entries and, if that is not enough, an
// arbitrary eighth of the others.
func (c *lastCache) evictLocked(now time.Time) {
	for u, e := range c.m {
		if now.After(e.expires) {
			delete(c.m, u)
		}
	}
	for u := range c.m {
		if len(c.m) < lastCacheMax-lastCacheMax/8 {
			return
		}
		delete(c.m, u)
	}
}
