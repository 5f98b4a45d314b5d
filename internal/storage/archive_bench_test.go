package storage_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/storage"
	"github.com/parleyim/parley/internal/storage/storagetest"
)

var benchMsg = []byte(`<message xmlns="jabber:client" type="chat" from="a@example.org/r" to="b@example.org"><body>` +
	`a message of about sixty-four bytes of text, as in the chat bench</body></message>`)

// BenchmarkArchiveAppend: many sessions archive one message each at once
// (both parties' copies, as the MAM hook does); the group commit batches
// them. Reports chat messages archived per second (each in the sender's
// and the recipient's archive: one row since migration 00014, two before)
// and rows per commit.
func BenchmarkArchiveAppend(b *testing.B) {
	for _, driver := range storagetest.Drivers {
		b.Run(driver, func(b *testing.B) {
			db := storagetest.Open(b, driver)
			a := db.Archive()
			var n atomic.Int64
			b.SetParallelism(32) // 32 × GOMAXPROCS appending sessions
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := n.Add(1)
				me := jid.MustParse(fmt.Sprintf("u%d@example.org", i))
				peer := jid.MustParse(fmt.Sprintf("p%d@example.org/r", i))
				for pb.Next() {
					if _, err := a.Append(context.Background(),
						storage.ArchiveEntry{Owner: me, With: peer, Data: benchMsg},
						storage.ArchiveEntry{Owner: peer.Bare(), With: me, Data: benchMsg}); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			st := a.Stats()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "chatmsgs/s")
			b.ReportMetric(float64(st.Messages)/float64(max(st.Batches, 1)), "rows/commit")
		})
	}
}

// BenchmarkArchiveSubmitPipelined: one busy stream (one goroutine)
// archives message after message as a session's pipeline does: each
// message is submitted without waiting for the previous one's commit,
// with up to 256 (c2s's maxPipeline) waiting, and their outcomes are
// taken in order. Reports chat messages archived per second, rows per
// commit and the process's CPU time per chat message.
func BenchmarkArchiveSubmitPipelined(b *testing.B) {
	for _, driver := range storagetest.Drivers {
		b.Run(driver, func(b *testing.B) {
			db := storagetest.Open(b, driver)
			a := db.Archive()
			me, peer := jid.MustParse("u@example.org"), jid.MustParse("p@example.org/r")
			ctx := context.Background()
			window := make(chan *storage.PendingAppend, 256)
			done := make(chan error, 1)
			go func() {
				for p := range window {
					if _, err := p.Wait(ctx); err != nil {
						done <- err
						return
					}
				}
				done <- nil
			}()
			cpu0 := processCPU()
			b.ResetTimer()
			for range b.N {
				p, err := a.Submit(ctx,
					storage.ArchiveEntry{Owner: me, With: peer, Data: benchMsg},
					storage.ArchiveEntry{Owner: peer.Bare(), With: me, Data: benchMsg})
				if err != nil {
					b.Fatal(err)
				}
				window <- p
			}
			close(window)
			if err := <-done; err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			st := a.Stats()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "chatmsgs/s")
			b.ReportMetric(float64(st.Messages)/float64(max(st.Batches, 1)), "rows/commit")
			b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/float64(b.N), "cpu-us/msg")
		})
	}
}

// processCPU is the user and system CPU time of this process so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkArchivePage: one page of 50 from an archive of
// PARLEY_BENCH_ARCHIVE_N messages (default 1,000,000) of one owner, with
// a quarter as many messages of ten other owners interleaved: the newest
// page (RSM <before/>), a page in the middle (after an id) and the newest
// with a 'with' filter; with the count unbounded and bounded at 10,000
// (as the MAM module asks).
func BenchmarkArchivePage(b *testing.B) {
	n := 1_000_000
	if s := os.Getenv("PARLEY_BENCH_ARCHIVE_N"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	for _, driver := range storagetest.Drivers {
		b.Run(driver, func(b *testing.B) {
			db := storagetest.Open(b, driver)
			a := db.Archive()
			owner := jid.MustParse("owner@example.org")
			mid := fillArchive(b, a, owner, n)
			for _, c := range []struct {
				name string
				q    storage.ArchiveQuery
			}{
				{"last-page", storage.ArchiveQuery{Max: 50, Backward: true}},
				{"last-page+count", storage.ArchiveQuery{Max: 50, Backward: true, Count: true}},
				{"last-page+count<=10000", storage.ArchiveQuery{Max: 50, Backward: true, Count: true, CountLimit: 10000}},
				{"after-middle", storage.ArchiveQuery{Max: 50, After: mid}},
				{"with-last-page", storage.ArchiveQuery{Max: 50, Backward: true, With: jid.MustParse("p7@example.org")}},
				{"with-last-page+count<=10000", storage.ArchiveQuery{Max: 50, Backward: true, Count: true, CountLimit: 10000, With: jid.MustParse("p7@example.org")}},
			} {
				b.Run(c.name, func(b *testing.B) {
					for b.Loop() {
						p, err := a.Query(context.Background(), owner, c.q)
						if err != nil || len(p.Messages) != 50 {
							b.Fatalf("%d messages, %v", len(p.Messages), err)
						}
					}
				})
			}
		})
	}
}

// fillArchive appends n messages to owner's archive (with 10 partners in
// turn) and as many to other owners, and returns the id in the middle.
func fillArchive(b *testing.B, a *storage.Archive, owner jid.JID, n int) string {
	b.Helper()
	var peers [10]jid.JID
	for i := range peers {
		peers[i] = jid.MustParse(fmt.Sprintf("p%d@example.org/r", i))
	}
	const batch = 4000
	entries := make([]storage.ArchiveEntry, 0, batch)
	mid := ""
	for i := 0; i < n; {
		entries = entries[:0]
		for ; len(entries) < batch && i < n; i++ {
			p := peers[i%len(peers)]
			entries = append(entries, storage.ArchiveEntry{Owner: owner, With: p, Data: benchMsg})
			if i%4 == 0 { // other archives interleaved
				entries = append(entries, storage.ArchiveEntry{Owner: p.Bare(), With: owner, Data: benchMsg})
			}
		}
		ids, err := a.Append(context.Background(), entries...)
		if err != nil {
			b.Fatal(err)
		}
		if mid == "" && i >= n/2 {
			mid = ids[0]
		}
	}
	return mid
}
