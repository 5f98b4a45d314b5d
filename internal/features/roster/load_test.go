package roster_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/parleyim/parley/internal/account"
	"github.com/parleyim/parley/internal/features/roster"
	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/storage/storagetest"
)

// TestLoadJoinsGroups: Load reads items with and without groups in one
// query; each item gets exactly its groups, sorted in byte order.
func TestLoadJoinsGroups(t *testing.T) {
	for _, driver := range storagetest.Drivers {
		t.Run(driver, func(t *testing.T) {
			ctx := context.Background()
			st, _ := newTestStore(t, driver, "alice@localhost", "bob@localhost")
			// Nothing stored, and a version without items (all removed).
			if items, ver, err := st.Load(ctx, alice); err != nil || len(items) != 0 || ver != (roster.Version{}) {
				t.Fatalf("empty roster: %v %+v %v", items, ver, err)
			}
			if items, ver, err := st.Load(ctx, jid.MustParse("nobody@localhost")); err != nil || len(items) != 0 || ver != (roster.Version{}) {
				t.Fatalf("no account: %v %+v %v", items, ver, err)
			}
			if err := st.Update(ctx, func(tx *roster.Tx) error { _, err := tx.Bump(bob); return err }); err != nil {
				t.Fatal(err)
			}
			if items, ver, err := st.Load(ctx, bob); err != nil || len(items) != 0 || ver.N != 1 || ver.Epoch == "" {
				t.Fatalf("version without items: %v %+v %v", items, ver, err)
			}
			want := map[string][]string{
				"bob@localhost":      {"Friends", "Work", "a-lower", "Ünicode"},
				"carol@localhost":    nil,
				"dave@remote.test":   {"Work"},
				"erin@localhost":     nil,
				"frank@remote2.test": {"x", "X"},
			}
			err := st.Update(ctx, func(tx *roster.Tx) error {
				for c, groups := range want {
					it := &roster.Item{JID: jid.MustParse(c), Name: c, Groups: groups, State: roster.State{Sub: roster.SubBoth}}
					if err := tx.PutItem(alice, it); err != nil {
						return err
					}
				}
				_, err := tx.Bump(alice)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			items, ver, err := st.Load(ctx, alice)
			if err != nil {
				t.Fatal(err)
			}
			if ver.N != 1 || ver.Epoch == "" {
				t.Errorf("version %+v", ver)
			}
			if len(items) != len(want) {
				t.Fatalf("%d items, want %d", len(items), len(want))
			}
			for c, groups := range want {
				it := items[jid.MustParse(c)]
				sorted := slices.Sorted(slices.Values(groups))
				if it == nil || it.Name != c || it.State.Sub != roster.SubBoth || !slices.Equal(it.Groups, sorted) {
					t.Errorf("%s: %+v, want groups %q", c, it, sorted)
				}
			}
		})
	}
}

// BenchmarkLoad reads a 10-item roster (each item in two groups) and its
// version, as every bind does.
func BenchmarkLoad(b *testing.B) {
	ctx := context.Background()
	db := storagetest.Open(b, "sqlite")
	st := roster.NewStore(db)
	if err := account.NewStore(db, 4096).Create(ctx, alice, "pw"); err != nil {
		b.Fatal(err)
	}
	err := st.Update(ctx, func(tx *roster.Tx) error {
		for i := range 10 {
			it := &roster.Item{JID: jid.MustParse(fmt.Sprintf("c%d@localhost", i)), Groups: []string{"A", "B"}, State: roster.State{Sub: roster.SubBoth}}
			if err := tx.PutItem(alice, it); err != nil {
				return err
			}
		}
		_, err := tx.Bump(alice)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if items, _, err := st.Load(ctx, alice); err != nil || len(items) != 10 {
			b.Fatal(len(items), err)
		}
	}
}
