package mam_test

import (
	"context"
	"encoding/xml"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"mellium.im/xmpp/history"
	mjid "mellium.im/xmpp/jid"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/storage"
	"github.com/parleyim/parley/internal/xmpptest"
)

// fill archives n messages in owner's archive, alternating between
// exchanges with bob and carol, body "m<i>", straight through the store.
func fill(t *testing.T, srv *xmpptest.Server, owner string, n int) {
	t.Helper()
	o, _ := jid.Parse(owner)
	peers := []jid.JID{mustJID(t, "bob@localhost/phone"), mustJID(t, "carol@localhost/pc")}
	var batch []storage.ArchiveEntry
	for i := range n {
		p := peers[i%2]
		msg := stanza.New(stanza.NSClient, stanza.KindMessage).SetAttr("type", "chat").
			SetAttr("from", p.String()).SetAttr("to", owner).
			Append(stanza.New(stanza.NSClient, "body").AppendText("m" + strconv.Itoa(i)))
		batch = append(batch, storage.ArchiveEntry{Owner: o, With: p, Data: storage.EncodeElements(msg)})
		if len(batch) == 1000 || i == n-1 {
			if _, err := srv.Archive().Append(context.Background(), batch...); err != nil {
				t.Fatal(err)
			}
			batch = batch[:0]
		}
	}
}

func mustJID(t *testing.T, s string) jid.JID {
	t.Helper()
	j, err := jid.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// page fetches one page with mellium's MAM client (mellium.im/xmpp/
// history: its query form, RSM and <fin/> decoding) and returns the
// results, "body@id", and the fin. The results arrive on c.In before the
// iq result.
func page(t *testing.T, c *xmpptest.Client, q history.Query) ([]string, history.Result) {
	t.Helper()
	c.Drain()
	q.ID = "page"
	res, err := history.Fetch(context.Background(), q, c.JID.Bare(), c.S)
	if err != nil {
		t.Fatalf("fetch %+v: %v", q, err)
	}
	var out []string
	for _, st := range c.Drain() {
		var r result
		if err := xml.Unmarshal([]byte(st.Inner), &r); err != nil || r.Result.QueryID != "page" {
			t.Fatalf("not a result of the query: %s (%v)", st.Inner, err)
		}
		out = append(out, r.Result.Forwarded.Message.Body+"@"+r.Result.ID)
	}
	return out, res
}

// Paging through 10,000 archived messages forwards and backwards with
// mellium's MAM client, then with a 'with' filter: every message once, in
// order.
func TestPaging10000BothWays(t *testing.T) {
	n := 10000
	if s := os.Getenv("PARLEY_MAM_PAGING_N"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	srv := start(t)
	fill(t, srv, "alice@localhost", n)
	c := srv.Dial(t, "alice@localhost", "pw", xmpptest.DialOptions{})
	want := make([]string, n)
	for i := range want {
		want[i] = "m" + strconv.Itoa(i)
	}
	bodiesOf := func(items []string) []string {
		out := make([]string, len(items))
		for i, s := range items {
			out[i] = s[:len(s)-14] // drop "@" + the 13-character id
		}
		return out
	}
	lastID := func(items []string) string { return items[len(items)-1][len(items[len(items)-1])-13:] }
	firstID := func(items []string) string { return items[0][len(items[0])-13:] }

	var fwd []string
	pageID := ""
	for pages := 0; ; pages++ {
		items, res := page(t, c, history.Query{Limit: 250, PageID: pageID})
		if res.Set.Count == nil || *res.Set.Count != uint64(n) || len(items) == 0 {
			t.Fatalf("forward page %d: %d items, fin %+v", pages, len(items), res)
		}
		fwd = append(fwd, bodiesOf(items)...)
		if res.Set.Last != lastID(items) || res.Set.First.ID != firstID(items) {
			t.Fatalf("forward page %d: fin first/last %q/%q", pages, res.Set.First.ID, res.Set.Last)
		}
		if res.Complete {
			break
		}
		if pages > n/250+1 {
			t.Fatal("forward paging does not end")
		}
		pageID = res.Set.Last
	}
	if !slices.Equal(fwd, want) {
		t.Fatalf("forward: %d messages, first differences at %d", len(fwd), firstDiff(fwd, want))
	}

	var back []string
	pageID = ""
	for pages := 0; ; pages++ {
		items, res := page(t, c, history.Query{Limit: 250, PageID: pageID, Last: true})
		if len(items) == 0 {
			t.Fatalf("backward page %d empty, fin %+v", pages, res)
		}
		back = append(bodiesOf(items), back...)
		if res.Complete {
			break
		}
		if pages > n/250+1 {
			t.Fatal("backward paging does not end")
		}
		pageID = res.Set.First.ID
	}
	if !slices.Equal(back, want) {
		t.Fatalf("backward: %d messages, first difference at %d", len(back), firstDiff(back, want))
	}

	// With a filter, flipped pages from the end.
	items, res := page(t, c, history.Query{With: mjid.MustParse("carol@localhost"), Limit: 3, Last: true, Reverse: true})
	if got, w := bodiesOf(items), []string{want[n-1], want[n-3], want[n-5]}; !slices.Equal(got, w) || *res.Set.Count != uint64(n/2) {
		t.Errorf("with carol, last page flipped = %q (count %d), want %q", got, *res.Set.Count, w)
	}
	start := time.Now()
	for range 20 {
		page(t, c, history.Query{Limit: 50, Last: true})
	}
	t.Logf("last page of 50 from %d messages over the socket: %v per query", n, time.Since(start)/20)
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
