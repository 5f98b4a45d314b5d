package presence

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/account"
	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/storage/storagetest"
)

// newLastFixture stores a last presence for u0..u(n-1)@localhost, every
// third one excepted, and returns the store.
func newLastFixture(tb testing.TB, driver string, n int) *lastStore {
	tb.Helper()
	ctx := context.Background()
	db := storagetest.Open(tb, driver)
	accts := account.NewStore(db, 4096)
	l := newLastStore(db)
	for i := range n {
		u := jid.MustParse(fmt.Sprintf("u%d@localhost", i))
		if err := accts.Create(ctx, u, "pw"); err != nil {
			tb.Fatal(err)
		}
		if i%3 == 2 {
			continue
		}
		el := newPresence("unavailable", u.String()+"/r", "")
		if err := l.Put(ctx, u, el, time.UnixMilli(int64(1000+i))); err != nil {
			tb.Fatal(err)
		}
	}
	return l
}

// TestLastGetPadding: Get pads its IN lists to powers of two; every
// length, duplicates and users without a stored presence give exactly the
// stored ones.
func TestLastGetPadding(t *testing.T) {
	for _, driver := range storagetest.Drivers {
		t.Run(driver, func(t *testing.T) {
			l := newLastFixture(t, driver, 20)
			for _, n := range []int{1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 20} {
				var users []jid.JID
				for i := range n {
					users = append(users, jid.MustParse(fmt.Sprintf("u%d@localhost", i)))
				}
				users = append(users, users[0], jid.MustParse("ghost@localhost"), jid.MustParse("u1@other.example"))
				l.cache.m = nil // read them all from the database
				got, err := l.Get(context.Background(), users)
				if err != nil {
					t.Fatal(err)
				}
				want := 0
				for i := range n {
					u := jid.MustParse(fmt.Sprintf("u%d@localhost", i))
					lp, ok := got[u]
					if i%3 == 2 {
						if ok {
							t.Errorf("n=%d: %s has no stored presence but got one", n, u)
						}
						continue
					}
					want++
					if !ok || lp.at.UnixMilli() != int64(1000+i) || lp.el.Attr("type") != "unavailable" {
						t.Errorf("n=%d: %s: %+v, %v", n, u, lp, ok)
					}
				}
				if len(got) != want {
					t.Errorf("n=%d: %d presences, want %d", n, len(got), want)
				}
			}
		})
	}
}

// BenchmarkLastGet reads the last presences of 5 offline contacts, as a
// login's probe does for contacts that are not online: from the database,
// and from the cache.
func BenchmarkLastGet(b *testing.B) {
	l := newLastFixture(b, "sqlite", 8)
	users := make([]jid.JID, 5)
	for i := range users {
		users[i] = jid.MustParse(fmt.Sprintf("u%d@localhost", i))
	}
	ctx := context.Background()
	for _, cached := range []bool{false, true} {
		b.Run(map[bool]string{false: "database", true: "cached"}[cached], func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if !cached {
					l.cache.m = nil
				}
				if got, err := l.Get(ctx, users); err != nil || len(got) != 4 {
					b.Fatal(len(got), err)
				}
			}
		})
	}
}

// TestLastCache: the presences this process writes and reads are served
// from memory for lastCacheTTL, what other writers do shows after it, a
// read that raced with a write is not cached, and the cache is bounded.
func TestLastCache(t *testing.T) {
	ctx := context.Background()
	l := newLastFixture(t, "sqlite", 3) // u0, u1 stored; u2 not
	now := time.Now()
	l.cache.clock = func() time.Time { return now }
	u0, u1, u2 := jid.MustParse("u0@localhost"), jid.MustParse("u1@localhost"), jid.MustParse("u2@localhost")
	get := func(u jid.JID) (lastPresence, bool) {
		t.Helper()
		got, err := l.Get(ctx, []jid.JID{u})
		if err != nil {
			t.Fatal(err)
		}
		lp, ok := got[u]
		return lp, ok
	}
	// Another writer (here: SQL behind the store's back) changes rows.
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := l.db.SQL().ExecContext(ctx, l.db.Rebind(q), args...); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok := get(u2); ok {
		t.Fatal("u2 has no stored presence")
	}
	lp, ok := get(u1)
	if !ok || lp.at.UnixMilli() != 1001 {
		t.Fatalf("u1: %+v %v", lp, ok)
	}
	exec("DELETE FROM presence_last WHERE username = ?", "u1")
	exec("INSERT INTO presence_last (domain, username, stanza, stamp) SELECT domain, ?, stanza, 5 FROM presence_last WHERE username = ?", "u2", "u0")
	if _, ok := get(u1); !ok {
		t.Error("u1 not served from the cache within the TTL")
	}
	if _, ok := get(u2); ok {
		t.Error("u2's absence not cached")
	}
	now = now.Add(lastCacheTTL + time.Second)
	if _, ok := get(u1); ok {
		t.Error("u1's deletion not seen after the TTL")
	}
	if lp, ok := get(u2); !ok || lp.at.UnixMilli() != 5 {
		t.Errorf("u2 written elsewhere not seen after the TTL: %+v %v", lp, ok)
	}
	// Our own writes show at once.
	if err := l.Put(ctx, u2, newPresence("unavailable", "u2@localhost/x", ""), time.UnixMilli(77)); err != nil {
		t.Fatal(err)
	}
	if lp, ok := get(u2); !ok || lp.at.UnixMilli() != 77 || lp.el.Attr("from") != "u2@localhost/x" {
		t.Errorf("own write: %+v %v", lp, ok)
	}
	// A read that started before a write does not overwrite it.
	snap := l.cache.snapshot()
	l.cache.put(u0, newPresence("unavailable", "u0@localhost/y", ""), time.UnixMilli(88))
	l.cache.fill(snap, []jid.JID{u0}, nil)
	if e, ok := l.cache.get(u0); !ok || e.el == nil || e.at.UnixMilli() != 88 {
		t.Errorf("stale read overwrote a write: %+v %v", e, ok)
	}
	// Bounded.
	for i := range lastCacheMax + 100 {
		l.cache.put(jid.MustParse(fmt.Sprintf("x%d@localhost", i)), newPresence("", "", ""), now)
	}
	if n := len(l.cache.m); n > lastCacheMax {
		t.Errorf("%d entries, at most %d", n, lastCacheMax)
	}
}
