package storagetest

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/features/roster"
	"github.com/parleyim/parley/internal/features/sharedgroup"
	"github.com/parleyim/parley/internal/jid"
)

var rosterCases = []Case{
	{"roster/items groups and version", func(t *testing.T, e *Env) {
		u := e.User(t, "r")
		s := roster.NewStore(e.DB)
		c1, c2 := jid.MustParse("Zed@Example.org"), jid.MustParse("ann@elsewhere.example")
		err := s.Update(e.Ctx, func(tx *roster.Tx) error {
			if err := tx.PutItem(u, &roster.Item{JID: c1, Name: "Zéd", Groups: []string{"Friends", "Work"},
				State: roster.State{Sub: roster.SubBoth, Approved: true}}); err != nil {
				return err
			}
			if err := tx.PutState(u, c2, roster.State{Sub: roster.SubNone, PendingOut: true}); err != nil {
				return err
			}
			_, err := tx.Bump(u)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		items, v, err := s.Load(e.Ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		if v.N != 1 || v.Epoch == "" {
			t.Errorf("version = %v", v)
		}
		a, b := items[c1], items[c2]
		if a == nil || a.Name != "Zéd" || !slices.Equal(a.Groups, []string{"Friends", "Work"}) ||
			a.State.Sub != roster.SubBoth || !a.State.Approved || a.State.PendingOut {
			t.Errorf("item 1 = %+v", a)
		}
		if b == nil || b.Name != "" || len(b.Groups) != 0 || !b.State.PendingOut || b.State.Sub != roster.SubNone {
			t.Errorf("item 2 = %+v", b)
		}
		// Replacing the item replaces its groups; deleting drops them.
		err = s.Update(e.Ctx, func(tx *roster.Tx) error {
			if err := tx.PutItem(u, &roster.Item{JID: c1, Groups: []string{"Only"}, State: roster.State{Sub: roster.SubTo}}); err != nil {
				return err
			}
			if err := tx.DeleteItem(u, c2); err != nil {
				return err
			}
			_, err := tx.Bump(u)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		items, v2, _ := s.Load(e.Ctx, u)
		if len(items) != 1 || !slices.Equal(items[c1].Groups, []string{"Only"}) || v2.N != 2 || v2.Epoch != v.Epoch {
			t.Errorf("after update: %d items, %+v, version %v", len(items), items[c1], v2)
		}
	}},
	{"roster/pending requests", func(t *testing.T, e *Env) {
		u := e.User(t, "p")
		s := roster.NewStore(e.DB)
		from := []jid.JID{jid.MustParse("b@x.example"), jid.MustParse("a@x.example")}
		err := s.Update(e.Ctx, func(tx *roster.Tx) error {
			for i, f := range from {
				if err := tx.PutPending(u, f, []byte("<presence type='subscribe'/>"), time.UnixMilli(int64(5000+i))); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		p, err := s.Pending(e.Ctx, u)
		if err != nil || len(p) != 2 || p[0].From != from[0] || p[1].At.UnixMilli() != 5001 {
			t.Fatalf("Pending = %+v, %v", p, err)
		}
		st, found, err := s.State(e.Ctx, u, from[1])
		if err != nil || found || !st.PendingIn {
			t.Errorf("State = %+v, %v, %v", st, found, err)
		}
	}},
	{"roster/one transaction across two rosters", func(t *testing.T, e *Env) {
		// A local subscription changes both users' rosters together: a
		// failure half-way leaves neither changed.
		a, b := e.User(t, "a"), e.User(t, "b")
		s := roster.NewStore(e.DB)
		boom := errors.New("boom")
		err := s.Update(e.Ctx, func(tx *roster.Tx) error {
			if err := tx.PutState(a, b, roster.State{Sub: roster.SubTo}); err != nil {
				return err
			}
			if err := tx.PutState(b, a, roster.State{Sub: roster.SubFrom}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Update = %v", err)
		}
		for _, u := range []jid.JID{a, b} {
			if items, _, _ := s.Load(e.Ctx, u); len(items) != 0 {
				t.Errorf("%s has %d items after a rolled back update", u, len(items))
			}
		}
	}},
	{"roster/concurrent updates lose nothing", func(t *testing.T, e *Env) {
		// Read-modify-write from several goroutines: each bump must count
		// (serializable transactions, retried on conflict).
		u := e.User(t, "hot")
		s := roster.NewStore(e.DB)
		const n = 12
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := jid.MustParse("c" + string(rune('a'+i)) + "@x.example")
				err := s.Update(e.Ctx, func(tx *roster.Tx) error {
					if err := tx.PutState(u, c, roster.State{Sub: roster.SubTo}); err != nil {
						return err
					}
					_, err := tx.Bump(u)
					return err
				})
				if err != nil {
					t.Errorf("Update: %v", err)
				}
			}()
		}
		wg.Wait()
		items, v, err := s.Load(e.Ctx, u)
		if err != nil || len(items) != n || v.N != n {
			t.Errorf("after %d concurrent updates: %d items, version %d, %v", n, len(items), v.N, err)
		}
	}},
}

var presenceCases = []Case{
	{"presence/last unavailable presence", func(t *testing.T, e *Env) {
		// The statements of the presence package's last-presence store.
		a, b := e.User(t, "a"), e.User(t, "b")
		put := e.DB.Upsert("presence_last", []string{"domain", "username"}, []string{"stanza", "stamp"})
		for i, u := range []jid.JID{a, b, a} {
			if _, err := e.DB.SQL().ExecContext(e.Ctx, put, u.Domain(), u.Local(), []byte("<presence type='unavailable'/>"), int64(i)); err != nil {
				t.Fatal(err)
			}
		}
		q := e.DB.Rebind("SELECT username, stanza, stamp FROM presence_last WHERE domain = ? AND username IN (?, ?, ?)")
		rows, err := e.DB.SQL().QueryContext(e.Ctx, q, e.Domain, "a", "b", "nobody")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		got := map[string]int64{}
		for rows.Next() {
			var u string
			var data []byte
			var stamp int64
			if err := rows.Scan(&u, &data, &stamp); err != nil {
				t.Fatal(err)
			}
			got[u] = stamp
		}
		if len(got) != 2 || got["a"] != 2 || got["b"] != 1 {
			t.Errorf("last presences = %v", got)
		}
	}},
}

var sharedGroupCases = []Case{
	{"sharedgroup/create members contacts", func(t *testing.T, e *Env) {
		a, b, c := e.User(t, "a"), e.User(t, "b"), e.User(t, "c")
		s := sharedgroup.NewStore(e.DB)
		name := "staff-" + e.Domain
		if err := s.Create(e.Ctx, name, "Staff"); err != nil {
			t.Fatal(err)
		}
		if err := s.Create(e.Ctx, name, ""); !errors.Is(err, sharedgroup.ErrExists) {
			t.Errorf("second Create = %v", err)
		}
		if err := s.AddMembers(e.Ctx, name, []jid.JID{a, b, c}); err != nil {
			t.Fatal(err)
		}
		contacts, err := s.ContactsOf(e.Ctx, a)
		if err != nil || len(contacts) != 2 || !slices.Equal(contacts[b], []string{"Staff"}) {
			t.Errorf("ContactsOf = %v, %v", contacts, err)
		}
		if err := s.SetDisplay(e.Ctx, name, "Crew"); err != nil {
			t.Fatal(err)
		}
		if contacts, err := s.ContactsOf(e.Ctx, a); err != nil || !slices.Equal(contacts[b], []string{"Crew"}) {
			t.Errorf("after SetDisplay: ContactsOf = %v, %v", contacts, err)
		}
		if err := s.SetDisplay(e.Ctx, "nope-"+e.Domain, "X"); !errors.Is(err, sharedgroup.ErrNotFound) {
			t.Errorf("SetDisplay of a missing group = %v", err)
		}
		if err := s.SetDisplay(e.Ctx, name, " "); !errors.Is(err, sharedgroup.ErrInvalidName) {
			t.Errorf("SetDisplay blank = %v", err)
		}
		if err := e.Accounts.Delete(e.Ctx, c); err != nil {
			t.Fatal(err)
		}
		g, err := s.Get(e.Ctx, name)
		if err != nil || len(g.Members) != 2 {
			t.Errorf("after deleting a member's account: %+v, %v", g, err)
		}
		if err := s.Delete(e.Ctx, name); err != nil {
			t.Fatal(err)
		}
	}},
}
