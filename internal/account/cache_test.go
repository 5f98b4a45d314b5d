package account

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/sasl"
)

// fakeClock is a settable clock for the cache.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// cachedPair opens one database as a caching server Store and a plain CLI
// Store (another process), with the server's cache on a fake clock.
func cachedPair(t *testing.T, size int, pos, neg time.Duration) (server, cli *Store, clock *fakeClock) {
	t.Helper()
	cfg := testConfig(t)
	server = NewStore(openDB(t, cfg), testIterations).CacheExistence(size, pos, neg)
	cli = NewStore(openDB(t, cfg), testIterations)
	clock = &fakeClock{t: time.Unix(1_000_000, 0)}
	server.cache.now = clock.now
	return server, cli, clock
}

func wantExists(t *testing.T, s *Store, j jid.JID, want bool, why string) {
	t.Helper()
	got, err := s.Exists(context.Background(), j)
	if err != nil {
		t.Fatalf("Exists(%s): %v", j, err)
	}
	if got != want {
		t.Errorf("Exists(%s) = %v, want %v: %s", j, got, want, why)
	}
}

// The Store's own writes update the cache at once, whatever was cached.
func TestExistsCacheOwnWrites(t *testing.T) {
	ctx := context.Background()
	s, _, _ := cachedPair(t, 100, time.Hour, time.Hour)
	j := jid.MustParse("dave@localhost")

	wantExists(t, s, j, false, "never created")
	if err := s.Create(ctx, j, "pw"); err != nil {
		t.Fatal(err)
	}
	wantExists(t, s, j, true, "created through this store (a cached 'no' must not survive)")
	if err := s.Delete(ctx, j); err != nil {
		t.Fatal(err)
	}
	wantExists(t, s, j, false, "deleted through this store (a cached 'yes' must not survive)")

	creds, err := sasl.DeriveCredentials(sasl.SHA256, "pw", []byte("0123456789abcdef"), testIterations)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateWithCredentials(ctx, j, []sasl.Credentials{creds}); err != nil {
		t.Fatal(err)
	}
	wantExists(t, s, j, true, "imported through this store")

	// A failed create of an existing account and a failed delete of a
	// missing one still tell the truth.
	if err := s.Create(ctx, j, "pw"); !errors.Is(err, ErrExists) {
		t.Fatalf("second Create: %v, want ErrExists", err)
	}
	wantExists(t, s, j, true, "create refused because it exists")
	k := jid.MustParse("erin@localhost")
	if err := s.Delete(ctx, k); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Delete of a missing account: %v, want ErrNotFound", err)
	}
	wantExists(t, s, k, false, "delete refused because it is missing")
}

// Writes by another process are seen once the entry expires: the negative
// TTL for a creation, the positive TTL for a deletion.
func TestExistsCacheOtherProcess(t *testing.T) {
	ctx := context.Background()
	s, cli, clock := cachedPair(t, 100, time.Minute, 5*time.Second)
	j := jid.MustParse("frank@localhost")

	wantExists(t, s, j, false, "never created")
	if err := cli.Create(ctx, j, "pw"); err != nil {
		t.Fatal(err)
	}
	wantExists(t, s, j, false, "the 'no' is cached for the negative TTL")
	clock.advance(5 * time.Second)
	wantExists(t, s, j, true, "the negative TTL passed")

	if err := cli.Delete(ctx, j); err != nil {
		t.Fatal(err)
	}
	clock.advance(59 * time.Second)
	wantExists(t, s, j, true, "the 'yes' is cached for the positive TTL")
	clock.advance(time.Second)
	wantExists(t, s, j, false, "the positive TTL passed")
}

// A zero TTL does not remember that kind of answer.
func TestExistsCacheZeroNegativeTTL(t *testing.T) {
	ctx := context.Background()
	s, cli, _ := cachedPair(t, 100, time.Minute, 0)
	j := jid.MustParse("gina@localhost")
	wantExists(t, s, j, false, "never created")
	if err := cli.Create(ctx, j, "pw"); err != nil {
		t.Fatal(err)
	}
	wantExists(t, s, j, true, "no negative caching: seen at once")
	if n := s.cache.len(); n != 1 {
		t.Errorf("cache holds %d entries, want 1 (the positive answer)", n)
	}
}

// The cache never holds more than its size, and still answers correctly
// for evicted entries.
func TestExistsCacheBounded(t *testing.T) {
	ctx := context.Background()
	s, _, _ := cachedPair(t, 16, time.Hour, time.Hour)
	for i := range 100 {
		j := jid.MustParse(fmt.Sprintf("u%d@localhost", i))
		if i%10 == 0 {
			if err := s.Create(ctx, j, "pw"); err != nil {
				t.Fatal(err)
			}
		}
		wantExists(t, s, j, i%10 == 0, "fresh lookup")
		if n := s.cache.len(); n > 16 {
			t.Fatalf("cache holds %d entries, more than its size 16", n)
		}
	}
	for i := range 100 {
		wantExists(t, s, jid.MustParse(fmt.Sprintf("u%d@localhost", i)), i%10 == 0, "after eviction")
	}
}

// A lookup that read the database before one of the Store's writes must
// not store its stale answer after the write.
func TestExistsCacheRacingLookup(t *testing.T) {
	c := newExistsCache(10, time.Hour, time.Hour)
	j := jid.MustParse("hal@localhost")
	_, cached, gen := c.get(j) // a lookup starts: not cached, reads "no"
	if cached {
		t.Fatal("empty cache answered")
	}
	c.wrote(j, true)     // meanwhile the account is created
	c.put(j, false, gen) // the lookup finishes
	if exists, cached, _ := c.get(j); !cached || !exists {
		t.Errorf("get = %v (cached %v); want the write's 'yes'", exists, cached)
	}

	_, _, gen = c.get(jid.MustParse("ivy@localhost"))
	c.forget(j) // a write of unknown outcome
	c.put(jid.MustParse("ivy@localhost"), false, gen)
	if _, cached, _ := c.get(j); cached {
		t.Error("forget left the entry")
	}
	if _, cached, _ := c.get(jid.MustParse("ivy@localhost")); cached {
		t.Error("a lookup that raced a write stored its answer")
	}
}

// Concurrent lookups and writes through a caching Store (run with -race).
func TestExistsCacheConcurrent(t *testing.T) {
	ctx := context.Background()
	s, _, _ := cachedPair(t, 8, time.Hour, time.Hour)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 20 {
				j := jid.MustParse(fmt.Sprintf("c%d-%d@localhost", w, i%5))
				if _, err := s.Exists(ctx, j); err != nil {
					t.Error(err)
					return
				}
				if i%5 == 0 {
					if err := s.Create(ctx, j, "pw"); err != nil && !errors.Is(err, ErrExists) {
						t.Error(err)
						return
					}
					if ok, err := s.Exists(ctx, j); err != nil || !ok {
						t.Errorf("Exists after Create = %v, %v", ok, err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
}

// BenchmarkExists compares a database read with a cached answer.
func BenchmarkExists(b *testing.B) {
	ctx := context.Background()
	j := jid.MustParse("bench@localhost")
	for _, tc := range []struct {
		name string
		size int
	}{{"database", 0}, {"cached", 1024}} {
		b.Run(tc.name, func(b *testing.B) {
			s := NewStore(openDB(b, testConfig(b)), testIterations).CacheExistence(tc.size, time.Minute, time.Minute)
			if err := s.Create(ctx, j, "pw"); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if ok, err := s.Exists(ctx, j); err != nil || !ok {
					b.Fatalf("Exists = %v, %v", ok, err)
				}
			}
		})
	}
}
