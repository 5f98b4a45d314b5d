package roster_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/account"
	"github.com/parleyim/parley/internal/features/roster"
	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/storage"
	"github.com/parleyim/parley/internal/storage/storagetest"
)

// newTestStore opens a fresh database of driver (SQLite always; the other
// engines when their test servers are configured, see storagetest) with
// accounts for users.
func newTestStore(t *testing.T, driver string, users ...string) (*roster.Store, *storage.DB) {
	t.Helper()
	db := storagetest.Open(t, driver)
	accts := account.NewStore(db, 4096)
	for _, u := range users {
		if err := accts.Create(context.Background(), jid.MustParse(u), "pw"); err != nil {
			t.Fatal(err)
		}
	}
	return roster.NewStore(db), db
}

var (
	alice = jid.MustParse("alice@localhost")
	bob   = jid.MustParse("bob@localhost")
	remo  = jid.MustParse("remo@remote.example")
)

func TestStoreItems(t *testing.T) {
	for _, driver := range storagetest.Drivers {
		t.Run(driver, func(t *testing.T) {
			ctx := context.Background()
			st, _ := newTestStore(t, driver, "alice@localhost", "bob@localhost")
			cases := []struct {
				name  string
				write func(*roster.Tx) error
				check func(t *testing.T, items map[jid.JID]*roster.Item)
			}{
				{"put with groups", func(tx *roster.Tx) error {
					return tx.PutItem(alice, &roster.Item{JID: bob, Name: "Bob", Groups: []string{"A", "B"}, State: roster.State{Sub: roster.SubTo}})
				}, func(t *testing.T, items map[jid.JID]*roster.Item) {
					it := items[bob]
					if it == nil || it.Name != "Bob" || len(it.Groups) != 2 || it.Groups[0] != "A" || it.State.Sub != roster.SubTo {
						t.Fatalf("item %+v", it)
					}
				}},
				{"state only keeps name and groups", func(tx *roster.Tx) error {
					return tx.PutState(alice, bob, roster.State{Sub: roster.SubBoth})
				}, func(t *testing.T, items map[jid.JID]*roster.Item) {
					if it := items[bob]; it.Name != "Bob" || len(it.Groups) != 2 || it.State.Sub != roster.SubBoth {
						t.Fatalf("item %+v", it)
					}
				}},
				{"state creates an item", func(tx *roster.Tx) error {
					return tx.PutState(alice, remo, roster.State{PendingOut: true, Approved: true})
				}, func(t *testing.T, items map[jid.JID]*roster.Item) {
					if it := items[remo]; it == nil || !it.State.PendingOut || !it.State.Approved || it.Name != "" {
						t.Fatalf("item %+v", it)
					}
				}},
				{"regroup replaces groups", func(tx *roster.Tx) error {
					return tx.PutItem(alice, &roster.Item{JID: bob, Name: "B", Groups: []string{"C"}, State: roster.State{Sub: roster.SubBoth}})
				}, func(t *testing.T, items map[jid.JID]*roster.Item) {
					if it := items[bob]; len(it.Groups) != 1 || it.Groups[0] != "C" {
						t.Fatalf("item %+v", it)
					}
				}},
				{"delete drops the groups too", func(tx *roster.Tx) error {
					return tx.DeleteItem(alice, bob)
				}, func(t *testing.T, items map[jid.JID]*roster.Item) {
					if _, ok := items[bob]; ok || len(items) != 1 {
						t.Fatalf("items %+v", items)
					}
				}},
			}
			var last roster.Version
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					err := st.Update(ctx, func(tx *roster.Tx) error {
						if err := tc.write(tx); err != nil {
							return err
						}
						_, err := tx.Bump(alice)
						return err
					})
					if err != nil {
						t.Fatal(err)
					}
					items, v, err := st.Load(ctx, alice)
					if err != nil {
						t.Fatal(err)
					}
					tc.check(t, items)
					if v.N != last.N+1 || (last.Epoch != "" && v.Epoch != last.Epoch) {
						t.Fatalf("version %v after %v", v, last)
					}
					last = v
				})
			}
		})
	}
}

func TestStorePending(t *testing.T) {
	for _, driver := range storagetest.Drivers {
		t.Run(driver, func(t *testing.T) {
			ctx := context.Background()
			st, _ := newTestStore(t, driver, "alice@localhost")
			err := st.Update(ctx, func(tx *roster.Tx) error {
				if err := tx.PutPending(alice, remo, []byte("<presence type='subscribe'/>"), time.UnixMilli(1000)); err != nil {
					return err
				}
				return tx.PutPending(alice, bob, []byte("<presence type='subscribe'/>"), time.UnixMilli(2000))
			})
			if err != nil {
				t.Fatal(err)
			}
			p, err := st.Pending(ctx, alice)
			if err != nil || len(p) != 2 || p[0].From != remo || p[1].From != bob {
				t.Fatalf("pending %+v %v", p, err)
			}
			s, found, err := st.State(ctx, alice, remo)
			if err != nil || found || !s.PendingIn {
				t.Fatalf("state %v %v %v", s, found, err)
			}
			if err := st.Update(ctx, func(tx *roster.Tx) error { return tx.DeletePending(alice, remo) }); err != nil {
				t.Fatal(err)
			}
			if p, _ := st.Pending(ctx, alice); len(p) != 1 {
				t.Fatalf("after delete: %+v", p)
			}
		})
	}
}

// TestStoreSubscriptionIsAtomic: both users' items of one subscription
// change in one storage.InTx; a failure leaves both as they were.
func TestStoreSubscriptionIsAtomic(t *testing.T) {
	for _, driver := range storagetest.Drivers {
		t.Run(driver, func(t *testing.T) {
			ctx := context.Background()
			st, _ := newTestStore(t, driver, "alice@localhost", "bob@localhost")
			approve := func(tx *roster.Tx) error {
				// bob approves alice's pending request: alice To, bob From.
				if err := tx.PutState(alice, bob, roster.State{Sub: roster.SubTo}); err != nil {
					return err
				}
				if err := tx.DeletePending(bob, alice); err != nil {
					return err
				}
				return tx.PutState(bob, alice, roster.State{Sub: roster.SubFrom})
			}
			if err := st.Update(ctx, func(tx *roster.Tx) error {
				if err := tx.PutState(alice, bob, roster.State{PendingOut: true}); err != nil {
					return err
				}
				return tx.PutPending(bob, alice, nil, time.Now())
			}); err != nil {
				t.Fatal(err)
			}
			boom := errors.New("boom")
			for _, tc := range []struct {
				name       string
				fail       bool
				aliceState string
				bobState   string
			}{
				{"failed transaction changes neither", true, "None + Pending Out", "None + Pending In"},
				{"committed transaction changes both", false, "To", "From"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					err := st.Update(ctx, func(tx *roster.Tx) error {
						if err := approve(tx); err != nil {
							return err
						}
						if tc.fail {
							return boom
						}
						return nil
					})
					if tc.fail != errors.Is(err, boom) || (!tc.fail && err != nil) {
						t.Fatalf("update: %v", err)
					}
					if s, _, _ := st.State(ctx, alice, bob); s.String() != tc.aliceState {
						t.Errorf("alice: %s, want %s", s, tc.aliceState)
					}
					if s, _, _ := st.State(ctx, bob, alice); s.String() != tc.bobState {
						t.Errorf("bob: %s, want %s", s, tc.bobState)
					}
				})
			}
		})
	}
}

func TestStoreCascadeOnAccountDelete(t *testing.T) {
	for _, driver := range storagetest.Drivers {
		t.Run(driver, func(t *testing.T) {
			ctx := context.Background()
			st, db := newTestStore(t, driver, "alice@localhost")
			if err := st.Update(ctx, func(tx *roster.Tx) error {
				if err := tx.PutItem(alice, &roster.Item{JID: bob, Groups: []string{"G"}}); err != nil {
					return err
				}
				if err := tx.PutPending(alice, remo, nil, time.Now()); err != nil {
					return err
				}
				_, err := tx.Bump(alice)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			if err := account.NewStore(db, 4096).Delete(ctx, alice); err != nil {
				t.Fatal(err)
			}
			items, v, err := st.Load(ctx, alice)
			if err != nil || len(items) != 0 || v.Epoch != "" {
				t.Fatalf("after account deletion: %v %v %v", items, v, err)
			}
			if p, _ := st.Pending(ctx, alice); len(p) != 0 {
				t.Fatalf("pending after deletion: %v", p)
			}
		})
	}
}
