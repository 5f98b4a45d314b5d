package storagetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/storage"
)

// appendN archives n messages "m0".."m<n-1>" in owner's archive, with
// alternating partners (with[i%len(with)]), one Append each, and returns
// their ids.
func appendN(t *testing.T, e *Env, owner jid.JID, n int, with ...jid.JID) []string {
	t.Helper()
	var ids []string
	for i := range n {
		got, err := e.DB.Archive().Append(e.Ctx, storage.ArchiveEntry{Owner: owner, With: with[i%len(with)], Data: fmt.Appendf(nil, "m%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, got...)
	}
	return ids
}

func query(t *testing.T, e *Env, owner jid.JID, q storage.ArchiveQuery) storage.ArchivePage {
	t.Helper()
	if q.Max == 0 {
		q.Max = 1000
	}
	p, err := e.DB.Archive().Query(e.Ctx, owner, q)
	if err != nil {
		t.Fatalf("Query(%+v): %v", q, err)
	}
	return p
}

func bodies(p storage.ArchivePage) []string {
	var out []string
	for _, m := range p.Messages {
		out = append(out, string(m.Data))
	}
	return out
}

func pick(ids []string, idx ...int) []string {
	var out []string
	for _, i := range idx {
		out = append(out, fmt.Sprintf("m%d", i))
	}
	return out
}

var archiveCases = []Case{
	{"archive/append ids and filters", func(t *testing.T, e *Env) {
		a := e.User(t, "a")
		b, c := e.JID(t, "b@D/phone"), e.JID(t, "c@remote.example/x")
		before := time.Now().Add(-time.Millisecond)
		ids := appendN(t, e, a, 6, b, c)
		if !slices.IsSorted(ids) || len(slices.Compact(slices.Clone(ids))) != 6 {
			t.Fatalf("ids not unique and increasing: %q", ids)
		}
		all := query(t, e, a, storage.ArchiveQuery{Count: true})
		if got := bodies(all); !slices.Equal(got, pick(ids, 0, 1, 2, 3, 4, 5)) || !all.Complete || all.Count != 6 {
			t.Fatalf("all = %q complete=%v count=%d", got, all.Complete, all.Count)
		}
		m := all.Messages[0]
		if m.ID != ids[0] || m.With != b || m.At.Before(before) || m.At.After(time.Now()) {
			t.Errorf("first = %+v", m)
		}
		if got := bodies(query(t, e, a, storage.ArchiveQuery{With: b.Bare()})); !slices.Equal(got, pick(ids, 0, 2, 4)) {
			t.Errorf("with bare b = %q", got)
		}
		if got := bodies(query(t, e, a, storage.ArchiveQuery{With: c})); !slices.Equal(got, pick(ids, 1, 3, 5)) {
			t.Errorf("with full c = %q", got)
		}
		if got := bodies(query(t, e, a, storage.ArchiveQuery{With: e.JID(t, "b@D/other")})); len(got) != 0 {
			t.Errorf("with another resource of b = %q", got)
		}
		at := all.Messages
		if got := bodies(query(t, e, a, storage.ArchiveQuery{Start: at[2].At, End: at[4].At})); !slices.Equal(got, pick(ids, 2, 3, 4)) {
			t.Errorf("start..end = %q", got)
		}
		if got := bodies(query(t, e, a, storage.ArchiveQuery{AfterID: ids[1], BeforeID: ids[4]})); !slices.Equal(got, pick(ids, 2, 3)) {
			t.Errorf("after-id..before-id = %q", got)
		}
		p := query(t, e, a, storage.ArchiveQuery{IDs: []string{ids[5], ids[0], "nonsense", storage.FormatArchiveID(1)}, Count: true})
		if got := bodies(p); !slices.Equal(got, pick(ids, 0, 5)) || p.Count != 2 {
			t.Errorf("ids = %q count %d", got, p.Count)
		}
		if p := query(t, e, a, storage.ArchiveQuery{Count: true, CountLimit: 6}); p.Count != 6 {
			t.Errorf("count up to 6 of 6 = %d", p.Count)
		}
		if p := query(t, e, a, storage.ArchiveQuery{Count: true, CountLimit: 5}); p.Count != -1 || len(p.Messages) != 6 {
			t.Errorf("count up to 5 of 6 = %d (%d messages)", p.Count, len(p.Messages))
		}
		if p := query(t, e, a, storage.ArchiveQuery{IDs: []string{"nonsense"}, Count: true}); len(p.Messages) != 0 || p.Count != 0 {
			t.Errorf("unknown ids = %+v", p)
		}
		if p := query(t, e, a, storage.ArchiveQuery{Start: time.Now().Add(time.Hour)}); len(p.Messages) != 0 || !p.Complete {
			t.Errorf("future start = %+v", p)
		}
	}},
	{"archive/RSM pages both ways", func(t *testing.T, e *Env) {
		a := e.User(t, "a")
		ids := appendN(t, e, a, 23, e.JID(t, "b@D"))
		var fwd []string
		after := ""
		for pages := 0; ; pages++ {
			p := query(t, e, a, storage.ArchiveQuery{Max: 5, After: after, Count: true})
			if p.Count != 23 {
				t.Fatalf("count %d", p.Count)
			}
			for _, m := range p.Messages {
				fwd = append(fwd, m.ID)
			}
			if p.Complete != (pages == 4) || len(p.Messages) == 0 {
				t.Fatalf("page %d: %d messages, complete=%v", pages, len(p.Messages), p.Complete)
			}
			if p.Complete {
				break
			}
			after = p.Messages[len(p.Messages)-1].ID
		}
		if !slices.Equal(fwd, ids) {
			t.Errorf("forward pages = %q, want %q", fwd, ids)
		}
		var back []string
		before := ""
		for pages := 0; ; pages++ {
			p := query(t, e, a, storage.ArchiveQuery{Max: 5, Before: before, Backward: true})
			back = append(slices.Collect(func(yield func(string) bool) {
				for _, m := range p.Messages {
					if !yield(m.ID) {
						return
					}
				}
			}), back...)
			if p.Complete != (pages == 4) {
				t.Fatalf("backward page %d: complete=%v", pages, p.Complete)
			}
			if p.Complete {
				break
			}
			before = p.Messages[0].ID
		}
		if !slices.Equal(back, ids) {
			t.Errorf("backward pages = %q, want %q", back, ids)
		}
		if p := query(t, e, a, storage.ArchiveQuery{Max: 3, Backward: true}); !slices.Equal(bodies(p), pick(ids, 20, 21, 22)) || p.Complete {
			t.Errorf("last page = %q complete=%v", bodies(p), p.Complete)
		}
		if p := query(t, e, a, storage.ArchiveQuery{Max: 3, After: ids[2], BeforeID: ids[5]}); !slices.Equal(bodies(p), pick(ids, 3, 4)) || !p.Complete {
			t.Errorf("RSM after with before-id = %q complete=%v", bodies(p), p.Complete)
		}
	}},
	{"archive/unknown ids are errors, other owners apart", func(t *testing.T, e *Env) {
		a, b := e.User(t, "a"), e.User(t, "b")
		ida := appendN(t, e, a, 2, b)
		idb := appendN(t, e, b, 2, a)
		if got := bodies(query(t, e, b, storage.ArchiveQuery{})); len(got) != 2 {
			t.Errorf("b's archive = %q", got)
		}
		for _, q := range []storage.ArchiveQuery{
			{After: idb[0]}, {Before: idb[0], Backward: true}, {AfterID: "zzz"}, {BeforeID: idb[1]},
			{After: storage.FormatArchiveID(12345)}, {After: "0000000000000"},
		} {
			q.Max = 10
			if _, err := e.DB.Archive().Query(e.Ctx, a, q); !errors.Is(err, storage.ErrNoSuchID) {
				t.Errorf("Query(a, %+v) = %v, want ErrNoSuchID", q, err)
			}
		}
		if got := bodies(query(t, e, a, storage.ArchiveQuery{IDs: idb})); len(got) != 0 {
			t.Errorf("a reading b's ids = %q", got)
		}
		if _, err := e.DB.Archive().Query(e.Ctx, a, storage.ArchiveQuery{}); err == nil {
			t.Error("Max 0 accepted")
		}
		if _, err := e.DB.Archive().Append(e.Ctx, storage.ArchiveEntry{Owner: e.JID(t, "a@D/r"), With: b, Data: []byte("x")}); err == nil {
			t.Error("full JID owner accepted")
		}
		_ = ida
	}},
	{"archive/bounds purge expire", func(t *testing.T, e *Env) {
		a, b := e.User(t, "a"), e.User(t, "b")
		room := e.JID(t, "room@conference.D") // an archive need not be an account
		if bd, err := e.DB.Archive().Bounds(e.Ctx, a); err != nil || !bd.Empty {
			t.Fatalf("empty bounds = %+v, %v", bd, err)
		}
		ida := appendN(t, e, a, 4, b)
		appendN(t, e, b, 3, a)
		idr := appendN(t, e, room, 2, e.JID(t, "room@conference.D/nick"))
		bd, err := e.DB.Archive().Bounds(e.Ctx, a)
		if err != nil || bd.Empty || bd.FirstID != ida[0] || bd.LastID != ida[3] || bd.LastAt.Before(bd.FirstAt) {
			t.Fatalf("bounds = %+v, %v", bd, err)
		}
		at := query(t, e, a, storage.ArchiveQuery{}).Messages
		n, err := e.DB.Archive().Purge(e.Ctx, a, at[2].At)
		if err != nil || n != 2 {
			t.Fatalf("Purge before 3rd = %d, %v", n, err)
		}
		if got := bodies(query(t, e, a, storage.ArchiveQuery{})); !slices.Equal(got, pick(ida, 2, 3)) {
			t.Errorf("after purge before = %q", got)
		}
		if n, err := e.DB.Archive().Purge(e.Ctx, a, time.Time{}); err != nil || n != 2 {
			t.Errorf("Purge all = %d, %v", n, err)
		}
		if got := query(t, e, b, storage.ArchiveQuery{Count: true}); got.Count != 3 {
			t.Errorf("b lost messages in a's purge: %d", got.Count)
		}
		rm := query(t, e, room, storage.ArchiveQuery{}).Messages
		if len(rm) != 2 || rm[1].ID != idr[1] {
			t.Fatalf("room archive = %+v", rm)
		}
		// Expire deletes across owners; other cases' archives share the
		// database, so only check this case's owners.
		if _, err := e.DB.Archive().Expire(e.Ctx, rm[1].At); err != nil {
			t.Fatal(err)
		}
		if got := query(t, e, room, storage.ArchiveQuery{}); len(got.Messages) != 1 || got.Messages[0].ID != idr[1] {
			t.Errorf("room after expire = %q", bodies(got))
		}
		if got := query(t, e, b, storage.ArchiveQuery{Count: true}); got.Count != 0 {
			t.Errorf("b after expire: %d", got.Count)
		}
		// An account's removal removes its archive.
		appendN(t, e, a, 2, b)
		if err := e.Accounts.Delete(e.Ctx, a); err != nil {
			t.Fatal(err)
		}
		if got := query(t, e, a, storage.ArchiveQuery{Count: true}); got.Count != 0 {
			t.Errorf("archive of a removed account: %d messages", got.Count)
		}
	}},
	{"archive/one message in both archives", func(t *testing.T, e *Env) {
		// The two sides of a chat message are one row in both archives,
		// under one id; each party's purge, and an account's removal,
		// takes it out of that party's archive only; an export of both
		// parties imported again gives both their copy back.
		a, b := e.User(t, "a"), e.User(t, "b")
		aPhone, bLaptop := e.JID(t, "a@D/phone"), e.JID(t, "b@D/laptop")
		var ids []string
		for i := range 4 {
			data := fmt.Appendf(nil, "m%d", i)
			got, err := e.DB.Archive().Append(e.Ctx, storage.ArchiveEntry{Owner: a, With: bLaptop, Data: data},
				storage.ArchiveEntry{Owner: b, With: aPhone, Data: data})
			if err != nil || len(got) != 2 || got[0] != got[1] {
				t.Fatalf("Append both sides = %q, %v", got, err)
			}
			ids = append(ids, got[0])
		}
		self, err := e.DB.Archive().Append(e.Ctx, storage.ArchiveEntry{Owner: a, With: aPhone, Data: []byte("self")})
		if err != nil {
			t.Fatal(err)
		}
		pa, pb := query(t, e, a, storage.ArchiveQuery{Count: true}), query(t, e, b, storage.ArchiveQuery{Count: true})
		if pa.Count != 5 || pb.Count != 4 || pa.Messages[0].With != bLaptop || pb.Messages[0].With != aPhone || pb.Messages[3].ID != ids[3] {
			t.Fatalf("a: %d %+v; b: %d %+v", pa.Count, pa.Messages, pb.Count, pb.Messages)
		}
		if p := query(t, e, a, storage.ArchiveQuery{With: a, Count: true}); p.Count != 1 || p.Messages[0].ID != self[0] || p.Messages[0].With != aPhone {
			t.Errorf("a with itself = %+v", p)
		}
		if p := query(t, e, b, storage.ArchiveQuery{With: aPhone, AfterID: ids[1]}); !slices.Equal(bodies(p), []string{"m2", "m3"}) {
			t.Errorf("b with a/phone after m1 = %q", bodies(p))
		}
		if n, err := e.DB.Archive().Purge(e.Ctx, a, pa.Messages[2].At); err != nil || n != 2 {
			t.Fatalf("a's purge before m2 = %d, %v", n, err)
		}
		if got := bodies(query(t, e, a, storage.ArchiveQuery{})); !slices.Equal(got, []string{"m2", "m3", "self"}) {
			t.Errorf("a after its purge = %q", got)
		}
		if got := bodies(query(t, e, b, storage.ArchiveQuery{})); len(got) != 4 {
			t.Errorf("b after a's purge = %q", got)
		}
		if _, err := e.DB.Archive().Query(e.Ctx, a, storage.ArchiveQuery{Max: 5, After: ids[0]}); !errors.Is(err, storage.ErrNoSuchID) {
			t.Errorf("a's purged id still pages a's archive: %v", err)
		}
		// a's purged copies come back from an export of a.
		old := []storage.ArchivedMessage{{ID: ids[0], With: bLaptop, Data: []byte("m0")}, {ID: ids[1], With: bLaptop, Data: []byte("m1")}}
		if n, err := e.DB.Archive().Import(e.Ctx, a, old); err != nil || n != 2 {
			t.Fatalf("Import of a's purged messages = %d, %v", n, err)
		}
		if p := query(t, e, a, storage.ArchiveQuery{With: b}); !slices.Equal(bodies(p), []string{"m0", "m1", "m2", "m3"}) || p.Messages[0].With != bLaptop {
			t.Errorf("a after import = %q", bodies(p))
		}
		if n, err := e.DB.Archive().Import(e.Ctx, b, []storage.ArchivedMessage{{ID: ids[0], With: a, Data: []byte("not m0")}}); err != nil || n != 0 {
			t.Errorf("Import of another message under a taken id = %d, %v", n, err)
		}
		if err := e.Accounts.Delete(e.Ctx, b); err != nil {
			t.Fatal(err)
		}
		if p := query(t, e, b, storage.ArchiveQuery{Count: true}); p.Count != 0 {
			t.Errorf("removed account b still has %d", p.Count)
		}
		if p := query(t, e, a, storage.ArchiveQuery{Count: true}); p.Count != 5 {
			t.Errorf("a after b's removal has %d, want 5", p.Count)
		}
	}},
	{"archive/group commit under concurrency", func(t *testing.T, e *Env) {
		a := e.User(t, "a")
		const writers, each = 40, 25
		var wg sync.WaitGroup
		var mu sync.Mutex
		var all []string
		errs := make(chan error, writers)
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				peer := e.JID(t, fmt.Sprintf("p%d@D", w))
				for i := range each {
					ids, err := e.DB.Archive().Append(e.Ctx,
						storage.ArchiveEntry{Owner: a, With: peer, Data: fmt.Appendf(nil, "%d-%d", w, i)},
						storage.ArchiveEntry{Owner: peer, With: a, Data: fmt.Appendf(nil, "%d-%d", w, i)})
					if err != nil {
						errs <- err
						return
					}
					mu.Lock()
					all = append(all, ids...)
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		// Both sides of a message share its id (one row, two archives).
		for i := 0; i < len(all); i += 2 {
			if all[i] != all[i+1] {
				t.Fatalf("the two sides of one message got ids %s and %s", all[i], all[i+1])
			}
		}
		slices.Sort(all)
		if len(slices.Compact(slices.Clone(all))) != writers*each {
			t.Fatalf("%d distinct ids of %d messages", len(slices.Compact(all)), writers*each)
		}
		p := query(t, e, a, storage.ArchiveQuery{Count: true, Max: 1})
		if p.Count != writers*each {
			t.Errorf("a has %d messages, want %d", p.Count, writers*each)
		}
		if p := query(t, e, e.JID(t, "p7@D"), storage.ArchiveQuery{Count: true, With: a}); p.Count != each || p.Messages[0].With != a {
			t.Errorf("p7 has %d messages with a, want %d (first %+v)", p.Count, each, p.Messages[0])
		}
		// Each writer's own messages are in its order.
		for w := range 3 {
			peer := e.JID(t, fmt.Sprintf("p%d@D", w))
			got := bodies(query(t, e, a, storage.ArchiveQuery{With: peer}))
			for i, s := range got {
				if s != fmt.Sprintf("%d-%d", w, i) {
					t.Fatalf("writer %d: %q", w, got)
				}
			}
		}
		st := e.DB.Archive().Stats()
		t.Logf("group commit: %d messages in %d transactions", st.Messages, st.Batches)
	}},
	{"archive/cancelled append writes nothing", func(t *testing.T, e *Env) {
		a := e.User(t, "a")
		ctx, cancel := context.WithCancel(e.Ctx)
		cancel()
		if _, err := e.DB.Archive().Append(ctx, storage.ArchiveEntry{Owner: a, With: e.JID(t, "b@D"), Data: []byte("x")}); !errors.Is(err, context.Canceled) {
			t.Errorf("Append with a cancelled context = %v", err)
		}
		if p := query(t, e, a, storage.ArchiveQuery{Count: true}); p.Count != 0 {
			t.Errorf("%d messages archived", p.Count)
		}
	}},
	{"archive/import keeps ids, skips known", func(t *testing.T, e *Env) {
		a := e.User(t, "a")
		b := e.JID(t, "b@D/x")
		old := time.Date(2020, 1, 2, 3, 4, 5, 6000, time.UTC)
		msgs := []storage.ArchivedMessage{
			{ID: storage.FormatArchiveID(old.UnixMicro()), With: b, Data: []byte("old1")},
			{ID: storage.FormatArchiveID(old.UnixMicro() + 1), With: b.Bare(), Data: []byte("old2")},
		}
		if n, err := e.DB.Archive().Import(e.Ctx, a, msgs); err != nil || n != 2 {
			t.Fatalf("Import = %d, %v", n, err)
		}
		if n, err := e.DB.Archive().Import(e.Ctx, a, msgs); err != nil || n != 0 {
			t.Fatalf("Import again = %d, %v", n, err)
		}
		appendN(t, e, a, 1, b)
		p := query(t, e, a, storage.ArchiveQuery{})
		if got := bodies(p); !slices.Equal(got, []string{"old1", "old2", "m0"}) {
			t.Fatalf("after import = %q", got)
		}
		if m := p.Messages[0]; m.ID != msgs[0].ID || !m.At.Equal(old) || m.With != b {
			t.Errorf("imported = %+v", m)
		}
		if _, err := e.DB.Archive().Import(e.Ctx, a, []storage.ArchivedMessage{{ID: "bad", With: b}}); err == nil {
			t.Error("bad id imported")
		}
	}},
	{"archive/submitted appends commit in order, any batch size", func(t *testing.T, e *Env) {
		// Submit does not wait: a session hands over its next message
		// while the previous one is being committed. Appends of 1..150
		// entries (full INSERT chunks and every power-of-two rest) are
		// committed in submission order with increasing ids.
		a := e.User(t, "a")
		b := e.JID(t, "b@D/x")
		var pending []*storage.PendingAppend
		sizes := []int{1, 3, 64, 65, 127, 150, 2, 1}
		n := 0
		for _, size := range sizes {
			entries := make([]storage.ArchiveEntry, size)
			for i := range entries {
				entries[i] = storage.ArchiveEntry{Owner: a, With: b, Data: fmt.Appendf(nil, "m%d", n)}
				n++
			}
			p, err := e.DB.Archive().Submit(e.Ctx, entries...)
			if err != nil {
				t.Fatal(err)
			}
			pending = append(pending, p)
		}
		var ids []string
		for i, p := range pending {
			got, err := p.Wait(e.Ctx)
			if err != nil || len(got) != sizes[i] {
				t.Fatalf("Wait %d = %d ids, %v", i, len(got), err)
			}
			ids = append(ids, got...)
		}
		if !slices.IsSorted(ids) || len(slices.Compact(slices.Clone(ids))) != n {
			t.Fatalf("ids not unique and increasing in submission order")
		}
		want := make([]int, n)
		for i := range want {
			want[i] = i
		}
		p := query(t, e, a, storage.ArchiveQuery{Max: 1000})
		if got := bodies(p); !slices.Equal(got, pick(ids, want...)) {
			t.Fatalf("archive holds %d messages out of order or missing", len(got))
		}
		for i, m := range p.Messages {
			if m.ID != ids[i] {
				t.Fatalf("message %d has id %s, Wait said %s", i, m.ID, ids[i])
			}
		}
	}},
}
