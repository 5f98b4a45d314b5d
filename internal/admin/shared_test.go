package admin_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/xmpptest"
)

// online logs user in with a real client, asks for its roster (so it gets
// roster pushes, RFC 6121 §2.1.6) and sends available presence.
func online(t *testing.T, e *env, user string) *xmpptest.Client {
	t.Helper()
	e.srv.AddUser(t, user, "pw")
	c := e.srv.Dial(t, user, "pw", xmpptest.DialOptions{})
	c.IQ(t, `<iq type="get" id="r1"><query xmlns="jabber:iq:roster"/></iq>`)
	c.Send(t, `<presence><status>here</status></presence>`)
	return c
}

func isPush(contact, sub string) func(xmpptest.Stanza) bool {
	return func(s xmpptest.Stanza) bool {
		return s.XMLName.Local == "iq" && s.Attr("type") == "set" && strings.Contains(s.Inner, "jabber:iq:roster") &&
			strings.Contains(s.Inner, `jid="`+contact+`"`) && strings.Contains(s.Inner, `subscription="`+sub+`"`)
	}
}

func isPresence(from, typ string) func(xmpptest.Stanza) bool {
	return func(s xmpptest.Stanza) bool {
		return s.XMLName.Local == "presence" && strings.HasPrefix(s.Attr("from"), from+"/") && s.Attr("type") == typ
	}
}

// TestSharedGroupsLive: shared-group changes made in the console reach
// online members at once: putting two online users in a group pushes
// each into the other's roster (subscription both, the group's display
// name) and exchanges their presence; removing one pushes the removal and
// unavailable presence; deleting the group does the same for the rest.
func TestSharedGroupsLive(t *testing.T) {
	e := start(t)
	b := e.loggedIn(t)
	alice, bob := online(t, e, "alice@localhost"), online(t, e, "bob@localhost")
	e.srv.AddUser(t, "carol@localhost", "pw") // offline member

	b.post("/groups", url.Values{"name": {"staff"}, "display": {"Our Staff"}, "members": {"alice\nbob@localhost carol"}}).
		want(t, "create group", http.StatusSeeOther)
	for _, c := range []struct {
		cl      *xmpptest.Client
		contact string
	}{{alice, "bob@localhost"}, {bob, "alice@localhost"}} {
		// Pushes come in contact order, then the presence.
		push := c.cl.Expect(t, 5*time.Second, "roster push of "+c.contact, isPush(c.contact, "both"))
		if !strings.Contains(push.Inner, "Our Staff") {
			t.Errorf("push without the group name: %s", push.Inner)
		}
		c.cl.Expect(t, 5*time.Second, "push of the offline member", isPush("carol@localhost", "both"))
		c.cl.Expect(t, 5*time.Second, "presence of "+c.contact, isPresence(c.contact, ""))
	}
	b.get("/user?jid=alice@localhost").want(t, "roster view", http.StatusOK, "bob@localhost", "both (shared group)", "Our Staff")

	// Renaming pushes the items again with the new group name, without
	// presence changes.
	b.post("/groups/rename", url.Values{"name": {"staff"}, "display": {"Crew"}}).want(t, "rename", http.StatusSeeOther)
	for _, c := range []struct {
		cl      *xmpptest.Client
		contact string
	}{{alice, "bob@localhost"}, {bob, "alice@localhost"}} {
		push := c.cl.Expect(t, 5*time.Second, "renamed push of "+c.contact, isPush(c.contact, "both"))
		if !strings.Contains(push.Inner, "Crew") || strings.Contains(push.Inner, "Our Staff") {
			t.Errorf("push after rename: %s", push.Inner)
		}
	}

	b.post("/groups/members/remove", url.Values{"name": {"staff"}, "member": {"bob@localhost"}}).want(t, "remove bob", http.StatusSeeOther)
	alice.Expect(t, 5*time.Second, "removal push", isPush("bob@localhost", "remove"))
	alice.Expect(t, 5*time.Second, "bob's unavailable presence", isPresence("bob@localhost", "unavailable"))
	bob.Expect(t, 5*time.Second, "removal push", isPush("alice@localhost", "remove"))
	bob.Expect(t, 5*time.Second, "alice's unavailable presence", isPresence("alice@localhost", "unavailable"))

	b.post("/groups/delete", url.Values{"name": {"staff"}}).want(t, "delete group", http.StatusSeeOther)
	alice.Expect(t, 5*time.Second, "carol removed", isPush("carol@localhost", "remove"))
	b.get("/groups").want(t, "groups after delete", http.StatusOK, "No shared groups yet")
	b.post("/groups/delete", url.Values{"name": {"staff"}}).want(t, "delete again", http.StatusNotFound, "There is no such group")
}

// TestRoomsConsole: a room created in the console is listed and
// configurable; a client joins it; destroying it tells the occupant.
func TestRoomsConsole(t *testing.T) {
	e := start(t)
	b := e.loggedIn(t)
	b.post("/rooms", url.Values{"room": {"cafe"}, "name": {"Café"}, "persistent": {"1"}, "public": {"1"}}).want(t, "create", http.StatusSeeOther)
	b.post("/rooms", url.Values{"room": {"cafe"}}).want(t, "create twice", http.StatusConflict, "already exists")
	b.post("/rooms", url.Values{"room": {"cafe"}, "max_users": {"many"}}).want(t, "bad number", http.StatusBadRequest, "whole number")
	b.get("/rooms").want(t, "list", http.StatusOK, "cafe@conference.localhost", "Café", "persistent")
	b.post("/room/configure", url.Values{"room": {"cafe@conference.localhost"}, "name": {"Coffee"}, "persistent": {"1"}, "max_users": {"7"}}).
		want(t, "configure", http.StatusSeeOther)
	b.get("/room?jid=cafe@conference.localhost").want(t, "room page", http.StatusOK, `value="Coffee"`, `value="7"`)

	c := online(t, e, "dora@localhost")
	c.Send(t, `<presence to="cafe@conference.localhost/dora"><x xmlns="http://jabber.org/protocol/muc"/></presence>`)
	c.Expect(t, 5*time.Second, "self-presence in the room", func(s xmpptest.Stanza) bool {
		return s.XMLName.Local == "presence" && s.Attr("from") == "cafe@conference.localhost/dora" && strings.Contains(s.Inner, `code="110"`)
	})
	poll(t, "occupant counted", func() string {
		if !strings.Contains(b.get("/room?jid=cafe@conference.localhost").body, "1 occupants") {
			return "not counted"
		}
		return ""
	})
	b.post("/room/destroy", url.Values{"room": {"cafe@conference.localhost"}, "reason": {"closing time"}}).want(t, "destroy", http.StatusSeeOther)
	c.Expect(t, 5*time.Second, "destroy presence", func(s xmpptest.Stanza) bool {
		return s.XMLName.Local == "presence" && s.Attr("type") == "unavailable" && strings.Contains(s.Inner, "destroy") && strings.Contains(s.Inner, "closing time")
	})
	if strings.Contains(b.get("/rooms").body, "cafe@") {
		t.Error("destroyed room still listed")
	}
}

// TestUserKeys: the user page says whether the account published PEP
// data, and OMEMO keys among it (XEP-0384 device list).
func TestUserKeys(t *testing.T) {
	e := start(t)
	b := e.loggedIn(t)
	c := online(t, e, "olga@localhost")
	b.get("/user?jid=olga@localhost").want(t, "before publishing", http.StatusOK, "PEP: nothing published; OMEMO keys: none.")
	c.IQ(t, `<iq type="set" id="p1"><pubsub xmlns="http://jabber.org/protocol/pubsub"><publish node="http://jabber.org/protocol/nick"><item id="current"><nick xmlns="http://jabber.org/protocol/nick">Olga</nick></item></publish></pubsub></iq>`)
	b.get("/user?jid=olga@localhost").want(t, "after a nickname", http.StatusOK, "PEP: has published data; OMEMO keys: none.")
	r := c.IQ(t, `<iq type="set" id="p2"><pubsub xmlns="http://jabber.org/protocol/pubsub"><publish node="urn:xmpp:omemo:2:devices"><item id="current"><devices xmlns="urn:xmpp:omemo:2"><device id="12345"/></devices></item></publish></pubsub></iq>`)
	if r.Attr("type") != "result" {
		t.Fatalf("publish device list: %s", r.Inner)
	}
	b.get("/user?jid=olga@localhost").want(t, "after OMEMO", http.StatusOK, "OMEMO keys: yes.")
}

// TestServerAdminsMayLogIn: the server's admins (top-level admins) log in
// to the console without being in admin.users.
func TestServerAdminsMayLogIn(t *testing.T) {
	e := start(t, func(c *config.Config) { c.Admins = []string{"boss@localhost"} })
	e.srv.AddUser(t, "boss@localhost", "bosspw")
	e.browser(t, "127.0.0.1").login("boss@localhost", "bosspw").want(t, "server admin", http.StatusSeeOther)
}
