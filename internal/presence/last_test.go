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
// login's probe does for contacts that are not online.
func BenchmarkLastGet(b *testing.B) {
	l := newLastFixture(b, "sqlite", 8)
	users := make([]jid.JID, 5)
	for i := range users {
		users[i] = jid.MustParse(fmt.Sprintf("u%d@localhost", i))
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if got, err := l.Get(ctx, users); err != nil || len(got) != 4 {
			b.Fatal(len(got), err)
		}
	}
}
