package account

import (
	"sync"
	"time"

	"github.com/parleyim/parley/internal/jid"
)

// existsCache remembers recent answers of Store.Exists so that routing a
// message to a user without a session does not read the database each
// time. The Store's own writes (Create, CreateWithCredentials, Delete)
// update it; writes by another process (the `parley user` commands, an
// import) are seen when an entry expires: after the negative TTL for an
// account created elsewhere, after the positive TTL for one deleted
// elsewhere. It holds at most max entries.
type existsCache struct {
	max      int
	pos, neg time.Duration
	now      func() time.Time // time.Now; tests move it

	mu sync.Mutex
	m  map[jid.JID]cacheEntry
	// gen counts the Store's own writes; a lookup that raced one does
	// not store its (possibly stale) answer.
	gen uint64
}

type cacheEntry struct {
	exists  bool
	expires time.Time
}

func newExistsCache(max int, pos, neg time.Duration) *existsCache {
	return &existsCache{max: max, pos: pos, neg: neg, now: time.Now, m: make(map[jid.JID]cacheEntry)}
}

// get returns the cached answer for j, if fresh, and the write generation
// to hand back to put.
func (c *existsCache) get(j jid.JID) (exists, ok bool, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, found := c.m[j]
	if found && c.now().Before(e.expires) {
		return e.exists, true, c.gen
	}
	if found {
		delete(c.m, j)
	}
	return false, false, c.gen
}

// put stores an answer read from the database, unless one of the Store's
// writes happened since get returned gen.
func (c *existsCache) put(j jid.JID, exists bool, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	c.store(j, exists)
}

// wrote records the outcome of the Store's own write: j exists or not.
func (c *existsCache) wrote(j jid.JID, exists bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.store(j, exists)
}

// forget drops what is known about j (a write whose outcome is unknown).
func (c *existsCache) forget(j jid.JID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	delete(c.m, j)
}

func (c *existsCache) store(j jid.JID, exists bool) {
	ttl := c.neg
	if exists {
		ttl = c.pos
	}
	if ttl <= 0 {
		delete(c.m, j)
		return
	}
	if _, found := c.m[j]; !found && len(c.m) >= c.max {
		c.evict()
	}
	c.m[j] = cacheEntry{exists: exists, expires: c.now().Add(ttl)}
}

// evict makes room for one entry: expired entries go first; if none has
// expired, an arbitrary eighth of the entries (map order) goes, so a full
// cache does not pay a scan on every insertion.
func (c *existsCache) evict() {
	now := c.now()
	for k, e := range c.m {
		if !now.Before(e.expires) {
			delete(c.m, k)
		}
	}
	for k := range c.m {
		if len(c.m) < c.max-c.max/8 {
			break
		}
		delete(c.m, k)
	}
}

// len returns the number of entries (for tests).
func (c *existsCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}
