package mam_test

import (
	"context"
	"encoding/xml"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/storage"
	"github.com/parleyim/parley/internal/xmpptest"
)

// A chat message is archived for both parties, under one id (one row in
// both archives); the recipient's copy carries it as a stanza-id by the
// recipient, the sender's origin-id is kept, and a stanza-id the sender
// forged is gone.
func TestArchiveBothSidesWithStanzaID(t *testing.T) {
	srv := start(t)
	alice, bob := online(t, srv, "alice"), online(t, srv, "bob")
	alice.Send(t, `<message type='chat' to='bob@localhost' id='m1'><body>hello bob</body>`+
		`<origin-id xmlns='urn:xmpp:sid:0' id='origin-1'/>`+
		`<stanza-id xmlns='urn:xmpp:sid:0' by='bob@localhost' id='forged'/>`+
		`<stanza-id xmlns='urn:xmpp:sid:0' by='remote.example' id='theirs'/></message>`)
	got := bob.Expect(t, wait, "the message", func(st xmpptest.Stanza) bool { return strings.Contains(st.Inner, "hello bob") })
	var msg struct {
		StanzaID []struct {
			By string `xml:"by,attr"`
			ID string `xml:"id,attr"`
		} `xml:"urn:xmpp:sid:0 stanza-id"`
		Origin struct {
			ID string `xml:"id,attr"`
		} `xml:"urn:xmpp:sid:0 origin-id"`
	}
	if err := xml.Unmarshal([]byte(got.Inner), &msg); err != nil {
		t.Fatal(err)
	}
	var ours string
	for _, s := range msg.StanzaID {
		switch {
		case s.ID == "forged":
			t.Errorf("forged stanza-id delivered: %s", got.Inner)
		case s.By == "bob@localhost":
			if ours != "" {
				t.Errorf("two stanza-ids by bob: %s", got.Inner)
			}
			ours = s.ID
		}
	}
	if ours == "" || msg.Origin.ID != "origin-1" {
		t.Fatalf("delivered copy: stanza-id %q, origin-id %q: %s", ours, msg.Origin.ID, got.Inner)
	}
	rs, fin := query(t, bob, "", "")
	if fin.Type != "result" || len(rs) != 1 || rs[0].Result.ID != ours || rs[0].Result.Forwarded.Message.Body != "hello bob" {
		t.Fatalf("bob's archive: %+v, %+v", rs, fin)
	}
	if m := rs[0].Result.Forwarded.Message; !strings.HasPrefix(m.From, "alice@localhost/") || m.To != "bob@localhost" || len(m.StanzaID) != 1 || m.StanzaID[0].ID != "theirs" {
		t.Errorf("archived message: %+v", m)
	}
	if _, err := time.Parse(time.RFC3339, rs[0].Result.Forwarded.Delay.Stamp); err != nil {
		t.Errorf("delay stamp: %v", err)
	}
	ra, fin := query(t, alice, "to='alice@localhost'", "")
	if fin.Type != "result" || len(ra) != 1 || ra[0].Result.Forwarded.Message.Body != "hello bob" || ra[0].Result.ID != ours {
		t.Fatalf("alice's archive: %+v, %+v", ra, fin)
	}
	if *fin.Fin.Set.Count != 1 || fin.Fin.Complete != "true" || fin.Fin.Set.First != ra[0].Result.ID {
		t.Errorf("fin = %+v", fin.Fin)
	}
}

// The archive rules: what is archived and what is not (XEP-0313 §5.1.1,
// XEP-0334, XEP-0333, XEP-0184).
func TestWhatIsArchived(t *testing.T) {
	srv := start(t)
	alice, bob := online(t, srv, "alice"), online(t, srv, "bob")
	for _, m := range []string{
		`<message type='chat' to='bob@localhost'><body>yes-chat</body></message>`,
		`<message to='bob@localhost'><body>yes-normal</body></message>`,
		`<message type='chat' to='bob@localhost'><store xmlns='urn:xmpp:hints'/><thread>yes-store-hint</thread></message>`,
		`<message type='chat' to='bob@localhost'><displayed xmlns='urn:xmpp:chat-markers:0' id='yes-marker'/></message>`,
		`<message type='chat' to='bob@localhost'><body>no-store</body><no-store xmlns='urn:xmpp:hints'/></message>`,
		`<message type='chat' to='bob@localhost'><body>no-permanent-store</body><no-permanent-store xmlns='urn:xmpp:hints'/></message>`,
		`<message type='headline' to='bob@localhost'><body>no-headline</body></message>`,
		`<message type='chat' to='bob@localhost'><received xmlns='urn:xmpp:receipts' id='no-receipt'/></message>`,
		`<message type='chat' to='bob@localhost'><composing xmlns='http://jabber.org/protocol/chatstates'/><thread>no-chatstate</thread></message>`,
		`<message type='chat' to='bob@localhost'><markable xmlns='urn:xmpp:chat-markers:0'/><thread>no-markable-alone</thread></message>`,
	} {
		alice.Send(t, m)
	}
	xmpptest.Settle(t, alice, bob)
	// Receipts, markers and hinted messages are routed all the same.
	var routed string
	for _, st := range bob.Drain() {
		routed += st.Inner
	}
	for _, want := range []string{"no-receipt", "yes-marker", "no-store", "no-permanent-store", "yes-store-hint", "no-chatstate"} {
		if !strings.Contains(routed, want) {
			t.Errorf("bob did not receive %s", want)
		}
	}
	for _, c := range []*xmpptest.Client{alice, bob} {
		rs, fin := query(t, c, "", "")
		var got []string
		for _, r := range rs {
			inner := r.Result.Forwarded.Message.Inner
			for _, word := range []string{"yes-chat", "yes-normal", "yes-store-hint", "yes-marker"} {
				if strings.Contains(inner, word) {
					got = append(got, word)
				}
			}
			if strings.Contains(inner, "no-") {
				t.Errorf("%s archived %s", c.JID, inner)
			}
		}
		if want := []string{"yes-chat", "yes-normal", "yes-store-hint", "yes-marker"}; !slices.Equal(got, want) || *fin.Fin.Set.Count != 4 {
			t.Errorf("%s archived %q (count %d), want %q", c.JID, got, *fin.Fin.Set.Count, want)
		}
	}
}

// Every filter of the form, and the RSM features, over a real socket.
func TestFilters(t *testing.T) {
	srv := start(t)
	alice, bob, carol := online(t, srv, "alice"), online(t, srv, "bob"), online(t, srv, "carol")
	chat(t, alice, "bob@localhost", "ab", 3)
	chat(t, carol, "alice@localhost", "ca", 2)
	chat(t, alice, bob.JID.String(), "full", 1)
	xmpptest.Settle(t, bob, carol)
	all, _ := query(t, alice, "", "")
	if got := bodies(all); !slices.Equal(got, []string{"ab0", "ab1", "ab2", "ca0", "ca1", "full0"}) {
		t.Fatalf("all = %q", got)
	}
	id := ids(all)
	cases := []struct {
		name, inner string
		want        []string
	}{
		{"with bare", form("with", "bob@localhost"), []string{"ab0", "ab1", "ab2", "full0"}},
		{"with full", form("with", bob.JID.String()), []string{"full0"}},
		{"with carol", form("with", "carol@localhost"), []string{"ca0", "ca1"}},
		{"after-id", form("after-id", id[3]), []string{"ca1", "full0"}},
		{"before-id", form("before-id", id[2]), []string{"ab0", "ab1"}},
		{"after-id and before-id", form("after-id", id[0], "before-id", id[3]), []string{"ab1", "ab2"}},
		{"ids", form("ids", id[4]+" "+id[1]), []string{"ab1", "ca1"}},
		{"start", form("start", all[4].Result.Forwarded.Delay.Stamp), []string{"ca1", "full0"}},
		{"max 2", rsm(`<max>2</max>`), []string{"ab0", "ab1"}},
		{"after", rsm(`<max>2</max><after>` + id[1] + `</after>`), []string{"ab2", "ca0"}},
		{"last page", rsm(`<max>2</max><before/>`), []string{"ca1", "full0"}},
		{"before", rsm(`<max>2</max><before>` + id[3] + `</before>`), []string{"ab1", "ab2"}},
		{"flip-page", rsm(`<max>2</max><before/>`) + `<flip-page/>`, []string{"full0", "ca1"}},
		{"with and RSM", form("with", "bob@localhost") + rsm(`<max>3</max><before/>`), []string{"ab1", "ab2", "full0"}},
	}
	for _, c := range cases {
		rs, fin := query(t, alice, "", c.inner)
		if fin.Type != "result" || !slices.Equal(bodies(rs), c.want) {
			t.Errorf("%s: %q (%s), want %q", c.name, bodies(rs), fin.condition(), c.want)
		}
	}
	// start and end by the archive's own stamps.
	rs, _ := query(t, alice, "", form("start", all[1].Result.Forwarded.Delay.Stamp, "end", all[3].Result.Forwarded.Delay.Stamp))
	if got := bodies(rs); !slices.Equal(got, []string{"ab1", "ab2", "ca0"}) {
		t.Errorf("start..end = %q", got)
	}
	rs, fin := query(t, alice, "", form("start", "2000-01-01T00:00:00Z", "end", "2000-12-31T23:59:59Z"))
	if len(rs) != 0 || fin.Fin.Complete != "true" || *fin.Fin.Set.Count != 0 || fin.Fin.Set.First != "" {
		t.Errorf("empty range: %d results, fin %+v", len(rs), fin.Fin)
	}
	// max 0 returns the count only.
	rs, fin = query(t, alice, "", form("with", "carol@localhost")+rsm(`<max>0</max>`))
	if len(rs) != 0 || *fin.Fin.Set.Count != 2 {
		t.Errorf("max 0: %d results, count %v", len(rs), fin.Fin.Set.Count)
	}
	// Paging fin: not complete until the last page.
	_, fin = query(t, alice, "", rsm(`<max>4</max>`))
	if fin.Fin.Complete == "true" || fin.Fin.Set.First != id[0] || fin.Fin.Set.Last != id[3] || *fin.Fin.Set.Count != 6 {
		t.Errorf("first page fin = %+v", fin.Fin)
	}
	_, fin = query(t, alice, "", rsm(`<max>4</max><after>`+id[3]+`</after>`))
	if fin.Fin.Complete != "true" || fin.Fin.Set.First != id[4] || fin.Fin.Set.Last != id[5] {
		t.Errorf("second page fin = %+v", fin.Fin)
	}
	// The metadata (#extended).
	md := alice.IQ(t, `<iq type='get' id='md'><metadata xmlns='urn:xmpp:mam:2'/></iq>`)
	if !strings.Contains(md.Inner, `<start xmlns="urn:xmpp:mam:2" id="`+id[0]+`"`) || !strings.Contains(md.Inner, `<end xmlns="urn:xmpp:mam:2" id="`+id[5]+`"`) {
		t.Errorf("metadata = %s", md.Inner)
	}
	// The form and the disco features.
	f := alice.IQ(t, `<iq type='get' id='f'><query xmlns='urn:xmpp:mam:2'/></iq>`)
	for _, v := range []string{"FORM_TYPE", "with", "start", "end", "after-id", "before-id", "ids"} {
		if !strings.Contains(f.Inner, `var="`+v+`"`) {
			t.Errorf("form lacks %s: %s", v, f.Inner)
		}
	}
	disco := alice.IQ(t, `<iq type='get' id='d' to='alice@localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`)
	for _, v := range []string{"urn:xmpp:mam:2", "urn:xmpp:mam:2#extended"} {
		if !strings.Contains(disco.Inner, `var="`+v+`"`) {
			t.Errorf("account disco#info lacks %s: %s", v, disco.Inner)
		}
	}
}

// Bad queries get the right error, and the archive is not touched.
func TestBadQueries(t *testing.T) {
	srv := start(t, withMAM(func(m *config.MAM) { m.MaxPageSize = 5; m.DefaultPageSize = 5 }))
	alice, bob := online(t, srv, "alice"), online(t, srv, "bob")
	chat(t, alice, "bob@localhost", "m", 7)
	for _, c := range []struct {
		name, attrs, inner, cond string
	}{
		{"another user's archive", "to='bob@localhost'", "", "forbidden"},
		{"unknown field", "", form("color", "blue"), "bad-request"},
		{"bad FORM_TYPE", "", `<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>urn:xmpp:mam:1</value></field></x>`, "bad-request"},
		{"year 99999", "", form("start", "99999-01-01T00:00:00Z"), "bad-request"},
		{"not a date", "", form("end", "yesterday"), "bad-request"},
		{"start after end", "", form("start", "2030-01-01T00:00:00Z", "end", "2020-01-01T00:00:00Z"), "bad-request"},
		{"bad with", "", form("with", "@@"), "jid-malformed"},
		{"unknown after-id", "", form("after-id", "nonexistent"), "item-not-found"},
		{"unknown RSM after", "", rsm(`<after>0000000000001</after>`), "item-not-found"},
		{"negative max", "", rsm(`<max>-1</max>`), "bad-request"},
		{"RSM index", "", rsm(`<index>3</index>`), "feature-not-implemented"},
		{"unknown child", "", `<foo xmlns='urn:example'/>`, "bad-request"},
	} {
		_, fin := query(t, alice, c.attrs, c.inner)
		if fin.Type != "error" || fin.condition() != c.cond {
			t.Errorf("%s: %s %s, want %s", c.name, fin.Type, fin.condition(), c.cond)
		}
	}
	// A huge max is capped: 5 results, not complete.
	rs, fin := query(t, alice, "", rsm(`<max>1000000000</max>`))
	if len(rs) != 5 || fin.Fin.Complete == "true" || *fin.Fin.Set.Count != 7 {
		t.Errorf("huge max: %d results, fin %+v", len(rs), fin.Fin)
	}
	if md := alice.IQ(t, `<iq type='get' id='md' to='bob@localhost'><metadata xmlns='urn:xmpp:mam:2'/></iq>`); !strings.Contains(md.Inner, "forbidden") {
		t.Errorf("metadata of another archive: %s", md.Inner)
	}
	if p := alice.IQ(t, `<iq type='get' id='p' to='bob@localhost'><prefs xmlns='urn:xmpp:mam:2'/></iq>`); !strings.Contains(p.Inner, "forbidden") {
		t.Errorf("prefs of another user: %s", p.Inner)
	}
	if _, fin := query(t, bob, "", ""); *fin.Fin.Set.Count != 7 {
		t.Errorf("bob's archive has %d", *fin.Fin.Set.Count)
	}
}

// Preferences: stored per user, applied per party.
func TestPreferences(t *testing.T) {
	srv := start(t)
	alice, bob, carol := online(t, srv, "alice"), online(t, srv, "bob"), online(t, srv, "carol")
	p := alice.IQ(t, `<iq type='get' id='p'><prefs xmlns='urn:xmpp:mam:2'/></iq>`)
	if !strings.Contains(p.Inner, `default="always"`) {
		t.Fatalf("default prefs: %s", p.Inner)
	}
	set := alice.IQ(t, `<iq type='set' id='p'><prefs xmlns='urn:xmpp:mam:2' default='always'><always/><never><jid>bob@localhost</jid></never></prefs></iq>`)
	if set.Attr("type") != "result" || !strings.Contains(set.Inner, "bob@localhost</jid>") {
		t.Fatalf("set prefs: %s", set.Inner)
	}
	chat(t, alice, "bob@localhost", "ab", 1)
	chat(t, alice, "carol@localhost", "ac", 1)
	xmpptest.Settle(t, bob, carol)
	if rs, _ := query(t, alice, "", ""); !slices.Equal(bodies(rs), []string{"ac0"}) {
		t.Errorf("alice (never bob) archived %q", bodies(rs))
	}
	if rs, _ := query(t, bob, "", ""); !slices.Equal(bodies(rs), []string{"ab0"}) {
		t.Errorf("bob archived %q", bodies(rs))
	}
	// default never, always carol: only carol's.
	bob.IQ(t, `<iq type='set' id='p'><prefs xmlns='urn:xmpp:mam:2' default='never'><always><jid>carol@localhost</jid></always><never/></prefs></iq>`)
	chat(t, alice, "bob@localhost", "x", 1)
	chat(t, carol, "bob@localhost", "cb", 1)
	xmpptest.Settle(t, bob)
	if rs, _ := query(t, bob, "", ""); !slices.Equal(bodies(rs), []string{"ab0", "cb0"}) {
		t.Errorf("bob (never, always carol) archived %q", bodies(rs))
	}
	// default roster: carol has alice in her roster, not bob.
	carol.IQ(t, `<iq type='set' id='r'><query xmlns='jabber:iq:roster'><item jid='alice@localhost'/></query></iq>`)
	carol.IQ(t, `<iq type='set' id='p'><prefs xmlns='urn:xmpp:mam:2' default='roster'/></iq>`)
	chat(t, alice, "carol@localhost", "r-alice", 1)
	chat(t, bob, "carol@localhost", "r-bob", 1)
	xmpptest.Settle(t, carol)
	if rs, _ := query(t, carol, "", ""); !slices.Equal(bodies(rs), []string{"ac0", "cb0", "r-alice0"}) {
		t.Errorf("carol (roster) archived %q", bodies(rs))
	}
	// Stored: a new session reads them back.
	again := srv.Dial(t, "bob@localhost", "pw", xmpptest.DialOptions{})
	if p := again.IQ(t, `<iq type='get' id='p'><prefs xmlns='urn:xmpp:mam:2'/></iq>`); !strings.Contains(p.Inner, `default="never"`) || !strings.Contains(p.Inner, "carol@localhost") {
		t.Errorf("stored prefs: %s", p.Inner)
	}
	if bad := alice.IQ(t, `<iq type='set' id='p'><prefs xmlns='urn:xmpp:mam:2' default='sometimes'/></iq>`); !strings.Contains(bad.Inner, "bad-request") {
		t.Errorf("bad default: %s", bad.Inner)
	}
}

// A client that syncs with the archive (queries it before its initial
// presence) does not also get the offline flood of what the archive has;
// a client that does not keeps offline delivery.
func TestOfflineAndArchive(t *testing.T) {
	srv := start(t)
	alice := online(t, srv, "alice")
	send := func(tag string) {
		chat(t, alice, "bob@localhost", tag, 2)
		alice.Send(t, `<message type='chat' to='bob@localhost'><body>`+tag+`-transient</body><no-permanent-store xmlns='urn:xmpp:hints'/></message>`)
		xmpptest.Settle(t, alice)
	}
	offlineBodies := func(c *xmpptest.Client) []string {
		xmpptest.Settle(t, c)
		var out []string
		for _, st := range c.Drain() {
			if st.XMLName.Local == "message" && strings.Contains(st.Inner, "Offline Storage") {
				var m struct {
					Body string `xml:"body"`
				}
				xml.Unmarshal([]byte(st.Inner), &m)
				out = append(out, m.Body)
			}
		}
		return out
	}
	send("one")
	mamClient := srv.Dial(t, "bob@localhost", "pw", xmpptest.DialOptions{})
	rs, _ := query(t, mamClient, "", "")
	if !slices.Equal(bodies(rs), []string{"one0", "one1"}) {
		t.Fatalf("archive = %q", bodies(rs))
	}
	mamClient.Send(t, `<presence/>`)
	if got := offlineBodies(mamClient); !slices.Equal(got, []string{"one-transient"}) {
		t.Errorf("MAM client got offline %q, want only the unarchived one", got)
	}
	mamClient.Close()
	gone(t, srv, "bob@localhost")
	send("two")
	plain := srv.Dial(t, "bob@localhost", "pw", xmpptest.DialOptions{})
	plain.Send(t, `<presence/>`)
	if got := offlineBodies(plain); !slices.Equal(got, []string{"two0", "two1", "two-transient"}) {
		t.Errorf("plain client got offline %q", got)
	}
	if _, fin := query(t, plain, "", ""); *fin.Fin.Set.Count != 4 {
		t.Errorf("archive holds %d, want 4", *fin.Fin.Set.Count)
	}
}

// Carbon copies carry the recipient's stanza-id; a no-copy hint is
// honoured (carbons) while the message is still archived.
func TestCarbonsCarryStanzaID(t *testing.T) {
	srv := start(t)
	alice := online(t, srv, "alice")
	bob1, bob2 := online(t, srv, "bob"), online(t, srv, "bob")
	for _, c := range []*xmpptest.Client{bob1, bob2} {
		c.IQ(t, `<iq type='set' id='cb'><enable xmlns='urn:xmpp:carbons:2'/></iq>`)
	}
	alice.Send(t, fmt.Sprintf(`<message type='chat' to='%s'><body>to-bob1</body></message>`, bob1.JID))
	alice.Send(t, fmt.Sprintf(`<message type='chat' to='%s'><body>nocopy</body><no-copy xmlns='urn:xmpp:hints'/></message>`, bob1.JID))
	xmpptest.Settle(t, alice, bob1, bob2)
	var carbon string
	for _, st := range bob2.Drain() {
		if strings.Contains(st.Inner, "nocopy") {
			t.Errorf("no-copy message copied: %s", st.Inner)
		}
		if strings.Contains(st.Inner, "to-bob1") {
			carbon = st.Inner
		}
	}
	rs, _ := query(t, bob2, "", "")
	if len(rs) != 2 || !strings.Contains(carbon, `by="bob@localhost" id="`+rs[0].Result.ID+`"`) {
		t.Errorf("carbon %s; archive %q", carbon, ids(rs))
	}
}

// The retention job removes messages older than mam.retention and keeps
// the others.
func TestRetention(t *testing.T) {
	srv := start(t, withMAM(func(m *config.MAM) {
		m.Retention = config.Duration(24 * time.Hour)
		m.RetentionInterval = config.Duration(20 * time.Millisecond)
	}))
	alice := online(t, srv, "alice")
	chat(t, alice, "bob@localhost", "new", 1)
	old := []storage.ArchivedMessage{{
		ID:   storage.FormatArchiveID(time.Now().Add(-48 * time.Hour).UnixMicro()),
		With: jid.MustParse("bob@localhost"), Data: []byte(`<message xmlns='jabber:client'><body>old</body></message>`),
	}}
	if n, err := srv.Archive().Import(context.Background(), jid.MustParse("alice@localhost"), old); err != nil || n != 1 {
		t.Fatalf("import: %d, %v", n, err)
	}
	deadline := time.Now().Add(wait)
	for {
		rs, _ := query(t, alice, "", "")
		if slices.Equal(bodies(rs), []string{"new0"}) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("archive still %q", bodies(rs))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A page of big messages is shortened to fit the session's output limit
// instead of closing the session as a slow consumer; paging on from its
// last id gets the rest.
func TestBigMessagesPage(t *testing.T) {
	srv := start(t, func(c *config.Config) { c.Limits.MaxOutboundBytes = 1 << 20 })
	alice, bob := online(t, srv, "alice"), online(t, srv, "bob")
	big := strings.Repeat("x", 100<<10)
	for i := range 12 {
		alice.Send(t, fmt.Sprintf(`<message type='chat' to='bob@localhost'><body>%d %s</body></message>`, i, big))
		xmpptest.Settle(t, alice, bob)
		bob.Drain()
	}
	seen, after := 0, ""
	for pages := 0; pages < 12; pages++ {
		inner := rsm(`<max>12</max>`)
		if after != "" {
			inner = rsm(`<max>12</max><after>` + after + `</after>`)
		}
		rs, fin := query(t, bob, "", inner)
		if fin.Type != "result" || len(rs) == 0 || len(rs) > 3 {
			t.Fatalf("page %d: %d results (%s)", pages, len(rs), fin.condition())
		}
		for _, r := range rs {
			if !strings.HasPrefix(r.Result.Forwarded.Message.Body, fmt.Sprintf("%d ", seen)) {
				t.Fatalf("result %d out of order", seen)
			}
			seen++
		}
		if fin.Fin.Complete == "true" {
			break
		}
		after = fin.Fin.Set.Last
	}
	if seen != 12 {
		t.Errorf("paged through %d of 12", seen)
	}
	xmpptest.Settle(t, bob) // still connected
}

// A message to oneself is archived once, and the copy delivered carries
// that archive id.
func TestMessageToSelf(t *testing.T) {
	srv := start(t)
	a1, a2 := online(t, srv, "alice"), online(t, srv, "alice")
	a1.Send(t, fmt.Sprintf(`<message type='chat' to='%s'><body>note to self</body></message>`, a2.JID))
	got := a2.Expect(t, wait, "the note", func(st xmpptest.Stanza) bool { return strings.Contains(st.Inner, "note to self") })
	rs, fin := query(t, a1, "", "")
	if len(rs) != 1 || *fin.Fin.Set.Count != 1 || !strings.Contains(got.Inner, `by="alice@localhost" id="`+rs[0].Result.ID+`"`) {
		t.Errorf("archive %q; delivered %s", ids(rs), got.Inner)
	}
}
