package storage_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/account"
	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/storage"
	"github.com/parleyim/parley/internal/storage/storagetest"
)

// BenchmarkEngines measures one write transaction (a record upsert, an
// offline queue push) and one read on each engine, with the durability
// settings of the test servers (PostgreSQL fsync off, MariaDB flushing
// once a second): compare engines with each other here, not with
// production figures.
func BenchmarkEngines(b *testing.B) {
	for _, driver := range storagetest.Drivers {
		b.Run(driver, func(b *testing.B) {
			ctx := context.Background()
			db := storagetest.Open(b, driver)
			u := jid.MustParse("bench@example.org")
			if err := account.NewStore(db, storagetest.Iterations).Create(ctx, u, "pw"); err != nil {
				b.Fatal(err)
			}
			recs := db.Records("vcard")
			data := []byte("<vCard xmlns='vcard-temp'><FN>Bench</FN></vCard>")
			b.Run("records put", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if err := recs.Put(ctx, u, []storage.Record{{Data: data}}, 0); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("records get", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, _, err := recs.Get(ctx, u, ""); err != nil {
						b.Fatal(err)
					}
				}
			})
			q := db.Queue("offline")
			b.Run("queue push", func(b *testing.B) {
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					i++
					if err := q.Push(ctx, u, fmt.Appendf(nil, "<message id='%d'/>", i), time.Now(), 0); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
