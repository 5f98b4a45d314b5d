package muc_test

import (
	"strings"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/xmpptest"
)

// TestRooms is the XEP-0045 behaviour, one named scenario each, on a fresh
// server with alice, bob and carol online.
func TestRooms(t *testing.T) {
	cases := []struct {
		name string
		run  func(t *testing.T, e *env)
	}{
		{"locked room refuses others until the owner accepts it", func(t *testing.T, e *env) {
			alice, bob := e.users["alice"], e.users["bob"]
			got := join(t, alice, "new", "A", "")
			if !hasStatus(selfPresence(t, got, occ("new", "A")), 201) {
				t.Fatal("no 201 for the creator")
			}
			bob.Send(t, `<presence to='`+occ("new", "B")+`'><x xmlns='http://jabber.org/protocol/muc'/></presence>`)
			bob.Expect(t, wait, "item-not-found", isError("item-not-found"))
			configure(t, alice, "new", nil)
			join(t, bob, "new", "B", "")
		}},
		{"nickname conflict", func(t *testing.T, e *env) {
			create(t, e.users["alice"], "r", "Same")
			e.users["bob"].Send(t, `<presence to='`+occ("r", "Same")+`'><x xmlns='http://jabber.org/protocol/muc'/></presence>`)
			st := e.users["bob"].Expect(t, wait, "conflict", isError("conflict"))
			if st.Attr("from") != occ("r", "Same") || !strings.Contains(st.Inner, "http://jabber.org/protocol/muc") {
				t.Errorf("error presence: %s", st.Inner)
			}
		}},
		{"presence to the bare room is jid-malformed", func(t *testing.T, e *env) {
			e.users["bob"].Send(t, `<presence to='`+room("r")+`'><x xmlns='http://jabber.org/protocol/muc'/></presence>`)
			e.users["bob"].Expect(t, wait, "jid-malformed", isError("jid-malformed"))
		}},
		{"history is replayed with delays, limited by maxstanzas", func(t *testing.T, e *env) {
			alice, bob, carol := e.users["alice"], e.users["bob"], e.users["carol"]
			create(t, alice, "h", "A")
			for _, b := range []string{"one", "two", "three"} {
				groupchat(t, alice, "h", b)
				alice.Expect(t, wait, "echo", isMessage(occ("h", "A"), b))
			}
			got := join(t, bob, "h", "B", "")
			var bodies []string
			for _, s := range got {
				if s.XMLName.Local == "message" && strings.Contains(s.Inner, "<body") {
					if !strings.Contains(s.Inner, "urn:xmpp:delay") || !strings.Contains(s.Inner, `from="`+room("h")+`"`) {
						t.Errorf("history without the room's delay: %s", s.Inner)
					}
					bodies = append(bodies, s.Inner[strings.Index(s.Inner, "<body"):])
				}
			}
			if len(bodies) != 3 || !strings.Contains(bodies[0], "one") || !strings.Contains(bodies[2], "three") {
				t.Fatalf("history %v", bodies)
			}
			got = join(t, carol, "h", "C", `<history maxstanzas='1'/>`)
			n := 0
			for _, s := range got {
				if s.XMLName.Local == "message" && strings.Contains(s.Inner, "<body") {
					n++
					if !strings.Contains(s.Inner, "three") {
						t.Errorf("maxstanzas=1 gave %s", s.Inner)
					}
				}
			}
			if n != 1 {
				t.Errorf("maxstanzas=1 gave %d messages", n)
			}
		}},
		{"subject is set and sent after the history", func(t *testing.T, e *env) {
			alice, bob := e.users["alice"], e.users["bob"]
			create(t, alice, "s", "A")
			groupchat(t, alice, "s", "before")
			alice.Send(t, `<message to='`+room("s")+`' type='groupchat'><subject>Tea time</subject></message>`)
			alice.Expect(t, wait, "subject change", isMessage(occ("s", "A"), "Tea time"))
			got := join(t, bob, "s", "B", "")
			last := got[len(got)-1]
			if last.Attr("from") != occ("s", "A") || !strings.Contains(last.Inner, "Tea time") {
				t.Fatalf("last stanza %s from %s", last.Inner, last.Attr("from"))
			}
			if strings.Contains(got[len(got)-2].Inner, "<subject") || !strings.Contains(got[len(got)-2].Inner, "before") {
				t.Errorf("history should come before the subject: %s", got[len(got)-2].Inner)
			}
		}},
		{"message from a non-occupant is refused", func(t *testing.T, e *env) {
			create(t, e.users["alice"], "m", "A")
			groupchat(t, e.users["bob"], "m", "let me in")
			st := e.users["bob"].Expect(t, wait, "not-acceptable", isError("not-acceptable"))
			if st.Attr("from") != room("m") {
				t.Errorf("error from %q", st.Attr("from"))
			}
			e.users["alice"].ExpectNone(t, quiet, "the outsider's message", isMessage(occ("m", "B"), "let me in"))
		}},
		{"message to a room that does not exist", func(t *testing.T, e *env) {
			groupchat(t, e.users["bob"], "nowhere", "hi")
			e.users["bob"].Expect(t, wait, "item-not-found", isError("item-not-found"))
		}},
		{"private message and iq between occupants", func(t *testing.T, e *env) {
			alice, bob := e.users["alice"], e.users["bob"]
			create(t, alice, "p", "A")
			join(t, bob, "p", "B", "")
			bob.Send(t, `<message to='`+occ("p", "A")+`' type='chat'><body>psst</body></message>`)
			m := alice.Expect(t, wait, "private message", isMessage(occ("p", "B"), "psst"))
			if m.Attr("type") != "chat" || !strings.Contains(m.Inner, "http://jabber.org/protocol/muc#user") {
				t.Errorf("private message: %s", m.Inner)
			}
			bob.Send(t, `<iq type='get' id='v1' to='`+occ("p", "A")+`'><query xmlns='jabber:iq:version'/></iq>`)
			// mellium answers unknown iqs with service-unavailable: it comes back through the room.
			st := bob.Expect(t, wait, "the forwarded answer", func(s xmpptest.Stanza) bool {
				return s.XMLName.Local == "iq" && s.Attr("id") == "v1"
			})
			if st.Attr("from") != occ("p", "A") {
				t.Errorf("answer from %q", st.Attr("from"))
			}
			e.users["carol"].Send(t, `<message to='`+occ("p", "A")+`' type='chat'><body>hi</body></message>`)
			e.users["carol"].Expect(t, wait, "not-acceptable", isError("not-acceptable"))
		}},
		{"nickname change", func(t *testing.T, e *env) {
			alice, bob := e.users["alice"], e.users["bob"]
			create(t, alice, "n", "A")
			join(t, bob, "n", "B", "")
			bob.Send(t, `<presence to='`+occ("n", "Bee")+`'/>`)
			st := alice.Expect(t, wait, "303", isPresence(occ("n", "B"), "unavailable"))
			if !hasStatus(st, 303) || !strings.Contains(st.Inner, `nick="Bee"`) {
				t.Errorf("nick change presence: %s", st.Inner)
			}
			alice.Expect(t, wait, "new nick", isPresence(occ("n", "Bee"), ""))
			self := bob.Expect(t, wait, "own new nick", isPresence(occ("n", "Bee"), ""))
			if !hasStatus(self, 110) {
				t.Errorf("own new presence: %s", self.Inner)
			}
			groupchat(t, bob, "n", "renamed")
			alice.Expect(t, wait, "message from the new nick", isMessage(occ("n", "Bee"), "renamed"))
		}},
		{"leaving", func(t *testing.T, e *env) {
			alice, bob := e.users["alice"], e.users["bob"]
			create(t, alice, "l", "A")
			join(t, bob, "l", "B", "")
			bob.Send(t, `<presence to='`+occ("l", "B")+`' type='unavailable'><status>bye</status></presence>`)
			self := bob.Expect(t, wait, "own unavailable", isPresence(occ("l", "B"), "unavailable"))
			if !hasStatus(self, 110) {
				t.Errorf("self unavailable: %s", self.Inner)
			}
			st := alice.Expect(t, wait, "bob leaving", isPresence(occ("l", "B"), "unavailable"))
			if !strings.Contains(st.Inner, `role="none"`) || !strings.Contains(st.Inner, "bye") {
				t.Errorf("leave: %s", st.Inner)
			}
			groupchat(t, bob, "l", "still here?")
			bob.Expect(t, wait, "not-acceptable", isError("not-acceptable"))
		}},
		{"a closed session leaves its rooms", func(t *testing.T, e *env) {
			alice := e.users["alice"]
			create(t, alice, "c", "A")
			dave := e.add(t, "dave") // no initial presence: only SessionClosed can tell the room
			join(t, dave, "c", "D", "")
			dave.Close()
			st := alice.Expect(t, wait, "dave gone", isPresence(occ("c", "D"), "unavailable"))
			if !strings.Contains(st.Inner, `role="none"`) {
				t.Errorf("unavailable: %s", st.Inner)
			}
			join(t, e.users["bob"], "c", "D", "") // the nick is free again
		}},
		{"empty temporary room vanishes", func(t *testing.T, e *env) {
			alice, bob := e.users["alice"], e.users["bob"]
			create(t, alice, "gone", "A")
			alice.Send(t, `<presence to='`+occ("gone", "A")+`' type='unavailable'/>`)
			alice.Expect(t, wait, "own unavailable", isPresence(occ("gone", "A"), "unavailable"))
			got := join(t, bob, "gone", "B", "") // bob creates it anew
			if !hasStatus(selfPresence(t, got, occ("gone", "B")), 201) {
				t.Fatal("the room was not created anew")
			}
		}},
		{"configuration form round trip", func(t *testing.T, e *env) {
			alice := e.users["alice"]
			create(t, alice, "cfg", "A")
			res := configure(t, alice, "cfg", map[string]string{
				"muc#roomconfig_roomname": "Tea Room", "muc#roomconfig_roomdesc": "for tea",
				"muc#roomconfig_whois": "anyone", "muc#roomconfig_maxusers": "20", "muc#roomconfig_moderatedroom": "1",
				"muc#roomconfig_changesubject": "0", "muc#roomconfig_allowpm": "moderators",
			})
			if res.Attr("type") != "result" {
				t.Fatalf("submit: %s", res.Inner)
			}
			n := alice.Expect(t, wait, "status 104", func(s xmpptest.Stanza) bool {
				return s.XMLName.Local == "message" && s.Attr("from") == room("cfg") && hasStatus(s, 104)
			})
			if !hasStatus(n, 172) {
				t.Errorf("becoming non-anonymous should say 172: %s", n.Inner)
			}
			form := alice.IQ(t, `<iq type='get' id='g' to='`+room("cfg")+`'><query xmlns='http://jabber.org/protocol/muc#owner'/></iq>`)
			for _, want := range []string{"Tea Room", "for tea", ">anyone<", ">20<", ">moderators<"} {
				if !strings.Contains(form.Inner, want) {
					t.Errorf("form lacks %q: %s", want, form.Inner)
				}
			}
			info := alice.IQ(t, `<iq type='get' id='i' to='`+room("cfg")+`'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`)
			for _, want := range []string{"muc_nonanonymous", "muc_moderated", "muc_temporary", "muc_open", "muc_unsecured", "muc_public", "Tea Room", "muc#roominfo"} {
				if !strings.Contains(info.Inner, want) {
					t.Errorf("disco#info lacks %q: %s", want, info.Inner)
				}
			}
			bad := configure(t, alice, "cfg", map[string]string{"muc#roomconfig_maxusers": "100000"})
			if bad.Attr("type") != "error" || !strings.Contains(bad.Inner, "not-acceptable") {
				t.Errorf("maxusers past the limit: %s", bad.Inner)
			}
			res = e.users["bob"].IQ(t, `<iq type='get' id='g2' to='`+room("cfg")+`'><query xmlns='http://jabber.org/protocol/muc#owner'/></iq>`)
			if !strings.Contains(res.Inner, "forbidden") {
				t.Errorf("non-owner got the form: %s", res.Inner)
			}
		}},
		{"moderated room: visitors may not speak until given voice", func(t *testing.T, e *env) {
			alice, bob := e.users["alice"], e.users["bob"]
			create(t, alice, "mod", "A")
			configure(t, alice, "mod", map[string]string{"muc#roomconfig_moderatedroom": "1"})
			got := join(t, bob, "mod", "B", "")
			if !strings.Contains(selfPresence(t, got, occ("mod", "B")).Inner, `role="visitor"`) {
				t.Fatal("bob should be a visitor")
			}
			groupchat(t, bob, "mod", "may I?")
			bob.Expect(t, wait, "forbidden", isError("forbidden"))
			res := alice.IQ(t, `<iq type='set' id='v' to='`+room("mod")+`'><query xmlns='http://jabber.org/protocol/muc#admin'><item nick='B' role='participant'/></query></iq>`)
			if res.Attr("type") != "result" {
				t.Fatalf("grant voice: %s", res.Inner)
			}
			bob.Expect(t, wait, "voice", func(s xmpptest.Stanza) bool {
				return isPresence(occ("mod", "B"), "")(s) && strings.Contains(s.Inner, `role="participant"`)
			})
			groupchat(t, bob, "mod", "thanks")
			alice.Expect(t, wait, "bob's message", isMessage(occ("mod", "B"), "thanks"))
		}},
		{"members-only room refuses non-members", func(t *testing.T, e *env) {
			alice, bob := e.users["alice"], e.users["bob"]
			create(t, alice, "club", "A")
			configure(t, alice, "club", map[string]string{"muc#roomconfig_membersonly": "1"})
			bob.Send(t, `<presence to='`+occ("club", "B")+`'><x xmlns='http://jabber.org/protocol/muc'/></presence>`)
			bob.Expect(t, wait, "registration-required", isError("registration-required"))
			res := alice.IQ(t, `<iq type='set' id='mem' to='`+room("club")+`'><query xmlns='http://jabber.org/protocol/muc#admin'><item jid='bob@localhost' affiliation='member'/></query></iq>`)
			if res.Attr("type") != "result" {
				t.Fatalf("add member: %s", res.Inner)
			}
			join(t, bob, "club", "B", "")
			list := alice.IQ(t, `<iq type='get' id='ml' to='`+room("club")+`'><query xmlns='http://jabber.org/protocol/muc#admin'><item affiliation='member'/></query></iq>`)
			if !strings.Contains(list.Inner, `jid="bob@localhost"`) {
				t.Errorf("member list: %s", list.Inner)
			}
			res = alice.IQ(t, `<iq type='set' id='unmem' to='`+room("club")+`'><query xmlns='http://jabber.org/protocol/muc#admin'><item jid='bob@localhost' affiliation='none'/></query></iq>`)
			if res.Attr("type") != "result" {
				t.Fatalf("remove member: %s", res.Inner)
			}
			st := bob.Expect(t, wait, "removal", isPresence(occ("club", "B"), "unavailable"))
			if !hasStatus(st, 321) {
				t.Errorf("removal: %s", st.Inner)
			}
		}},
		{"kick and ban", func(t *testing.T, e *env) {
			alice, bob, carol := e.users["alice"], e.users["bob"], e.users["carol"]
			create(t, alice, "k", "A")
			join(t, bob, "k", "B", "")
			join(t, carol, "k", "C", "")
			res := bob.IQ(t, `<iq type='set' id='k0' to='`+room("k")+`'><query xmlns='http://jabber.org/protocol/muc#admin'><item nick='C' role='none'/></query></iq>`)
			if !strings.Contains(res.Inner, "forbidden") {
				t.Errorf("a participant kicked: %s", res.Inner)
			}
			res = alice.IQ(t, `<iq type='set' id='k1' to='`+room("k")+`'><query xmlns='http://jabber.org/protocol/muc#admin'><item nick='B' role='none'><reason>spam</reason></item></query></iq>`)
			if res.Attr("type") != "result" {
				t.Fatalf("kick: %s", res.Inner)
			}
			st := bob.Expect(t, wait, "kicked", isPresence(occ("k", "B"), "unavailable"))
			if !hasStatus(st, 307) || !hasStatus(st, 110) || !strings.Contains(st.Inner, "spam") {
				t.Errorf("kicked: %s", st.Inner)
			}
			carol.Expect(t, wait, "bob kicked", func(s xmpptest.Stanza) bool { return isPresence(occ("k", "B"), "unavailable")(s) && hasStatus(s, 307) })
			res = alice.IQ(t, `<iq type='set' id='k2' to='`+room("k")+`'><query xmlns='http://jabber.org/protocol/muc#admin'><item jid='carol@localhost' affiliation='outcast'/></query></iq>`)
			if res.Attr("type") != "result" {
				t.Fatalf("ban: %s", res.Inner)
			}
			st = carol.Expect(t, wait, "banned", isPresence(occ("k", "C"), "unavailable"))
			if !hasStatus(st, 301) || !strings.Contains(st.Inner, `affiliation="outcast"`) {
				t.Errorf("banned: %s", st.Inner)
			}
			carol.Send(t, `<presence to='`+occ("k", "C")+`'><x xmlns='http://jabber.org/protocol/muc'/></presence>`)
			carol.Expect(t, wait, "forbidden", isError("forbidden"))
			res = alice.IQ(t, `<iq type='set' id='k3' to='`+room("k")+`'><query xmlns='http://jabber.org/protocol/muc#admin'><item jid='alice@localhost' affiliation='admin'/></query></iq>`)
			if !strings.Contains(res.Inner, "conflict") {
				t.Errorf("the last owner stepped down: %s", res.Inner)
			}
		}},
		{"password-protected room", func(t *testing.T, e *env) {
			alice, bob := e.users["alice"], e.users["bob"]
			create(t, alice, "pw", "A")
			configure(t, alice, "pw", map[string]string{"muc#roomconfig_passwordprotectedroom": "1", "muc#roomconfig_roomsecret": "s3cret"})
			bob.Send(t, `<presence to='`+occ("pw", "B")+`'><x xmlns='http://jabber.org/protocol/muc'/></presence>`)
			bob.Expect(t, wait, "not-authorized", isError("not-authorized"))
			join(t, bob, "pw", "B", `<password>s3cret</password>`)
		}},
		{"full room", func(t *testing.T, e *env) {
			alice, bob, carol := e.users["alice"], e.users["bob"], e.users["carol"]
			create(t, alice, "full", "A")
			configure(t, alice, "full", map[string]string{"muc#roomconfig_maxusers": "2"})
			join(t, bob, "full", "B", "")
			carol.Send(t, `<presence to='`+occ("full", "C")+`'><x xmlns='http://jabber.org/protocol/muc'/></presence>`)
			carol.Expect(t, wait, "service-unavailable", isError("service-unavailable"))
		}},
		{"destroy", func(t *testing.T, e *env) {
			alice, bob := e.users["alice"], e.users["bob"]
			create(t, alice, "d", "A")
			join(t, bob, "d", "B", "")
			res := alice.IQ(t, `<iq type='set' id='d' to='`+room("d")+`'><query xmlns='http://jabber.org/protocol/muc#owner'><destroy jid='`+room("elsewhere")+`'><reason>moving</reason></destroy></query></iq>`)
			if res.Attr("type") != "result" {
				t.Fatalf("destroy: %s", res.Inner)
			}
			st := bob.Expect(t, wait, "destroyed", isPresence(occ("d", "B"), "unavailable"))
			if !strings.Contains(st.Inner, "destroy") || !strings.Contains(st.Inner, "moving") || !strings.Contains(st.Inner, room("elsewhere")) {
				t.Errorf("destroy presence: %s", st.Inner)
			}
			groupchat(t, bob, "d", "anyone?")
			bob.Expect(t, wait, "item-not-found", isError("item-not-found"))
		}},
		{"mediated invitation to a members-only room", func(t *testing.T, e *env) {
			alice, bob := e.users["alice"], e.users["bob"]
			create(t, alice, "inv", "A")
			configure(t, alice, "inv", map[string]string{"muc#roomconfig_membersonly": "1"})
			alice.Send(t, `<message to='`+room("inv")+`'><x xmlns='http://jabber.org/protocol/muc#user'><invite to='bob@localhost'><reason>tea?</reason></invite></x></message>`)
			m := bob.Expect(t, wait, "invitation", func(s xmpptest.Stanza) bool {
				return s.XMLName.Local == "message" && s.Attr("from") == room("inv") && strings.Contains(s.Inner, "invite")
			})
			if !strings.Contains(m.Inner, `from="`+alice.JID.String()+`"`) || !strings.Contains(m.Inner, "tea?") {
				t.Errorf("invitation: %s", m.Inner)
			}
			join(t, bob, "inv", "B", "") // the invitation made bob a member
		}},
		{"discovery", func(t *testing.T, e *env) {
			alice := e.users["alice"]
			items := alice.IQ(t, `<iq type='get' id='di' to='localhost'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>`)
			if !strings.Contains(items.Inner, `jid="`+service+`"`) {
				t.Errorf("server items: %s", items.Inner)
			}
			info := alice.IQ(t, `<iq type='get' id='si' to='`+service+`'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`)
			if !strings.Contains(info.Inner, `category="conference"`) || !strings.Contains(info.Inner, `var="http://jabber.org/protocol/muc"`) {
				t.Errorf("service info: %s", info.Inner)
			}
			create(t, alice, "pub", "A")
			create(t, alice, "hid", "A")
			configure(t, alice, "hid", map[string]string{"muc#roomconfig_publicroom": "0"})
			list := alice.IQ(t, `<iq type='get' id='sl' to='`+service+`'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>`)
			if !strings.Contains(list.Inner, room("pub")) || strings.Contains(list.Inner, room("hid")) {
				t.Errorf("public rooms: %s", list.Inner)
			}
			ri := alice.IQ(t, `<iq type='get' id='ri' to='`+room("hid")+`'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`)
			if !strings.Contains(ri.Inner, "muc_hidden") || !strings.Contains(ri.Inner, "muc_semianonymous") {
				t.Errorf("room info: %s", ri.Inner)
			}
			none := alice.IQ(t, `<iq type='get' id='ni' to='`+room("nope")+`'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`)
			if !strings.Contains(none.Inner, "item-not-found") {
				t.Errorf("missing room info: %s", none.Inner)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.run(t, newEnv(t, "alice", "bob", "carol"))
		})
	}
}

// TestCreateRestricted: with create = "admins", only listed JIDs create.
func TestCreateRestricted(t *testing.T) {
	srv := xmpptest.Start(t, func(c *config.Config) {
		c.MUC.Create = "admins"
		c.MUC.Admins = []string{"boss@localhost"}
	})
	e := &env{srv: srv, users: map[string]*xmpptest.Client{}}
	bob, boss := e.add(t, "bob"), e.add(t, "boss")
	bob.Send(t, `<presence to='`+occ("x", "B")+`'><x xmlns='http://jabber.org/protocol/muc'/></presence>`)
	bob.Expect(t, wait, "not-allowed", isError("not-allowed"))
	create(t, boss, "x", "Boss")
	join(t, bob, "x", "B", "")
}

// TestDisabled: with [muc] enabled = false there is no service.
func TestDisabled(t *testing.T) {
	srv := xmpptest.Start(t, func(c *config.Config) { c.MUC.Enabled = false })
	e := &env{srv: srv, users: map[string]*xmpptest.Client{}}
	bob := e.add(t, "bob")
	groupchat(t, bob, "x", "hello?")
	bob.Expect(t, 5*time.Second, "remote-server-not-found", isError("remote-server-not-found"))
	items := bob.IQ(t, `<iq type='get' id='di' to='localhost'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>`)
	if strings.Contains(items.Inner, service) {
		t.Errorf("disabled service listed: %s", items.Inner)
	}
}
