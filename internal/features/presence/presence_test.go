package presence_test

import (
	"context"
	"strings"
	"testing"

	"github.com/parleyim/parley/internal/features/sharedgroup"
	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/storage"
	"github.com/parleyim/parley/internal/xmpptest"
)

// start runs a server with alice, bob and carol.
func start(t *testing.T) *xmpptest.Server {
	srv := xmpptest.Start(t)
	for _, u := range []string{"alice", "bob", "carol"} {
		srv.AddUser(t, u+"@localhost", pw)
	}
	return srv
}

func TestBroadcastAndProbe(t *testing.T) {
	srv := start(t)
	a, b := dial(t, srv, "alice@localhost"), dial(t, srv, "bob@localhost")
	mutual(t, a, b, "alice@localhost", "bob@localhost")
	// carol: alice is subscribed to carol, carol is not subscribed to alice.
	c := dial(t, srv, "carol@localhost")
	interested(t, c)
	available(t, c, "carol here")
	send(t, a, `<presence type='subscribe' to='carol@localhost'/>`)
	barrier(t, a)
	send(t, c, `<presence type='subscribed' to='alice@localhost'/>`)
	barrier(t, c)
	barrier(t, a)
	a.Close()
	barrier(t, b)
	barrier(t, c)

	// alice logs in again with show, status and priority.
	a2 := dial(t, srv, "alice@localhost")
	send(t, a2, `<presence><show>dnd</show><status>busy busy</status><priority>5</priority></presence>`)
	got := barrier(t, a2)
	p := findPresence(t, got, b.JID.String(), "", "bob's presence (probe answer)")
	if !strings.Contains(p.Inner, ">b</status>") {
		t.Errorf("probe answer lost the status: %s", p.Inner)
	}
	findPresence(t, got, c.JID.String(), "", "carol's presence (alice has 'to')")
	echo := findPresence(t, got, a2.JID.String(), "", "own presence echo (§4.2.2)")
	_ = echo
	gotB := barrier(t, b)
	bp := findPresence(t, gotB, a2.JID.String(), "", "alice's broadcast")
	for _, w := range []string{">dnd</show>", ">busy busy</status>", ">5</priority>"} {
		if !strings.Contains(bp.Inner, w) {
			t.Errorf("broadcast lacks %s: %s", w, bp.Inner)
		}
	}
	if got := barrier(t, c); presencesFrom(got, "alice@localhost", "") != 0 {
		t.Fatalf("carol (no 'from') got alice's presence: %+v", got)
	}
	// Subsequent presence goes to subscribers too.
	send(t, a2, `<presence><show>away</show></presence>`)
	barrier(t, a2)
	findPresence(t, barrier(t, b), a2.JID.String(), "", "subsequent presence")
}

func findPresence(t *testing.T, got []xmpptest.Stanza, from, typ, what string) xmpptest.Stanza {
	t.Helper()
	for _, s := range got {
		if s.XMLName.Local == "presence" && s.Attr("from") == from && s.Attr("type") == typ {
			return s
		}
	}
	t.Fatalf("no %s (presence from %s type %q) in %+v", what, from, typ, got)
	return xmpptest.Stanza{}
}

func TestUnavailableOnLogoutAndAbruptDisconnect(t *testing.T) {
	srv := start(t)
	b := dial(t, srv, "bob@localhost")
	for _, tc := range []struct {
		name string
		end  func(*xmpptest.Client)
	}{
		{"explicit unavailable", func(c *xmpptest.Client) {
			send(t, c, `<presence type='unavailable'><status>gone fishing</status></presence>`)
		}},
		{"clean close", func(c *xmpptest.Client) { c.Close() }},
		{"socket closed without a closing tag", func(c *xmpptest.Client) { c.S.Conn().Close() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := dial(t, srv, "alice@localhost")
			mutual(t, a, b, "alice@localhost", "bob@localhost")
			tc.end(a)
			un := b.Expect(t, wait, "unavailable", isPresence(a.JID.String(), "unavailable"))
			if un.Attr("from") != a.JID.String() {
				t.Fatalf("from %q", un.Attr("from"))
			}
			if strings.HasPrefix(tc.name, "explicit") && !strings.Contains(un.Inner, "gone fishing") {
				t.Fatalf("status lost: %s", un.Inner)
			}
			a.Close()
			barrier(t, b)
		})
	}
	// The last unavailable presence answers bob's probe, with its time.
	b.Close()
	b2 := dial(t, srv, "bob@localhost")
	available(t, b2, "back")
	got := barrier(t, b2)
	for _, s := range got {
		if s.XMLName.Local == "presence" && s.Attr("type") == "unavailable" && strings.HasPrefix(s.Attr("from"), "alice@localhost/") {
			if !strings.Contains(s.Inner, "urn:xmpp:delay") || !strings.Contains(s.Inner, `stamp="`) {
				t.Fatalf("last presence without delay: %s", s.Inner)
			}
			return
		}
	}
	t.Fatalf("no last unavailable presence of offline alice: %+v", got)
}

func TestDirectedPresence(t *testing.T) {
	srv := start(t)
	a, c := dial(t, srv, "alice@localhost"), dial(t, srv, "carol@localhost")
	available(t, c, "carol")
	available(t, a, "alice")
	barrier(t, a)
	send(t, a, `<presence to='carol@localhost'><status>just for you</status></presence>`)
	barrier(t, a)
	if p := findPresence(t, barrier(t, c), a.JID.String(), "", "directed presence"); !strings.Contains(p.Inner, "just for you") {
		t.Fatalf("directed presence: %s", p.Inner)
	}
	// The unavailable broadcast reaches carol, who is not a contact.
	a.S.Conn().Close()
	c.Expect(t, wait, "unavailable to a directed-presence recipient", isPresence(a.JID.String(), "unavailable"))

	// Directed unavailable ends the tracking.
	a2 := dial(t, srv, "alice@localhost")
	available(t, a2, "alice")
	send(t, a2, `<presence to='carol@localhost'/>`)
	send(t, a2, `<presence to='carol@localhost' type='unavailable'/>`)
	barrier(t, a2)
	barrier(t, c)
	send(t, a2, `<presence type='unavailable'/>`)
	barrier(t, a2)
	if got := barrier(t, c); presencesFrom(got, "alice@localhost", "unavailable") != 0 {
		t.Fatalf("unavailable after directed unavailable: %+v", got)
	}
}

func TestMultipleResources(t *testing.T) {
	srv := start(t)
	a1, b := dial(t, srv, "alice@localhost"), dial(t, srv, "bob@localhost")
	mutual(t, a1, b, "alice@localhost", "bob@localhost")
	a2 := dial(t, srv, "alice@localhost")
	send(t, a2, `<presence><status>second</status></presence>`)
	got := barrier(t, a2)
	findPresence(t, got, a1.JID.String(), "", "the first resource's presence")
	findPresence(t, got, b.JID.String(), "", "bob's presence")
	findPresence(t, barrier(t, a1), a2.JID.String(), "", "the new resource's presence (§4.2.2)")
	findPresence(t, barrier(t, b), a2.JID.String(), "", "the second resource's broadcast")
	a2.S.Conn().Close()
	b.Expect(t, wait, "second resource unavailable", isPresence(a2.JID.String(), "unavailable"))
	a1.Expect(t, wait, "own resource unavailable", isPresence(a2.JID.String(), "unavailable"))
	// The first resource is still available to bob.
	send(t, b, `<presence type='probe' to='alice@localhost'/>`)
	findPresence(t, barrier(t, b), a1.JID.String(), "", "probe answer from the remaining resource")
}

func TestSharedGroup(t *testing.T) {
	srv := start(t)
	db, err := storage.Open(context.Background(), srv.Config)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sg := sharedgroup.NewStore(db)
	ctx := context.Background()
	if err := sg.Create(ctx, "staff", "Our Staff"); err != nil {
		t.Fatal(err)
	}
	if err := sg.AddMembers(ctx, "staff", []jid.JID{jidOf("alice@localhost"), jidOf("bob@localhost")}); err != nil {
		t.Fatal(err)
	}
	a, b := dial(t, srv, "alice@localhost"), dial(t, srv, "bob@localhost")
	res := interested(t, a)
	if !strings.Contains(res.Inner, `jid="bob@localhost"`) || !strings.Contains(res.Inner, `subscription="both"`) || !strings.Contains(res.Inner, ">Our Staff</group>") {
		t.Fatalf("shared item missing: %s", res.Inner)
	}
	if strings.Contains(res.Inner, "carol") {
		t.Fatalf("carol is not in the group: %s", res.Inner)
	}
	available(t, b, "bob")
	barrier(t, b)
	available(t, a, "alice")
	findPresence(t, barrier(t, a), b.JID.String(), "", "shared member's presence")
	findPresence(t, barrier(t, b), a.JID.String(), "", "shared member's broadcast")
	// A shared item cannot be removed; a subscription request is granted.
	rm := iq(t, a, `<iq type='set' id='rm'><query xmlns='jabber:iq:roster'><item jid='bob@localhost' subscription='remove'/></query></iq>`)
	if rm.Attr("type") != "error" || !strings.Contains(rm.Inner, "not-allowed") {
		t.Fatalf("removing a shared item: %+v", rm)
	}
	send(t, a, `<presence type='subscribe' to='bob@localhost'/>`)
	findPresence(t, barrier(t, a), "bob@localhost", "subscribed", "automatic approval")
	// Naming the shared contact keeps it shared.
	if r := iq(t, a, `<iq type='set' id='n'><query xmlns='jabber:iq:roster'><item jid='bob@localhost' name='Bobby'><group>Mine</group></item></query></iq>`); r.Attr("type") != "result" {
		t.Fatalf("naming: %+v", r)
	}
	push := findPush(t, barrier(t, a), "bob@localhost")
	for _, w := range []string{`name="Bobby"`, `subscription="both"`, ">Mine</group>", ">Our Staff</group>"} {
		if !strings.Contains(push.Inner, w) {
			t.Errorf("push lacks %s: %s", w, push.Inner)
		}
	}
	// A member added while the server runs appears at the next login.
	if err := sg.AddMembers(ctx, "staff", []jid.JID{jidOf("carol@localhost")}); err != nil {
		t.Fatal(err)
	}
	c := dial(t, srv, "carol@localhost")
	if res := interested(t, c); !strings.Contains(res.Inner, "alice@localhost") || !strings.Contains(res.Inner, "bob@localhost") {
		t.Fatalf("new member's roster: %s", res.Inner)
	}
	available(t, c, "carol")
	got := barrier(t, c)
	findPresence(t, got, a.JID.String(), "", "alice's presence for the new member")
	findPresence(t, barrier(t, a), c.JID.String(), "", "new member's broadcast to alice")
}

func findPush(t *testing.T, got []xmpptest.Stanza, contact string) xmpptest.Stanza {
	t.Helper()
	p := pushesFor(got, contact)
	if len(p) == 0 {
		t.Fatalf("no push for %s in %+v", contact, got)
	}
	return p[len(p)-1]
}
