package storage_test

import (
	"context"
	"fmt"
	"hash/fnv"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/storage"
	"github.com/parleyim/parley/internal/storage/storagetest"
)

// oldRow is a row of migration 00005's archive table: one per message
// and archive.
type oldRow struct {
	id          int64
	owner, with string // with may be a full JID
	body        string
}

// TestArchiveMigration00014: a database at schema 00013 with archived
// rows (both sides of chat messages between two accounts, a room's
// messages, a remote party's, a message to oneself) is upgraded by
// opening it; afterwards every message is in its owner's archive with its
// id, time, body and 'with' (resource included), found by the 'with'
// filters and by id, for both parties of every chat; new messages then
// take one row for both.
func TestArchiveMigration00014(t *testing.T) {
	for _, driver := range storagetest.Drivers {
		t.Run(driver, func(t *testing.T) { testArchiveMigration(t, driver) })
	}
}

func testArchiveMigration(t *testing.T, driver string) {
	ctx := context.Background()
	cfg := storagetest.Config(t, driver)
	old, err := storage.OpenNoMigrate(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := old.MigrateTo(ctx, 13); err != nil {
		t.Fatal(err)
	}
	base := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC).UnixMicro()
	var rows []oldRow
	for i := range 20 { // alice and bob: each message twice, as the old hook wrote it
		rows = append(rows,
			oldRow{base + int64(2*i), "alice@example.org", "bob@example.org/phone", fmt.Sprintf("ab%d", i)},
			oldRow{base + int64(2*i) + 1, "bob@example.org", "alice@example.org/laptop", fmt.Sprintf("ab%d", i)})
	}
	rows = append(rows,
		oldRow{base + 100, "room@conference.example.org", "room@conference.example.org/nick", "in the room"},
		oldRow{base + 101, "alice@example.org", "carol@remote.example/x", "to carol"},
		oldRow{base + 102, "carol@remote.example", "alice@example.org", "not an account here, still an owner"},
		oldRow{base + 103, "bob@example.org", "bob@example.org/tablet", "note to self"},
		oldRow{base + 104, "zed@example.org", "alice@example.org", "zed sorts after alice"})
	for _, r := range rows {
		w := jid.MustParse(r.with)
		h := fnv.New64a()
		h.Write([]byte(w.Bare().String()))
		if err := old.ExecRaw(ctx, "INSERT INTO archive (id, owner, with_key, with_bare, with_resource, data) VALUES (?, ?, ?, ?, ?, ?)",
			r.id, r.owner, int64(h.Sum64()), w.Bare().String(), w.Resource(), []byte(r.body)); err != nil {
			t.Fatal(err)
		}
	}
	old.Close()

	db, err := storage.Open(ctx, cfg)
	if err != nil {
		t.Fatalf("upgrade: %v", err)
	}
	defer db.Close()
	a := db.Archive()
	perOwner := map[string]int{}
	for _, r := range rows {
		perOwner[r.owner]++
		owner, with := jid.MustParse(r.owner), jid.MustParse(r.with)
		id := storage.FormatArchiveID(r.id)
		for _, q := range []storage.ArchiveQuery{
			{IDs: []string{id}}, {IDs: []string{id}, With: with.Bare()}, {IDs: []string{id}, With: with},
		} {
			q.Max = 10
			p, err := a.Query(ctx, owner, q)
			if err != nil || len(p.Messages) != 1 {
				t.Fatalf("%s's message %s (%+v): %d found, %v", r.owner, r.body, q, len(p.Messages), err)
			}
			m := p.Messages[0]
			if m.ID != id || m.With != with || string(m.Data) != r.body || m.At.UnixMicro() != r.id {
				t.Errorf("%s's message %s = %+v", r.owner, r.body, m)
			}
		}
	}
	for owner, n := range perOwner {
		p, err := a.Query(ctx, jid.MustParse(owner), storage.ArchiveQuery{Max: 100, Count: true})
		if err != nil || len(p.Messages) != n || p.Count != n {
			t.Errorf("%s's archive: %d messages, count %d, %v; want %d", owner, len(p.Messages), p.Count, err, n)
		}
	}
	alice, bob := jid.MustParse("alice@example.org"), jid.MustParse("bob@example.org")
	p, err := a.Query(ctx, alice, storage.ArchiveQuery{Max: 5, With: bob, After: storage.FormatArchiveID(rows[10].id)})
	if err != nil || len(p.Messages) != 5 || string(p.Messages[0].Data) != "ab6" {
		t.Fatalf("alice's page with bob after ab5: %+v, %v", p, err)
	}
	// A new chat message: one id in both archives, after the old ones.
	ids, err := a.Append(ctx, storage.ArchiveEntry{Owner: alice, With: jid.MustParse("bob@example.org/phone"), Data: []byte("new")},
		storage.ArchiveEntry{Owner: bob, With: jid.MustParse("alice@example.org/laptop"), Data: []byte("new")})
	if err != nil || ids[0] != ids[1] {
		t.Fatalf("append after the upgrade: %q, %v", ids, err)
	}
	for _, o := range []jid.JID{alice, bob} {
		p, err := a.Query(ctx, o, storage.ArchiveQuery{Max: 1, Backward: true, With: alice})
		if o == alice {
			p, err = a.Query(ctx, o, storage.ArchiveQuery{Max: 1, Backward: true, With: bob})
		}
		if err != nil || len(p.Messages) != 1 || p.Messages[0].ID != ids[0] || string(p.Messages[0].Data) != "new" {
			t.Errorf("%s's newest with the other: %+v, %v", o, p, err)
		}
	}
}
