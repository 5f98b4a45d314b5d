package main

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/storage"
)

// archiveCount opens the data dir's database and counts owner's archive.
func archiveCount(t *testing.T, dir, owner string) int {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = dir
	db, err := storage.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	p, err := db.Archive().Query(context.Background(), jid.MustParse(owner), storage.ArchiveQuery{Max: 1, Count: true})
	if err != nil {
		t.Fatal(err)
	}
	return p.Count
}

func TestArchivePurge(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	dd := "--data-dir=" + dir
	cli(t, "", "user", "add", "alice@localhost", "--password", "pw", dd).ok(t)
	cli(t, "", "user", "add", "bob@localhost", "--password", "pw", dd).ok(t)
	cfg := config.Default()
	cfg.DataDir = dir
	db, err := storage.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	alice, bob := jid.MustParse("alice@localhost"), jid.MustParse("bob@localhost")
	old := []storage.ArchivedMessage{{ID: storage.FormatArchiveID(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()), With: bob, Data: []byte("<message/>")}}
	if _, err := db.Archive().Import(context.Background(), alice, old); err != nil {
		t.Fatal(err)
	}
	for _, e := range []storage.ArchiveEntry{{Owner: alice, With: bob, Data: []byte("<message/>")}, {Owner: bob, With: alice, Data: []byte("<message/>")}} {
		if _, err := db.Archive().Append(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	cli(t, "", "archive", "purge", "alice", "--before", "yesterday", dd).fails(t, `--before "yesterday"`)
	cli(t, "", "archive", "purge", "alice@example.org", dd).fails(t, "domain example.org is not served")
	r := cli(t, "", "archive", "purge", "alice", "--before", "2021-01-01", dd).ok(t)
	if r.stdout != "1 archived messages of alice@localhost removed\n" || archiveCount(t, dir, "alice@localhost") != 1 {
		t.Errorf("purge --before: %q, %d left", r.stdout, archiveCount(t, dir, "alice@localhost"))
	}
	r = cli(t, "", "archive", "purge", "alice@localhost", dd).ok(t)
	if r.stdout != "1 archived messages of alice@localhost removed\n" || archiveCount(t, dir, "alice@localhost") != 0 {
		t.Errorf("purge: %q", r.stdout)
	}
	if n := archiveCount(t, dir, "bob@localhost"); n != 1 {
		t.Errorf("bob's archive has %d after alice's purge", n)
	}
}
