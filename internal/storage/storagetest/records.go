package storagetest

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/storage"
)

// The kinds the feature packages store (vcard, private, blocking,
// lastactivity and offline use these names).
const (
	kindVCard   = "vcard"
	kindPrivate = "private"
	kindBlock   = "blocklist"
	kindLast    = "last"
	kindOffline = "offline"
)

func recordString(recs []storage.Record) string {
	var parts []string
	for _, r := range recs {
		parts = append(parts, r.Name+"="+string(r.Data))
	}
	return strings.Join(parts, ",")
}

var recordCases = []Case{
	{"records/vcard put get replace", func(t *testing.T, e *Env) {
		u := e.User(t, "v")
		r := e.DB.Records(kindVCard)
		if _, found, err := r.Get(e.Ctx, u, ""); err != nil || found {
			t.Fatalf("Get before Put = %v, %v", found, err)
		}
		card := []byte("<vCard xmlns='vcard-temp'><FN>Vé</FN><PHOTO><BINVAL>" + strings.Repeat("QUJD", 100000) + "</BINVAL></PHOTO></vCard>")
		at := time.UnixMilli(1700000000123)
		if err := r.Put(e.Ctx, u, []storage.Record{{Data: card, Updated: at}}, 0); err != nil {
			t.Fatal(err)
		}
		got, found, err := r.Get(e.Ctx, u, "")
		if err != nil || !found || !bytes.Equal(got.Data, card) || !got.Updated.Equal(at) {
			t.Fatalf("Get = %v (%d bytes, %v), %v", found, len(got.Data), got.Updated, err)
		}
		if err := r.Put(e.Ctx, u, []storage.Record{{Data: []byte("<vCard xmlns='vcard-temp'/>")}}, 0); err != nil {
			t.Fatal(err)
		}
		if got, _, _ := r.Get(e.Ctx, u, ""); string(got.Data) != "<vCard xmlns='vcard-temp'/>" {
			t.Errorf("after replace: %q", got.Data)
		}
	}},
	{"records/private list, kinds apart, delete", func(t *testing.T, e *Env) {
		u, other := e.User(t, "p"), e.User(t, "q")
		priv, block := e.DB.Records(kindPrivate), e.DB.Records(kindBlock)
		put := func(r *storage.Records, who, names string) {
			var recs []storage.Record
			for _, n := range strings.Split(names, " ") {
				recs = append(recs, storage.Record{Name: n, Data: []byte(n + "!")})
			}
			if err := r.Put(e.Ctx, e.JID(t, who), recs, 0); err != nil {
				t.Fatal(err)
			}
		}
		put(priv, "p@D", "storage:bookmarks jabber:a urn:Z")
		put(block, "p@D", "evil@example.org")
		put(priv, "q@D", "mine")
		list, err := priv.List(e.Ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := recordString(list), "jabber:a=jabber:a!,storage:bookmarks=storage:bookmarks!,urn:Z=urn:Z!"; got != want {
			t.Errorf("List = %s, want %s", got, want)
		}
		n, err := priv.Delete(e.Ctx, u, "jabber:a", "missing")
		if err != nil || n != 1 {
			t.Errorf("Delete = %d, %v; want 1", n, err)
		}
		if n, err := priv.DeleteAll(e.Ctx, u); err != nil || n != 2 {
			t.Errorf("DeleteAll = %d, %v; want 2", n, err)
		}
		if l, _ := block.List(e.Ctx, u); recordString(l) != "evil@example.org=evil@example.org!" {
			t.Errorf("block list touched: %s", recordString(l))
		}
		if l, _ := priv.List(e.Ctx, other); recordString(l) != "mine=mine!" {
			t.Errorf("other user touched: %s", recordString(l))
		}
	}},
	{"records/limit writes nothing past it", func(t *testing.T, e *Env) {
		u := e.User(t, "lim")
		r := e.DB.Records(kindBlock)
		if err := r.Put(e.Ctx, u, []storage.Record{{Name: "a"}, {Name: "b"}}, 3); err != nil {
			t.Fatal(err)
		}
		err := r.Put(e.Ctx, u, []storage.Record{{Name: "c"}, {Name: "d"}}, 3)
		if !errors.Is(err, storage.ErrLimit) {
			t.Fatalf("Put past the limit = %v, want ErrLimit", err)
		}
		if l, _ := r.List(e.Ctx, u); len(l) != 2 {
			t.Errorf("%d records after a refused Put, want 2", len(l))
		}
	}},
	{"records/last activity and account removal", func(t *testing.T, e *Env) {
		u := e.User(t, "gone")
		if err := e.DB.Records(kindLast).Put(e.Ctx, u, []storage.Record{{Data: []byte("away")}}, 0); err != nil {
			t.Fatal(err)
		}
		if err := e.DB.Queue(kindOffline).Push(e.Ctx, u, []byte("<message/>"), time.Now(), 0); err != nil {
			t.Fatal(err)
		}
		if err := e.Accounts.Delete(e.Ctx, u); err != nil {
			t.Fatal(err)
		}
		e.User(t, "gone")
		if _, found, _ := e.DB.Records(kindLast).Get(e.Ctx, u, ""); found {
			t.Error("record survived its account")
		}
		if n, _ := e.DB.Queue(kindOffline).Len(e.Ctx, u); n != 0 {
			t.Error("queue survived its account")
		}
	}},
	{"records/no account, no record", func(t *testing.T, e *Env) {
		err := e.DB.Records(kindVCard).Put(e.Ctx, e.JID(t, "nobody@D"), []storage.Record{{Data: []byte("x")}}, 0)
		if err == nil {
			t.Error("record stored for a missing account")
		}
	}},
}

var queueCases = []Case{
	{"queue/offline push peek remove", func(t *testing.T, e *Env) {
		u := e.User(t, "off")
		q := e.DB.Queue(kindOffline)
		for i := range 5 {
			if err := q.Push(e.Ctx, u, fmt.Appendf(nil, "<message id='%d'/>", i), time.UnixMilli(int64(1000+i)), 0); err != nil {
				t.Fatal(err)
			}
		}
		items, err := q.Peek(e.Ctx, u, 3)
		if err != nil || len(items) != 3 {
			t.Fatalf("Peek(3) = %d items, %v", len(items), err)
		}
		for i, it := range items {
			if want := fmt.Sprintf("<message id='%d'/>", i); string(it.Data) != want || it.Created.UnixMilli() != int64(1000+i) {
				t.Errorf("item %d = %s at %d", i, it.Data, it.Created.UnixMilli())
			}
		}
		if n, err := q.Remove(e.Ctx, u, []int64{items[0].ID, items[1].ID, items[2].ID}); err != nil || n != 3 {
			t.Errorf("Remove = %d, %v; want 3", n, err)
		}
		rest, _ := q.Peek(e.Ctx, u, 0)
		if len(rest) != 2 || string(rest[0].Data) != "<message id='3'/>" {
			t.Errorf("after Remove: %d items", len(rest))
		}
	}},
	{"queue/limit", func(t *testing.T, e *Env) {
		u := e.User(t, "full")
		q := e.DB.Queue(kindOffline)
		for range 2 {
			if err := q.Push(e.Ctx, u, []byte("m"), time.Now(), 2); err != nil {
				t.Fatal(err)
			}
		}
		if err := q.Push(e.Ctx, u, []byte("m"), time.Now(), 2); !errors.Is(err, storage.ErrLimit) {
			t.Errorf("third Push = %v, want ErrLimit", err)
		}
	}},
	{"queue/remove takes only the items named", func(t *testing.T, e *Env) {
		// An item a reader did not see (one that committed late with a
		// smaller ID) must survive the removal of the items around it.
		u := e.User(t, "gap")
		q := e.DB.Queue(kindOffline)
		for i := range 3 {
			if err := q.Push(e.Ctx, u, fmt.Appendf(nil, "%d", i), time.Now(), 0); err != nil {
				t.Fatal(err)
			}
		}
		items, err := q.Peek(e.Ctx, u, 0)
		if err != nil || len(items) != 3 {
			t.Fatalf("Peek = %d items, %v", len(items), err)
		}
		if n, err := q.Remove(e.Ctx, u, []int64{items[0].ID, items[2].ID}); err != nil || n != 2 {
			t.Fatalf("Remove = %d, %v; want 2", n, err)
		}
		rest, _ := q.Peek(e.Ctx, u, 0)
		if len(rest) != 1 || string(rest[0].Data) != "1" {
			t.Fatalf("after Remove: %+v, want only item 1", rest)
		}
		if n, err := q.Remove(e.Ctx, u, []int64{items[0].ID}); err != nil || n != 0 {
			t.Errorf("removing a removed item = %d, %v; want 0", n, err)
		}
	}},
	{"queue/concurrent pushes keep commit order", func(t *testing.T, e *Env) {
		// Writers push while a reader delivers what it peeks and removes
		// what it saw: nothing may be removed unseen, nothing seen twice
		// may count as two.
		u := e.User(t, "busy")
		q := e.DB.Queue(kindOffline)
		const writers, each = 4, 8
		var wg sync.WaitGroup
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					if err := q.Push(e.Ctx, u, fmt.Appendf(nil, "%d-%d", w, i), time.Now(), 0); err != nil {
						t.Errorf("Push: %v", err)
						return
					}
				}
			}()
		}
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		seen := map[string]bool{}
		deliver := func() {
			items, err := q.Peek(e.Ctx, u, 5)
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range items {
				seen[string(it.Data)] = true
			}
			if len(items) > 0 {
				ids := make([]int64, len(items))
				for i, it := range items {
					ids[i] = it.ID
				}
				if _, err := q.Remove(e.Ctx, u, ids); err != nil {
					t.Fatal(err)
				}
			}
		}
		for running := true; running; {
			select {
			case <-done:
				running = false
			default:
			}
			deliver()
		}
		for n, _ := q.Len(e.Ctx, u); n > 0; n, _ = q.Len(e.Ctx, u) {
			deliver()
		}
		if len(seen) != writers*each {
			t.Errorf("delivered %d distinct items, want %d: items were removed without being seen", len(seen), writers*each)
		}
	}},
}
