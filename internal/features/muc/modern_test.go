package muc_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/xmpptest"
)

const nsMUC = "http://jabber.org/protocol/muc"

func isIQ(typ string) func(xmpptest.Stanza) bool {
	return func(s xmpptest.Stanza) bool { return s.XMLName.Local == "iq" && s.Attr("type") == typ }
}

// TestSelfPing: XEP-0410 — the room answers an occupant's ping to its own
// nickname itself; a ping from someone who is not in the room under that
// nickname gets not-acceptable, so the client knows to join again.
func TestSelfPing(t *testing.T) {
	e := newEnv(t, "alice", "bob")
	alice, bob := e.users["alice"], e.users["bob"]
	create(t, alice, "sp", "A")
	info := alice.IQ(t, `<iq type='get' id='i' to='`+room("sp")+`'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`)
	if !strings.Contains(info.Inner, "muc#self-ping-optimization") {
		t.Errorf("room does not advertise self-ping optimisation: %s", info.Inner)
	}
	res := alice.IQ(t, `<iq type='get' id='p1' to='`+occ("sp", "A")+`'><ping xmlns='urn:xmpp:ping'/></iq>`)
	if res.Attr("type") != "result" || res.Attr("from") != occ("sp", "A") {
		t.Fatalf("self-ping of an occupant: %s %s", res.Attr("type"), res.Inner)
	}
	res = bob.IQ(t, `<iq type='get' id='p2' to='`+occ("sp", "A")+`'><ping xmlns='urn:xmpp:ping'/></iq>`)
	if !isError("not-acceptable")(res) {
		t.Fatalf("ping from a non-occupant: %s", res.Inner)
	}
	// After leaving, the same ping tells alice she is out.
	alice.Send(t, `<presence type='unavailable' to='`+occ("sp", "A")+`'/>`)
	alice.Expect(t, wait, "own unavailable", isPresence(occ("sp", "A"), "unavailable"))
	create(t, bob, "other", "B") // keep a room so the service is busy with something else
	res = alice.IQ(t, `<iq type='get' id='p3' to='`+occ("other", "A")+`'><ping xmlns='urn:xmpp:ping'/></iq>`)
	if !isError("not-acceptable")(res) {
		t.Fatalf("self-ping after leaving: %s", res.Inner)
	}
}

// TestMultiSessionNick: two sessions of one user join under one nickname
// (XEP-0045 §7.2, how Conversations and Dino join from two devices): the
// others see one occupant, messages and private messages reach both
// sessions, and one leaving keeps the other in.
func TestMultiSessionNick(t *testing.T) {
	e := newEnv(t, "alice", "bob")
	a1, bob := e.users["alice"], e.users["bob"]
	a2 := e.srv.Dial(t, "alice@localhost", "pw", xmpptest.DialOptions{})
	create(t, bob, "ms", "B")
	join(t, a1, "ms", "Al", "")
	bob.Expect(t, wait, "Al's presence", isPresence(occ("ms", "Al"), ""))
	got := join(t, a2, "ms", "Al", "")
	self := selfPresence(t, got, occ("ms", "Al"))
	if !strings.Contains(self.Inner, "occupant-id") {
		t.Errorf("second session's self-presence: %s", self.Inner)
	}
	// bob sees Al once (an update), never a second occupant or Al leaving.
	bob.Expect(t, wait, "Al's updated presence", isPresence(occ("ms", "Al"), ""))
	disco := bob.IQ(t, `<iq type='get' id='c' to='`+room("ms")+`'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`)
	if !strings.Contains(disco.Inner, ">2</value>") {
		t.Errorf("occupant count is not 2 (bob and Al): %s", disco.Inner)
	}
	groupchat(t, bob, "ms", "to everyone")
	for _, a := range []*xmpptest.Client{a1, a2} {
		a.Expect(t, wait, "groupchat", isMessage(occ("ms", "B"), "to everyone"))
	}
	bob.Send(t, `<message type='chat' to='`+occ("ms", "Al")+`'><body>just you</body></message>`)
	for _, a := range []*xmpptest.Client{a1, a2} {
		a.Expect(t, wait, "private message", isMessage(occ("ms", "B"), "just you"))
	}
	// a1 leaves: it gets its unavailable presence, bob does not, a2 stays.
	a1.Send(t, `<presence type='unavailable' to='`+occ("ms", "Al")+`'/>`)
	st := a1.Expect(t, wait, "own unavailable", isPresence(occ("ms", "Al"), "unavailable"))
	if !hasStatus(st, 110) {
		t.Errorf("leaving session's presence lacks 110: %s", st.Inner)
	}
	groupchat(t, bob, "ms", "still there?")
	a2.Expect(t, wait, "groupchat after the other left", isMessage(occ("ms", "B"), "still there?"))
	bob.ExpectNone(t, quiet, "Al leaving", isPresence(occ("ms", "Al"), "unavailable"))
	// Another user may not take the nickname while a2 holds it.
	e.add(t, "carol").Send(t, `<presence to='`+occ("ms", "Al")+`'><x xmlns='`+nsMUC+`'/></presence>`)
	e.users["carol"].Expect(t, wait, "conflict", isError("conflict"))
	a2.Send(t, `<presence type='unavailable' to='`+occ("ms", "Al")+`'/>`)
	bob.Expect(t, wait, "Al gone", isPresence(occ("ms", "Al"), "unavailable"))
}

// TestRegistrationReservesNick: a user registers with a room (§7.10) and
// so reserves a nickname: another user joining with it gets conflict
// (§7.12), the registered user discovers it and enters with it.
func TestRegistrationReservesNick(t *testing.T) {
	e := newEnv(t, "alice", "bob", "carol")
	alice, bob, carol := e.users["alice"], e.users["bob"], e.users["carol"]
	create(t, alice, "reg", "A")
	form := bob.IQ(t, `<iq type='get' id='r1' to='`+room("reg")+`'><query xmlns='jabber:iq:register'/></iq>`)
	if form.Attr("type") != "result" || !strings.Contains(form.Inner, "muc#register_roomnick") {
		t.Fatalf("registration form: %s", form.Inner)
	}
	submit := func(c *xmpptest.Client, nick string) xmpptest.Stanza {
		return c.IQ(t, `<iq type='set' id='r2' to='`+room("reg")+`'><query xmlns='jabber:iq:register'><x xmlns='jabber:x:data' type='submit'>`+
			`<field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#register</value></field>`+
			`<field var='muc#register_roomnick'><value>`+nick+`</value></field></x></query></iq>`)
	}
	if res := submit(bob, "Bobby"); res.Attr("type") != "result" {
		t.Fatalf("registration: %s", res.Inner)
	}
	if res := submit(carol, "Bobby"); !isError("conflict")(res) {
		t.Fatalf("registering a reserved nickname: %s", res.Inner)
	}
	again := bob.IQ(t, `<iq type='get' id='r3' to='`+room("reg")+`'><query xmlns='jabber:iq:register'/></iq>`)
	if !strings.Contains(again.Inner, "<registered") || !strings.Contains(again.Inner, "Bobby") {
		t.Errorf("registered user's query: %s", again.Inner)
	}
	nick := bob.IQ(t, `<iq type='get' id='r4' to='`+room("reg")+`'><query xmlns='http://jabber.org/protocol/disco#info' node='x-roomuser-item'/></iq>`)
	if !strings.Contains(nick.Inner, `name="Bobby"`) {
		t.Errorf("reserved nickname discovery: %s", nick.Inner)
	}
	carol.Send(t, `<presence to='`+occ("reg", "Bobby")+`'><x xmlns='`+nsMUC+`'/></presence>`)
	carol.Expect(t, wait, "conflict", isError("conflict"))
	got := join(t, bob, "reg", "Bobby", "")
	if self := selfPresence(t, got, occ("reg", "Bobby")); !strings.Contains(self.Inner, `affiliation="member"`) {
		t.Errorf("registered user is not a member: %s", self.Inner)
	}
	// A nickname change onto the reservation is refused too.
	join(t, carol, "reg", "Carol", "")
	carol.Send(t, `<presence to='`+occ("reg", "Bobby")+`'/>`)
	carol.Expect(t, wait, "conflict", isError("conflict"))
}

// TestVoiceRequest: a visitor in a moderated room asks for voice with the
// muc#request form (§8.6); the moderator gets the approval form, submits
// it, and the visitor becomes a participant who may speak.
func TestVoiceRequest(t *testing.T) {
	e := newEnv(t, "alice", "bob")
	alice, bob := e.users["alice"], e.users["bob"]
	create(t, alice, "mod", "A")
	if res := configure(t, alice, "mod", map[string]string{"muc#roomconfig_moderatedroom": "1"}); res.Attr("type") != "result" {
		t.Fatalf("configure: %s", res.Inner)
	}
	got := join(t, bob, "mod", "B", "")
	if !strings.Contains(selfPresence(t, got, occ("mod", "B")).Inner, `role="visitor"`) {
		t.Fatal("bob is not a visitor")
	}
	groupchat(t, bob, "mod", "may I?")
	bob.Expect(t, wait, "forbidden", isError("forbidden"))
	bob.Send(t, `<message to='`+room("mod")+`'><x xmlns='jabber:x:data' type='submit'>`+
		`<field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#request</value></field>`+
		`<field var='muc#role' type='list-single'><value>participant</value></field></x></message>`)
	req := alice.Expect(t, wait, "voice request", func(s xmpptest.Stanza) bool {
		return s.XMLName.Local == "message" && s.Attr("from") == room("mod") && strings.Contains(s.Inner, "muc#request_allow")
	})
	if !strings.Contains(req.Inner, "bob@localhost") || !strings.Contains(req.Inner, ">B</value>") {
		t.Errorf("request form: %s", req.Inner)
	}
	alice.Send(t, `<message to='`+room("mod")+`'><x xmlns='jabber:x:data' type='submit'>`+
		`<field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#request</value></field>`+
		`<field var='muc#role'><value>participant</value></field>`+
		`<field var='muc#jid'><value>bob@localhost</value></field>`+
		`<field var='muc#roomnick'><value>B</value></field>`+
		`<field var='muc#request_allow'><value>true</value></field></x></message>`)
	bob.Expect(t, wait, "voice", func(s xmpptest.Stanza) bool {
		return isPresence(occ("mod", "B"), "")(s) && strings.Contains(s.Inner, `role="participant"`)
	})
	groupchat(t, bob, "mod", "thanks")
	alice.Expect(t, wait, "bob speaks", isMessage(occ("mod", "B"), "thanks"))
}

// TestInvitationsAndDecline: an XEP-0249 direct invitation goes from user
// to user untouched; a mediated decline (§7.8.2) goes through the room to
// the inviter, naming the invitee.
func TestInvitationsAndDecline(t *testing.T) {
	e := newEnv(t, "alice", "bob")
	alice, bob := e.users["alice"], e.users["bob"]
	create(t, alice, "inv", "A")
	alice.Send(t, `<message to='`+bob.JID.String()+`'><x xmlns='jabber:x:conference' jid='`+room("inv")+`' reason='come in'/></message>`)
	bob.Expect(t, wait, "direct invitation", func(s xmpptest.Stanza) bool {
		return s.XMLName.Local == "message" && strings.Contains(s.Inner, "jabber:x:conference") && strings.Contains(s.Inner, room("inv"))
	})
	bob.Send(t, `<message to='`+room("inv")+`'><x xmlns='http://jabber.org/protocol/muc#user'><decline to='alice@localhost'><reason>busy</reason></decline></x></message>`)
	st := alice.Expect(t, wait, "decline", func(s xmpptest.Stanza) bool {
		return s.XMLName.Local == "message" && s.Attr("from") == room("inv") && strings.Contains(s.Inner, "<decline")
	})
	if !strings.Contains(st.Inner, `from="bob@localhost"`) || !strings.Contains(st.Inner, "busy") {
		t.Errorf("decline: %s", st.Inner)
	}
}

// TestLimits: each limit with its error — rooms per user
// (resource-constraint), occupants per room (service-unavailable,
// §7.2.9), messages per occupant (resource-constraint) — and a flood of
// joins is answered stanza by stanza.
func TestLimits(t *testing.T) {
	srv := xmpptest.Start(t, func(c *config.Config) {
		c.MUC.MaxRoomsPerUser, c.MUC.MessageRate, c.MUC.MessageBurst = 3, 0.5, 3
	})
	e := &env{srv: srv, users: map[string]*xmpptest.Client{}}
	alice, bob, carol := e.add(t, "alice"), e.add(t, "bob"), e.add(t, "carol")

	// A join flood: 20 new rooms at once; 3 are created, 17 refused.
	for i := range 20 {
		alice.Send(t, fmt.Sprintf(`<presence to='%s'/>`, occ(fmt.Sprintf("flood%d", i), "A")))
	}
	created, refused := 0, 0
	for created+refused < 20 {
		st := alice.Expect(t, wait, "an answer to each join", func(s xmpptest.Stanza) bool {
			return s.XMLName.Local == "presence" && (hasStatus(s, 201) || s.Attr("type") == "error")
		})
		if st.Attr("type") == "error" {
			if !isError("resource-constraint")(st) {
				t.Fatalf("refused join: %s", st.Inner)
			}
			refused++
		} else {
			created++
		}
	}
	if created != 3 {
		t.Fatalf("created %d rooms, want 3", created)
	}

	// Occupants per room.
	create(t, bob, "small", "B")
	if res := configure(t, bob, "small", map[string]string{"muc#roomconfig_maxusers": "2"}); res.Attr("type") != "result" {
		t.Fatalf("configure: %s", res.Inner)
	}
	join(t, alice, "small", "A", "")
	carol.Send(t, `<presence to='`+occ("small", "C")+`'><x xmlns='`+nsMUC+`'/></presence>`)
	carol.Expect(t, wait, "service-unavailable", isError("service-unavailable"))

	// Message rate: a burst of 3, then refusals; every message answered.
	for i := range 6 {
		groupchat(t, alice, "small", fmt.Sprintf("burst %d", i))
	}
	echoed, limited := 0, 0
	for echoed+limited < 6 {
		st := alice.Expect(t, wait, "echo or error", func(s xmpptest.Stanza) bool {
			return s.XMLName.Local == "message" && (strings.Contains(s.Inner, "burst ") || s.Attr("type") == "error")
		})
		if st.Attr("type") == "error" {
			if !isError("resource-constraint")(st) {
				t.Fatalf("rate error: %s", st.Inner)
			}
			limited++
		} else {
			echoed++
		}
	}
	if echoed < 3 || limited == 0 {
		t.Fatalf("%d echoed, %d limited; want the burst of 3 through and the rest limited", echoed, limited)
	}
}
