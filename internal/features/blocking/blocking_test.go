package blocking_test

import (
	"strings"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/xmpptest"
)

const wait = 10 * time.Second

func dial(t *testing.T, srv *xmpptest.Server, user string, available bool) *xmpptest.Client {
	t.Helper()
	c := srv.Dial(t, user, "pw", xmpptest.DialOptions{})
	if available {
		c.Send(t, `<presence/>`)
		xmpptest.Settle(t, c)
		c.Drain()
	}
	return c
}

func start(t *testing.T, users ...string) *xmpptest.Server {
	t.Helper()
	srv := xmpptest.Start(t)
	for _, u := range users {
		srv.AddUser(t, u, "pw")
	}
	return srv
}

func iqOK(t *testing.T, c *xmpptest.Client, raw string) xmpptest.Stanza {
	t.Helper()
	res := c.IQ(t, raw)
	if res.Attr("type") != "result" {
		t.Fatalf("%s: %s", raw, res.Inner)
	}
	return res
}

// received waits for marker (a message body) at c and returns what c got
// before it.
func received(t *testing.T, c *xmpptest.Client, marker string) []xmpptest.Stanza {
	t.Helper()
	var before []xmpptest.Stanza
	deadline := time.After(wait)
	for {
		select {
		case st := <-c.In:
			if st.XMLName.Local == "message" && strings.Contains(st.Inner, marker) {
				return before
			}
			before = append(before, st)
		case <-deadline:
			t.Fatalf("%s: no marker %q", c.JID, marker)
		}
	}
}

func TestBlockListCommandsAndPushes(t *testing.T) {
	srv := start(t, "alice@localhost")
	a1 := dial(t, srv, "alice@localhost", false)
	a2 := dial(t, srv, "alice@localhost", false)
	a3 := dial(t, srv, "alice@localhost", false) // never asks for the list: no pushes

	res := iqOK(t, a1, `<iq type='get' id='l1'><blocklist xmlns='urn:xmpp:blocking'/></iq>`)
	if strings.Contains(res.Inner, "<item") {
		t.Fatalf("fresh list not empty: %s", res.Inner)
	}
	iqOK(t, a2, `<iq type='get' id='l2'><blocklist xmlns='urn:xmpp:blocking'/></iq>`)

	steps := []struct {
		name, iq  string
		wantPush  string // substring of the push both a1 and a2 get
		wantItems []string
	}{
		{"block two", `<iq type='set' id='b1'><block xmlns='urn:xmpp:blocking'><item jid='romeo@montague.lit'/><item jid='Iago@Shakespeare.lit/Res'/></block></iq>`,
			`<block xmlns="urn:xmpp:blocking"`, []string{"iago@shakespeare.lit/Res", "romeo@montague.lit"}},
		{"block again is harmless", `<iq type='set' id='b2' to='alice@localhost'><block xmlns='urn:xmpp:blocking'><item jid='romeo@montague.lit'/><item jid='evil.lit'/></block></iq>`,
			`evil.lit`, []string{"evil.lit", "iago@shakespeare.lit/Res", "romeo@montague.lit"}},
		{"unblock one", `<iq type='set' id='u1'><unblock xmlns='urn:xmpp:blocking'><item jid='romeo@montague.lit'/></unblock></iq>`,
			`<unblock xmlns="urn:xmpp:blocking"`, []string{"evil.lit", "iago@shakespeare.lit/Res"}},
		{"unblock all", `<iq type='set' id='u2'><unblock xmlns='urn:xmpp:blocking'/></iq>`,
			`<unblock xmlns="urn:xmpp:blocking" xmlns="urn:xmpp:blocking"></unblock>`, nil},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			iqOK(t, a1, st.iq)
			for _, c := range []*xmpptest.Client{a1, a2} {
				push := c.Expect(t, wait, "block push", func(s xmpptest.Stanza) bool {
					return s.XMLName.Local == "iq" && s.Attr("type") == "set"
				})
				if !strings.Contains(push.Inner, st.wantPush) || push.Attr("to") != c.JID.String() {
					t.Errorf("push to %s: %s", c.JID, push.Inner)
				}
			}
			list := iqOK(t, a1, `<iq type='get' id='l'><blocklist xmlns='urn:xmpp:blocking'/></iq>`)
			if n := strings.Count(list.Inner, "<item"); n != len(st.wantItems) {
				t.Errorf("list has %d items, want %v: %s", n, st.wantItems, list.Inner)
			}
			for _, w := range st.wantItems {
				if !strings.Contains(list.Inner, `jid="`+w+`"`) {
					t.Errorf("list %s: %s missing", list.Inner, w)
				}
			}
		})
	}
	xmpptest.Settle(t, a3)
	for _, s := range a3.Drain() {
		if s.XMLName.Local == "iq" {
			t.Errorf("resource that never requested the list got a push: %s", s.Inner)
		}
	}
}

func TestCommandErrors(t *testing.T) {
	srv := start(t, "alice@localhost", "bob@localhost")
	alice := dial(t, srv, "alice@localhost", false)
	tests := []struct{ name, iq, want string }{
		{"block without items", `<iq type='set' id='e1'><block xmlns='urn:xmpp:blocking'/></iq>`, "bad-request"},
		{"malformed jid", `<iq type='set' id='e2'><block xmlns='urn:xmpp:blocking'><item jid='a@@b'/></block></iq>`, "jid-malformed"},
		{"empty jid", `<iq type='set' id='e3'><block xmlns='urn:xmpp:blocking'><item/></block></iq>`, "jid-malformed"},
		{"unknown child", `<iq type='set' id='e4'><block xmlns='urn:xmpp:blocking'><thing jid='a@b'/></block></iq>`, "bad-request"},
		{"someone else's list", `<iq type='get' id='e5' to='bob@localhost'><blocklist xmlns='urn:xmpp:blocking'/></iq>`, "forbidden"},
		{"block on someone else's list", `<iq type='set' id='e6' to='bob@localhost'><block xmlns='urn:xmpp:blocking'><item jid='x@y'/></block></iq>`, "forbidden"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := alice.IQ(t, tt.iq)
			if res.Attr("type") != "error" || !strings.Contains(res.Inner, tt.want) {
				t.Fatalf("got %s %s, want error %s", res.Attr("type"), res.Inner, tt.want)
			}
		})
	}
	res := iqOK(t, alice, `<iq type='get' id='d' to='localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`)
	if !strings.Contains(res.Inner, `"urn:xmpp:blocking"`) {
		t.Errorf("feature not advertised: %s", res.Inner)
	}
}

// TestStanzasFromBlockedContact checks §3.3 inbound rules: bob is blocked
// by alice; carol is not and sends the marker.
func TestStanzasFromBlockedContact(t *testing.T) {
	srv := start(t, "alice@localhost", "bob@localhost", "carol@localhost")
	alice := dial(t, srv, "alice@localhost", true)
	bob := dial(t, srv, "bob@localhost", true)
	carol := dial(t, srv, "carol@localhost", false)
	iqOK(t, alice, `<iq type='set' id='b'><block xmlns='urn:xmpp:blocking'><item jid='bob@localhost'/></block></iq>`)
	full := alice.JID.String()
	tests := []struct {
		name, stanza string
		reply        string // error condition bob gets back; "" for none
	}{
		{"chat to bare", `<message id='x' to='alice@localhost' type='chat'><body>hi</body></message>`, "service-unavailable"},
		{"chat to full", `<message id='x' to='` + full + `' type='chat'><body>hi</body></message>`, "service-unavailable"},
		{"normal to full", `<message id='x' to='` + full + `'><body>hi</body></message>`, "service-unavailable"},
		{"error message", `<message id='x' to='` + full + `' type='error'><error type='cancel'><gone xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>`, ""},
		{"directed presence", `<presence id='x' to='` + full + `'/>`, ""},
		{"subscription request", `<presence id='x' to='alice@localhost' type='subscribe'/>`, ""},
		{"iq get to full", `<iq id='x' type='get' to='` + full + `'><ping xmlns='urn:xmpp:ping'/></iq>`, "service-unavailable"},
		{"iq get to bare (vCard)", `<iq id='x' type='get' to='alice@localhost'><vCard xmlns='vcard-temp'/></iq>`, "service-unavailable"},
		{"iq get to bare (last activity)", `<iq id='x' type='get' to='alice@localhost'><query xmlns='jabber:iq:last'/></iq>`, "service-unavailable"},
		{"iq result", `<iq id='x' type='result' to='` + full + `'/>`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bob.Send(t, tt.stanza)
			xmpptest.Settle(t, bob)
			got := bob.Drain()
			var errs []string
			for _, s := range got {
				if s.Attr("type") == "error" && s.Attr("id") == "x" {
					errs = append(errs, s.Inner)
				}
			}
			switch {
			case tt.reply == "" && len(errs) > 0:
				t.Errorf("bob got a reply: %v", errs)
			case tt.reply != "" && (len(errs) != 1 || !strings.Contains(errs[0], tt.reply)):
				t.Errorf("bob got %v, want one %s error", errs, tt.reply)
			case tt.reply != "" && strings.Contains(errs[0], "blocking:errors"):
				t.Errorf("the blocked contact learns it is blocked: %s", errs[0])
			}
			carol.Send(t, `<message to='`+full+`' type='chat'><body>marker `+tt.name+`</body></message>`)
			for _, s := range received(t, alice, "marker "+tt.name) {
				if strings.HasPrefix(s.Attr("from"), "bob@") {
					t.Errorf("alice got bob's stanza: %s", s.Inner)
				}
			}
		})
	}

	// Nothing of bob's was stored for later either.
	t.Run("not stored offline", func(t *testing.T) {
		alice.Close()
		alice.Done(t, wait)
		bob.Send(t, `<message id='off' to='alice@localhost' type='chat'><body>while away</body></message>`)
		xmpptest.Settle(t, bob)
		if e := bob.Drain(); len(e) != 1 || !strings.Contains(e[0].Inner, "service-unavailable") {
			t.Fatalf("bob got %+v", e)
		}
		again := dial(t, srv, "alice@localhost", false)
		again.Send(t, `<presence/>`)
		carol.Send(t, `<message to='alice@localhost' type='chat'><body>marker after</body></message>`)
		for _, s := range received(t, again, "marker after") {
			if strings.Contains(s.Inner, "while away") {
				t.Errorf("blocked message stored and delivered: %s", s.Inner)
			}
		}
	})
}

// TestStanzasToBlockedContact checks §3.3 outbound rules.
func TestStanzasToBlockedContact(t *testing.T) {
	srv := start(t, "alice@localhost", "bob@localhost", "carol@localhost")
	alice := dial(t, srv, "alice@localhost", true)
	bob := dial(t, srv, "bob@localhost", true)
	carol := dial(t, srv, "carol@localhost", false)
	iqOK(t, alice, `<iq type='set' id='b'><block xmlns='urn:xmpp:blocking'><item jid='bob@localhost'/></block></iq>`)
	bobFull := bob.JID.String()
	tests := []struct {
		name, stanza string
		blocked      bool // not-acceptable + <blocked/> back to alice
	}{
		{"chat to bare", `<message id='x' to='bob@localhost' type='chat'><body>hi</body></message>`, true},
		{"chat to full", `<message id='x' to='` + bobFull + `' type='chat'><body>hi</body></message>`, true},
		{"directed presence", `<presence id='x' to='` + bobFull + `'/>`, true},
		{"iq get to full", `<iq id='x' type='get' to='` + bobFull + `'><ping xmlns='urn:xmpp:ping'/></iq>`, true},
		{"iq get to bare", `<iq id='x' type='get' to='bob@localhost'><vCard xmlns='vcard-temp'/></iq>`, true},
		{"iq result dropped", `<iq id='x' type='result' to='` + bobFull + `'/>`, false},
		{"error message dropped", `<message id='x' to='` + bobFull + `' type='error'><error type='cancel'><gone xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			alice.Send(t, tt.stanza)
			xmpptest.Settle(t, alice)
			var errs []string
			for _, s := range alice.Drain() {
				if s.Attr("type") == "error" && s.Attr("id") == "x" {
					errs = append(errs, s.Inner)
				}
			}
			if tt.blocked {
				if len(errs) != 1 || !strings.Contains(errs[0], "not-acceptable") || !strings.Contains(errs[0], `<blocked xmlns="urn:xmpp:blocking:errors"`) {
					t.Errorf("alice got %v, want not-acceptable with <blocked/>", errs)
				}
			} else if len(errs) != 0 {
				t.Errorf("alice got %v, want nothing", errs)
			}
			carol.Send(t, `<message to='`+bobFull+`' type='chat'><body>marker `+tt.name+`</body></message>`)
			for _, s := range received(t, bob, "marker "+tt.name) {
				if strings.HasPrefix(s.Attr("from"), "alice@") {
					t.Errorf("bob got alice's stanza: %s", s.Inner)
				}
			}
		})
	}
}

func TestDomainAndResourceItems(t *testing.T) {
	srv := xmpptest.Start(t, func(c *config.Config) { c.Domains = []string{"localhost", "other.localhost"} })
	for _, u := range []string{"alice@localhost", "bob@other.localhost", "carol@localhost"} {
		srv.AddUser(t, u, "pw")
	}
	alice := dial(t, srv, "alice@localhost", true)
	bob := dial(t, srv, "bob@other.localhost", false)
	carol := dial(t, srv, "carol@localhost", false)
	// Blocking the served domain itself must not cut alice off her server.
	iqOK(t, alice, `<iq type='set' id='b'><block xmlns='urn:xmpp:blocking'><item jid='localhost'/></block></iq>`)
	iqOK(t, alice, `<iq type='get' id='p' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`)
	carol.Send(t, `<message id='c' to='alice@localhost' type='chat'><body>from carol</body></message>`)
	xmpptest.Settle(t, carol)
	if e := carol.Drain(); len(e) != 1 || !strings.Contains(e[0].Inner, "service-unavailable") {
		t.Fatalf("carol (on the blocked domain) got %+v", e)
	}
	iqOK(t, alice, `<iq type='set' id='u'><unblock xmlns='urn:xmpp:blocking'/></iq>`)
	// A parent domain covers its subdomains.
	iqOK(t, alice, `<iq type='set' id='b2'><block xmlns='urn:xmpp:blocking'><item jid='localhost'/></block></iq>`)
	bob.Send(t, `<message id='s' to='alice@localhost' type='chat'><body>from a subdomain</body></message>`)
	xmpptest.Settle(t, bob)
	if e := bob.Drain(); len(e) != 1 || !strings.Contains(e[0].Inner, "service-unavailable") {
		t.Fatalf("bob (subdomain) got %+v", e)
	}
	iqOK(t, alice, `<iq type='set' id='u2'><unblock xmlns='urn:xmpp:blocking'/></iq>`)
	// A full-JID item blocks only that resource.
	iqOK(t, alice, `<iq type='set' id='b3'><block xmlns='urn:xmpp:blocking'><item jid='`+bob.JID.String()+`'/></block></iq>`)
	bob.Send(t, `<message id='r' to='alice@localhost' type='chat'><body>from the blocked resource</body></message>`)
	xmpptest.Settle(t, bob)
	if e := bob.Drain(); len(e) != 1 {
		t.Fatalf("blocked resource got %+v", e)
	}
	bob2 := dial(t, srv, "bob@other.localhost", false)
	bob2.Send(t, `<message id='r2' to='alice@localhost' type='chat'><body>from another resource</body></message>`)
	alice.Expect(t, wait, "message from bob's other resource", func(s xmpptest.Stanza) bool {
		return strings.Contains(s.Inner, "from another resource")
	})
}

// TestPresenceOnBlockAndUnblock: a contact who has the user's presence
// gets unavailable presence on block and the current presence on unblock.
func TestPresenceOnBlockAndUnblock(t *testing.T) {
	srv := start(t, "alice@localhost", "bob@localhost")
	alice := dial(t, srv, "alice@localhost", false)
	alice.Send(t, `<presence><status>around</status></presence>`)
	bob := dial(t, srv, "bob@localhost", true)
	alice.Send(t, `<presence to='`+bob.JID.String()+`'><status>around</status></presence>`)
	bob.Expect(t, wait, "alice's directed presence", func(s xmpptest.Stanza) bool {
		return s.XMLName.Local == "presence" && s.Attr("from") == alice.JID.String()
	})
	iqOK(t, alice, `<iq type='set' id='b'><block xmlns='urn:xmpp:blocking'><item jid='bob@localhost'/></block></iq>`)
	got := bob.Expect(t, wait, "unavailable presence", func(s xmpptest.Stanza) bool {
		return s.XMLName.Local == "presence" && s.Attr("from") == alice.JID.String()
	})
	if got.Attr("type") != "unavailable" {
		t.Fatalf("bob got %s", got.Inner)
	}
	iqOK(t, alice, `<iq type='set' id='u'><unblock xmlns='urn:xmpp:blocking'><item jid='bob@localhost'/></unblock></iq>`)
	got = bob.Expect(t, wait, "current presence", func(s xmpptest.Stanza) bool {
		return s.XMLName.Local == "presence" && s.Attr("from") == alice.JID.String()
	})
	if got.Attr("type") != "" || !strings.Contains(got.Inner, "around") {
		t.Fatalf("bob got %s", got.Inner)
	}
	// And messages flow again.
	bob.Send(t, `<message to='alice@localhost' type='chat'><body>unblocked</body></message>`)
	alice.Expect(t, wait, "bob's message", func(s xmpptest.Stanza) bool { return strings.Contains(s.Inner, "unblocked") })
}

// subscribe makes from subscribed to to's presence, through the roster.
func subscribe(t *testing.T, from, to *xmpptest.Client) {
	t.Helper()
	from.Send(t, `<presence type='subscribe' to='`+to.JID.Bare().String()+`'/>`)
	xmpptest.Settle(t, from)
	xmpptest.Settle(t, to)
	to.Send(t, `<presence type='subscribed' to='`+from.JID.Bare().String()+`'/>`)
	xmpptest.Settle(t, to)
	xmpptest.Settle(t, from)
}

// TestBlockWithRoster: the roster says who receives the user's presence;
// a blocked subscriber gets unavailable presence once and then no
// broadcast, and the user gets no broadcast from the blocked contact.
func TestBlockWithRoster(t *testing.T) {
	srv := start(t, "alice@localhost", "bob@localhost", "carol@localhost")
	alice := dial(t, srv, "alice@localhost", false)
	bob := dial(t, srv, "bob@localhost", false)
	carol := dial(t, srv, "carol@localhost", false)
	for _, pair := range [][2]*xmpptest.Client{{bob, alice}, {alice, bob}, {carol, alice}} {
		subscribe(t, pair[0], pair[1])
	}
	for _, c := range []*xmpptest.Client{alice, bob, carol} {
		c.Send(t, `<presence/>`)
		xmpptest.Settle(t, c) // its broadcast is queued to every recipient
	}
	bob.Expect(t, wait, "alice's presence", func(s xmpptest.Stanza) bool {
		return s.XMLName.Local == "presence" && s.Attr("from") == alice.JID.String() && s.Attr("type") == ""
	})
	iqOK(t, alice, `<iq type='set' id='b'><block xmlns='urn:xmpp:blocking'><item jid='bob@localhost'/></block></iq>`)
	bob.Expect(t, wait, "unavailable presence", func(s xmpptest.Stanza) bool {
		return s.XMLName.Local == "presence" && s.Attr("from") == alice.JID.String() && s.Attr("type") == "unavailable"
	})
	xmpptest.Settle(t, alice)
	alice.Drain() // what came before the block

	alice.Send(t, `<presence><status>after the block</status></presence>`)
	carol.Expect(t, wait, "alice's new presence", func(s xmpptest.Stanza) bool { return strings.Contains(s.Inner, "after the block") })
	bob.Send(t, `<presence><status>bob changed</status></presence>`)
	xmpptest.Settle(t, bob)
	xmpptest.Settle(t, alice)
	carol.Send(t, `<message to='`+alice.JID.String()+`' type='chat'><body>marker alice</body></message>`)
	for _, s := range received(t, alice, "marker alice") {
		if strings.HasPrefix(s.Attr("from"), "bob@") {
			t.Errorf("alice got bob's broadcast: %s", s.Inner)
		}
	}
	carol.Send(t, `<message to='`+bob.JID.String()+`' type='chat'><body>marker bob</body></message>`)
	for _, s := range received(t, bob, "marker bob") {
		if strings.HasPrefix(s.Attr("from"), "alice@") {
			t.Errorf("bob got alice's stanza after the block: %s", s.Inner)
		}
	}
}
