package roster_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/xmpptest"
)

func TestRosterGetSetRemoveWithPushes(t *testing.T) {
	srv := xmpptest.Start(t)
	srv.AddUser(t, "alice@localhost", pw)
	a1 := dial(t, srv, "alice@localhost")
	a2 := dial(t, srv, "alice@localhost")
	a3 := dial(t, srv, "alice@localhost") // never asks for the roster: not interested
	for _, c := range []*xmpptest.Client{a1, a2} {
		if res := rosterGet(t, c, "-"); res.Attr("type") != "result" || strings.Contains(res.Inner, "<item") {
			t.Fatalf("empty roster get: %+v", res)
		}
	}
	cases := []struct {
		name, item string
		want       []string // substrings of the pushed item
	}{
		{"add", `<item jid='bob@example.org' name='Bob'><group>Friends</group></item>`,
			[]string{`name="Bob"`, `subscription="none"`, `>Friends</group>`}},
		{"rename and regroup", `<item jid='bob@example.org' name='Robert'><group>Work</group><group>Chess</group></item>`,
			[]string{`name="Robert"`, `>Chess</group>`, `>Work</group>`}},
		{"client subscription and ask are ignored", `<item jid='bob@example.org' name='Robert' subscription='both' ask='subscribe'/>`,
			[]string{`subscription="none"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if res := rosterSet(t, a1, tc.item); res.Attr("type") != "result" {
				t.Fatalf("set: %+v", res)
			}
			for _, c := range []*xmpptest.Client{a1, a2} {
				push := c.Expect(t, wait, "push", isPush("bob@example.org"))
				for _, w := range tc.want {
					if !strings.Contains(push.Inner, w) {
						t.Errorf("push to %s lacks %s: %s", c.JID, w, push.Inner)
					}
				}
				if strings.Contains(push.Inner, "ask=") {
					t.Errorf("push has ask: %s", push.Inner)
				}
			}
		})
	}
	res := rosterGet(t, a2, "-")
	if !strings.Contains(res.Inner, `jid="bob@example.org"`) || !strings.Contains(res.Inner, `name="Robert"`) {
		t.Fatalf("roster after set: %s", res.Inner)
	}
	t.Run("remove", func(t *testing.T) {
		if res := rosterSet(t, a2, `<item jid='bob@example.org' subscription='remove'/>`); res.Attr("type") != "result" {
			t.Fatalf("remove: %+v", res)
		}
		for _, c := range []*xmpptest.Client{a1, a2} {
			push := c.Expect(t, wait, "removal push", isPush("bob@example.org"))
			if !strings.Contains(push.Inner, `subscription="remove"`) {
				t.Fatalf("removal push: %s", push.Inner)
			}
		}
		if res := rosterSet(t, a2, `<item jid='bob@example.org' subscription='remove'/>`); errorCondition(res) != "item-not-found" {
			t.Fatalf("second remove: %+v", res)
		}
	})
	a3.ExpectNone(t, 0, "push to a resource that never asked for the roster", anyPush)
	if got := len(a3.In); got != 0 {
		for range got {
			if st := <-a3.In; anyPush(st) {
				t.Fatalf("uninterested resource got a push: %+v", st)
			}
		}
	}
}

func TestRosterSetErrors(t *testing.T) {
	srv := xmpptest.Start(t)
	srv.AddUser(t, "alice@localhost", pw)
	srv.AddUser(t, "bob@localhost", pw)
	a := dial(t, srv, "alice@localhost")
	long := strings.Repeat("n", srv.Config.Roster.MaxNameBytes+1)
	longGroup := strings.Repeat("g", srv.Config.Roster.MaxGroupNameBytes+1)
	var manyGroups strings.Builder
	for i := range 3000 {
		fmt.Fprintf(&manyGroups, "<group>g%d</group>", i)
	}
	cases := []struct{ name, iq, want string }{
		{"two items", `<iq type='set' id='e1'><query xmlns='jabber:iq:roster'><item jid='x@y'/><item jid='z@y'/></query></iq>`, "bad-request"},
		{"no item", `<iq type='set' id='e2'><query xmlns='jabber:iq:roster'/></iq>`, "bad-request"},
		{"no jid", `<iq type='set' id='e3'><query xmlns='jabber:iq:roster'><item name='x'/></query></iq>`, "jid-malformed"},
		{"bad jid", `<iq type='set' id='e4'><query xmlns='jabber:iq:roster'><item jid='a@@b'/></query></iq>`, "jid-malformed"},
		{"full jid", `<iq type='set' id='e5'><query xmlns='jabber:iq:roster'><item jid='a@b/c'/></query></iq>`, "bad-request"},
		{"huge name", `<iq type='set' id='e6'><query xmlns='jabber:iq:roster'><item jid='a@b' name='` + long + `'/></query></iq>`, "not-acceptable"},
		{"huge group", `<iq type='set' id='e7'><query xmlns='jabber:iq:roster'><item jid='a@b'><group>` + longGroup + `</group></item></query></iq>`, "not-acceptable"},
		{"empty group", `<iq type='set' id='e8'><query xmlns='jabber:iq:roster'><item jid='a@b'><group></group></item></query></iq>`, "not-acceptable"},
		{"duplicate group", `<iq type='set' id='e9'><query xmlns='jabber:iq:roster'><item jid='a@b'><group>x</group><group>x</group></item></query></iq>`, "bad-request"},
		{"thousands of groups", `<iq type='set' id='e10'><query xmlns='jabber:iq:roster'><item jid='a@b'>` + manyGroups.String() + `</item></query></iq>`, "resource-constraint"},
		{"someone else's roster", `<iq type='set' id='e11' to='bob@localhost'><query xmlns='jabber:iq:roster'><item jid='a@b'/></query></iq>`, "forbidden"},
		{"someone else's roster get", `<iq type='get' id='e12' to='bob@localhost'><query xmlns='jabber:iq:roster'/></iq>`, "forbidden"},
		{"remove unknown", `<iq type='set' id='e13'><query xmlns='jabber:iq:roster'><item jid='nobody@b' subscription='remove'/></query></iq>`, "item-not-found"},
	}
	// One good item first: errors must not touch it.
	if res := rosterSet(t, a, `<item jid='keep@example.org' name='Keep'><group>G</group></item>`); res.Attr("type") != "result" {
		t.Fatalf("set: %+v", res)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := iq(t, a, tc.iq)
			if got := errorCondition(res); got != tc.want {
				t.Fatalf("got %q, want %q: %+v", got, tc.want, res)
			}
		})
	}
	res := rosterGet(t, a, "-")
	if n := strings.Count(res.Inner, "<item"); n != 1 || !strings.Contains(res.Inner, `name="Keep"`) || !strings.Contains(res.Inner, ">G</group>") {
		t.Fatalf("roster after errors: %s", res.Inner)
	}
	if ping := iq(t, a, `<iq type='get' id='p' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`); ping.Attr("type") != "result" {
		t.Fatalf("server unhealthy: %+v", ping)
	}
}

func TestRosterSizeLimit(t *testing.T) {
	const max = 25
	srv := xmpptest.Start(t, func(c *config.Config) { c.Roster.MaxItems = max })
	srv.AddUser(t, "alice@localhost", pw)
	a := dial(t, srv, "alice@localhost")
	for i := range max {
		if res := rosterSet(t, a, fmt.Sprintf(`<item jid='c%d@example.org'/>`, i)); res.Attr("type") != "result" {
			t.Fatalf("item %d: %+v", i, res)
		}
	}
	if res := rosterSet(t, a, `<item jid='over@example.org'/>`); errorCondition(res) != "resource-constraint" {
		t.Fatalf("item past the limit: %+v", res)
	}
	// An outgoing subscription request would add an item too.
	send(t, a, `<presence type='subscribe' to='over2@example.org' id='s1'/>`)
	a.Expect(t, wait, "presence error", func(s xmpptest.Stanza) bool {
		return s.XMLName.Local == "presence" && s.Attr("type") == "error" && strings.Contains(s.Inner, "resource-constraint")
	})
	// Existing items can still be changed and removed.
	if res := rosterSet(t, a, `<item jid='c0@example.org' name='renamed'/>`); res.Attr("type") != "result" {
		t.Fatalf("update at the limit: %+v", res)
	}
	res := rosterGet(t, a, "-")
	if n := strings.Count(res.Inner, "<item"); n != max {
		t.Fatalf("%d items, want %d", n, max)
	}
	if res := rosterSet(t, a, `<item jid='c1@example.org' subscription='remove'/>`); res.Attr("type") != "result" {
		t.Fatalf("remove at the limit: %+v", res)
	}
	if res := rosterSet(t, a, `<item jid='over@example.org'/>`); res.Attr("type") != "result" {
		t.Fatalf("add after a removal: %+v", res)
	}
}

func TestRosterVersioning(t *testing.T) {
	srv := xmpptest.Start(t)
	srv.AddUser(t, "alice@localhost", pw)
	a := dial(t, srv, "alice@localhost")
	res := rosterGet(t, a, "")
	v0 := attrOf(res.Inner, "ver")
	if v0 == "" {
		t.Fatalf("no ver in a versioned result: %s", res.Inner)
	}
	if res := rosterGet(t, a, v0); res.Attr("type") != "result" || strings.Contains(res.Inner, "query") {
		t.Fatalf("unchanged version must get an empty result: %+v", res)
	}
	rosterSet(t, a, `<item jid='bob@example.org'/>`)
	push := a.Expect(t, wait, "push", isPush("bob@example.org"))
	v1 := attrOf(push.Inner, "ver")
	if v1 == "" || v1 == v0 {
		t.Fatalf("push ver %q (was %q)", v1, v0)
	}
	// A stale version gets the whole roster with the current version.
	res = rosterGet(t, a, v0)
	if attrOf(res.Inner, "ver") != v1 || !strings.Contains(res.Inner, "bob@example.org") {
		t.Fatalf("stale version: %s", res.Inner)
	}
	// A new session with the current version gets the empty result.
	b := dial(t, srv, "alice@localhost")
	if res := rosterGet(t, b, v1); strings.Contains(res.Inner, "query") {
		t.Fatalf("current version from a new session: %s", res.Inner)
	}
	// Without 'ver' there is no versioning: the full roster, no ver.
	res = rosterGet(t, b, "-")
	if strings.Contains(res.Inner, "ver=") || !strings.Contains(res.Inner, "bob@example.org") {
		t.Fatalf("unversioned get: %s", res.Inner)
	}
	rosterSet(t, a, `<item jid='carol@example.org'/>`)
	if p := b.Expect(t, wait, "push", isPush("carol@example.org")); strings.Contains(p.Inner, "ver=") {
		t.Fatalf("push to an unversioned resource has ver: %s", p.Inner)
	}
}

func TestStreamFeatures(t *testing.T) {
	srv := xmpptest.Start(t)
	srv.AddUser(t, "alice@localhost", pw)
	r := srv.Raw(t)
	r.Open("localhost")
	r.StartTLS(srv.TLSConfig(t, "localhost"), "localhost")
	r.Plain("", "alice", pw)
	features := r.Open("localhost")
	for _, f := range []string{"urn:xmpp:features:rosterver", "urn:xmpp:features:pre-approval"} {
		if !strings.Contains(features, f) {
			t.Errorf("stream features lack %s: %s", f, features)
		}
	}
}
