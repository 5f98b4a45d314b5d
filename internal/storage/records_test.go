package storage

import (
	"context"
	"errors"
	"io/fs"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/stanza"
)

// latestMigration is the highest migration number embedded for sqlite.
func latestMigration(t *testing.T) int64 {
	t.Helper()
	entries, err := fs.ReadDir(migrations, "migrations/sqlite")
	if err != nil {
		t.Fatal(err)
	}
	var max int64
	for _, e := range entries {
		n, err := strconv.ParseInt(strings.SplitN(e.Name(), "_", 2)[0], 10, 64)
		if err == nil && n > max {
			max = n
		}
	}
	return max
}

// withAccounts opens a database with the given accounts (the records
// reference them).
func withAccounts(t testing.TB, users ...string) *DB {
	t.Helper()
	cfg := testConfig(t.(*testing.T))
	db, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, u := range users {
		j := jid.MustParse(u)
		if _, err := db.SQL().Exec("INSERT INTO accounts (domain, username, created_at) VALUES (?, ?, 0)", j.Domain(), j.Local()); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

func names(recs []Record) string {
	var s []string
	for _, r := range recs {
		s = append(s, r.Name+"="+string(r.Data))
	}
	return strings.Join(s, ",")
}

func TestRecords(t *testing.T) {
	ctx := context.Background()
	alice, bob := jid.MustParse("alice@localhost"), jid.MustParse("bob@localhost")
	tests := []struct {
		name string
		run  func(t *testing.T, r, other *Records) error
		want string // alice's records afterwards
	}{
		{"empty", func(t *testing.T, r, _ *Records) error { return nil }, ""},
		{"put and replace", func(t *testing.T, r, _ *Records) error {
			if err := r.Put(ctx, alice, []Record{{Name: "a", Data: []byte("1")}, {Name: "b", Data: []byte("2")}}, 0); err != nil {
				return err
			}
			return r.Put(ctx, alice, []Record{{Name: "a", Data: []byte("3")}}, 0)
		}, "a=3,b=2"},
		{"nil data is stored empty", func(t *testing.T, r, _ *Records) error {
			return r.Put(ctx, alice, []Record{{Name: "x"}}, 0)
		}, "x="},
		{"kinds are separate", func(t *testing.T, r, other *Records) error {
			if err := other.Put(ctx, alice, []Record{{Name: "a", Data: []byte("other")}}, 0); err != nil {
				return err
			}
			return r.Put(ctx, alice, []Record{{Name: "b", Data: []byte("mine")}}, 0)
		}, "b=mine"},
		{"users are separate", func(t *testing.T, r, _ *Records) error {
			return r.Put(ctx, bob, []Record{{Name: "a", Data: []byte("bob")}}, 0)
		}, ""},
		{"limit refuses the whole write", func(t *testing.T, r, _ *Records) error {
			if err := r.Put(ctx, alice, []Record{{Name: "a"}, {Name: "b"}}, 2); err != nil {
				return err
			}
			if err := r.Put(ctx, alice, []Record{{Name: "a", Data: []byte("new")}, {Name: "c"}}, 2); !errors.Is(err, ErrLimit) {
				t.Errorf("third record: %v, want ErrLimit", err)
			}
			// Replacing within the limit is fine.
			return r.Put(ctx, alice, []Record{{Name: "b", Data: []byte("2")}}, 2)
		}, "a=,b=2"},
		{"delete some", func(t *testing.T, r, _ *Records) error {
			if err := r.Put(ctx, alice, []Record{{Name: "a"}, {Name: "b"}, {Name: "c"}}, 0); err != nil {
				return err
			}
			n, err := r.Delete(ctx, alice, "a", "c", "missing")
			if n != 2 {
				t.Errorf("Delete = %d, want 2", n)
			}
			return err
		}, "b="},
		{"delete all", func(t *testing.T, r, other *Records) error {
			if err := r.Put(ctx, alice, []Record{{Name: "a"}, {Name: "b"}}, 0); err != nil {
				return err
			}
			if err := other.Put(ctx, alice, []Record{{Name: "a"}}, 0); err != nil {
				return err
			}
			n, err := r.DeleteAll(ctx, alice)
			if n != 2 {
				t.Errorf("DeleteAll = %d, want 2", n)
			}
			if left, _ := other.List(ctx, alice); len(left) != 1 {
				t.Errorf("other kind lost its records: %v", left)
			}
			return err
		}, ""},
		{"unknown account refused", func(t *testing.T, r, _ *Records) error {
			if err := r.Put(ctx, jid.MustParse("nobody@localhost"), []Record{{Name: "a"}}, 0); err == nil {
				t.Error("record for a missing account stored")
			}
			return nil
		}, ""},
		{"not an account JID", func(t *testing.T, r, _ *Records) error {
			for _, j := range []string{"localhost", "alice@localhost/res"} {
				if _, _, err := r.Get(ctx, jid.MustParse(j), ""); err == nil {
					t.Errorf("Get for %s accepted", j)
				}
			}
			return nil
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := withAccounts(t, "alice@localhost", "bob@localhost")
			r, other := db.Records("test"), db.Records("other")
			if err := tt.run(t, r, other); err != nil {
				t.Fatal(err)
			}
			got, err := r.List(ctx, alice)
			if err != nil {
				t.Fatal(err)
			}
			if names(got) != tt.want {
				t.Errorf("records = %q, want %q", names(got), tt.want)
			}
			for _, rec := range got {
				one, found, err := r.Get(ctx, alice, rec.Name)
				if err != nil || !found || string(one.Data) != string(rec.Data) || one.Updated.IsZero() {
					t.Errorf("Get(%q) = %+v, %v, %v", rec.Name, one, found, err)
				}
			}
		})
	}
}

func TestRecordsGoWithTheAccount(t *testing.T) {
	ctx := context.Background()
	db := withAccounts(t, "alice@localhost")
	alice := jid.MustParse("alice@localhost")
	if err := db.Records("k").Put(ctx, alice, []Record{{Name: "a"}}, 0); err != nil {
		t.Fatal(err)
	}
	if err := db.Queue("q").Push(ctx, alice, []byte("x"), time.Now(), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SQL().Exec("DELETE FROM accounts"); err != nil {
		t.Fatal(err)
	}
	if recs, _ := db.Records("k").List(ctx, alice); len(recs) != 0 {
		t.Errorf("records left: %v", recs)
	}
	if n, _ := db.Queue("q").Len(ctx, alice); n != 0 {
		t.Errorf("queue items left: %d", n)
	}
}

func TestQueue(t *testing.T) {
	ctx := context.Background()
	alice, bob := jid.MustParse("alice@localhost"), jid.MustParse("bob@localhost")
	t0 := time.UnixMilli(1_700_000_000_000)
	tests := []struct {
		name    string
		push    []string
		limit   int
		refused int // how many pushes fail with ErrLimit
		peek    int
		remove  int // remove up to the ID of the n-th peeked item (1-based); 0: none
		want    string
	}{
		{"empty", nil, 0, 0, 0, 0, ""},
		{"order kept", []string{"a", "b", "c"}, 0, 0, 0, 0, "a,b,c"},
		{"peek a prefix", []string{"a", "b", "c"}, 0, 0, 2, 0, "a,b"},
		{"limit", []string{"a", "b", "c", "d"}, 2, 2, 0, 0, "a,b"},
		{"remove prefix", []string{"a", "b", "c"}, 0, 0, 0, 2, "c"},
		{"remove all", []string{"a", "b"}, 0, 0, 0, 2, ""},
		{"room again after remove", []string{"a", "b"}, 2, 0, 0, 1, "b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := withAccounts(t, "alice@localhost", "bob@localhost")
			q := db.Queue("test")
			if err := db.Queue("other").Push(ctx, alice, []byte("other kind"), t0, 0); err != nil {
				t.Fatal(err)
			}
			if err := q.Push(ctx, bob, []byte("bob's"), t0, 0); err != nil {
				t.Fatal(err)
			}
			refused := 0
			for i, p := range tt.push {
				err := q.Push(ctx, alice, []byte(p), t0.Add(time.Duration(i)*time.Second), tt.limit)
				switch {
				case errors.Is(err, ErrLimit):
					refused++
				case err != nil:
					t.Fatal(err)
				}
			}
			if refused != tt.refused {
				t.Errorf("refused %d pushes, want %d", refused, tt.refused)
			}
			if tt.remove > 0 {
				items, err := q.Peek(ctx, alice, 0)
				if err != nil {
					t.Fatal(err)
				}
				ids := make([]int64, tt.remove)
				for i := range ids {
					ids[i] = items[i].ID
				}
				if n, err := q.Remove(ctx, alice, ids); err != nil || n != tt.remove {
					t.Fatalf("Remove = %d, %v; want %d", n, err, tt.remove)
				}
				if tt.limit > 0 {
					if err := q.Push(ctx, alice, []byte("more"), t0, tt.limit); err != nil {
						t.Errorf("push after remove: %v", err)
					}
					tt.want += ",more"
				}
			}
			items, err := q.Peek(ctx, alice, tt.peek)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for i, it := range items {
				got = append(got, string(it.Data))
				if i > 0 && it.ID <= items[i-1].ID {
					t.Errorf("IDs not increasing: %d after %d", it.ID, items[i-1].ID)
				}
			}
			if s := strings.Join(got, ","); s != strings.TrimPrefix(tt.want, ",") {
				t.Errorf("queue = %q, want %q", s, tt.want)
			}
			if len(items) > 0 && tt.remove == 0 && !items[0].Created.Equal(t0) {
				t.Errorf("created = %v, want %v", items[0].Created, t0)
			}
			if n, _ := q.Len(ctx, bob); n != 1 {
				t.Errorf("bob's queue has %d items, want 1", n)
			}
		})
	}
}

func TestElementCodec(t *testing.T) {
	msg := stanza.New(stanza.NSClient, "message").SetAttr("to", "bob@localhost").SetAttr("type", "chat")
	msg.Append(stanza.New(stanza.NSClient, "body").AppendText("<hi> & 'bye' \u00e9"))
	msg.Append(stanza.New("http://jabber.org/protocol/chatstates", "active"))
	priv := stanza.New("storage:bookmarks", "storage").Append(stanza.New("storage:bookmarks", "conference").SetAttr("jid", "room@muc"))
	tests := []struct {
		name string
		els  []*stanza.Element
	}{
		{"message", []*stanza.Element{msg}},
		{"two elements", []*stanza.Element{priv, priv}},
		{"none", nil},
	}
	var x ElementDecoder // reused across cases on purpose
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := EncodeElements(tt.els...)
			got, err := x.Decode(data)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.els) {
				t.Fatalf("decoded %d elements, want %d", len(got), len(tt.els))
			}
			for i := range got {
				if got[i].String() != tt.els[i].String() {
					t.Errorf("element %d = %s, want %s", i, got[i], tt.els[i])
				}
			}
		})
	}
	for _, bad := range []string{"<a", "<a xmlns='x'></b>", "text", "<!-- c --><a/>"} {
		if _, err := x.Decode([]byte(bad)); err == nil {
			t.Errorf("Decode(%q) accepted", bad)
		}
	}
	if got, err := x.Decode(EncodeElements(msg)); err != nil || len(got) != 1 {
		t.Errorf("decoder not reusable after an error: %v", err)
	}
}
