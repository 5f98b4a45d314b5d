package storage_test

import (
	"context"
	"testing"

	"github.com/parleyim/parley/internal/account"
	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/storage"
	"github.com/parleyim/parley/internal/storage/storagetest"
)

// BenchmarkReadPaths compares ways of running the small indexed reads a
// login makes (here a record read, as a block list or vCard is), on
// SQLite, under a cancellable context as a session's is: unprepared
// (parsed and planned every time), through the statement cache, and the
// statement cache with a cancellable context.
func BenchmarkReadPaths(b *testing.B) {
	db := storagetest.Open(b, "sqlite")
	u := jid.MustParse("bench@example.org")
	base := context.Background()
	if err := account.NewStore(db, storagetest.Iterations).Create(base, u, "pw"); err != nil {
		b.Fatal(err)
	}
	recs := db.Records("blocking")
	if err := recs.Put(base, u, []storage.Record{{Name: "x@example.org", Data: []byte("1")}}, 0); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(base)
	defer cancel()
	q := db.Rebind("SELECT name, data, updated_at FROM user_records WHERE domain = ? AND username = ? AND kind = ? ORDER BY name")
	read := func(b *testing.B, query func() error) {
		b.ReportAllocs()
		for b.Loop() {
			if err := query(); err != nil {
				b.Fatal(err)
			}
		}
	}
	drain := func(rows interface {
		Next() bool
		Close() error
		Err() error
	}, err error) error {
		if err != nil {
			return err
		}
		for rows.Next() {
		}
		rows.Close()
		return rows.Err()
	}
	b.Run("unprepared", func(b *testing.B) {
		read(b, func() error { return drain(db.SQL().QueryContext(ctx, q, "example.org", "bench", "blocking")) })
	})
	b.Run("cached", func(b *testing.B) {
		read(b, func() error { return drain(db.Query(ctx, q, "example.org", "bench", "blocking")) })
	})
	b.Run("records list", func(b *testing.B) {
		read(b, func() error { _, err := recs.List(ctx, u); return err })
	})
}
