package s2s_test

import (
	"strings"
	"testing"

	"github.com/parleyim/parley/internal/xmpptest"
)

// TestMUCAcrossServers: bob@b.test joins a room on conference.a.test and
// alice@a.test one on conference.b.test; each sees the other's groupchat
// messages. The room's stanzas travel on streams of the service domain
// (conference.a.test ↔ b.test), which dialback verifies like any other.
func TestMUCAcrossServers(t *testing.T) {
	p := startPair(t)
	alice := online(t, p.a, "alice@a.test")
	bob := online(t, p.b, "bob@b.test")
	for _, tc := range []struct {
		owner, guest *xmpptest.Client
		room         string
	}{
		{alice, bob, "lobby@conference.a.test"},
		{bob, alice, "hall@conference.b.test"},
	} {
		createRoom(t, tc.owner, tc.room, "owner")
		tc.guest.Send(t, `<presence to='`+tc.room+`/guest'><x xmlns='http://jabber.org/protocol/muc'/></presence>`)
		tc.guest.Expect(t, wait, "the guest's own presence in "+tc.room, func(s xmpptest.Stanza) bool {
			return isPresence(tc.room+"/guest", "")(s) && strings.Contains(s.Inner, `code="110"`)
		})
		tc.owner.Expect(t, wait, "the guest joining", isPresence(tc.room+"/guest", ""))
		tc.owner.Send(t, `<message to='`+tc.room+`' type='groupchat'><body>welcome</body></message>`)
		tc.guest.Expect(t, wait, "the owner's groupchat", isMessage(tc.room+"/owner", "welcome"))
		tc.guest.Send(t, `<message to='`+tc.room+`' type='groupchat'><body>thanks</body></message>`)
		tc.owner.Expect(t, wait, "the guest's groupchat", isMessage(tc.room+"/guest", "thanks"))
	}
}

// createRoom makes an instant room (XEP-0045 §10.1.2) owned by c.
func createRoom(t *testing.T, c *xmpptest.Client, room, nick string) {
	t.Helper()
	c.Send(t, `<presence to='`+room+`/`+nick+`'><x xmlns='http://jabber.org/protocol/muc'/></presence>`)
	c.Expect(t, wait, "the room's creation", func(s xmpptest.Stanza) bool {
		return isPresence(room+"/"+nick, "")(s) && strings.Contains(s.Inner, `code="201"`)
	})
	res := c.IQ(t, `<iq type='set' id='inst' to='`+room+`'><query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'/></query></iq>`)
	if res.Attr("type") != "result" {
		t.Fatalf("instant room: %s", res.Inner)
	}
}

// TestIQsAcrossServers: disco#info, ping and version of the remote server
// and an iq to a remote user's full JID go across and are answered.
func TestIQsAcrossServers(t *testing.T) {
	p := startPair(t)
	alice := online(t, p.a, "alice@a.test")
	for _, q := range []struct{ iq, want string }{
		{`<iq type='get' id='d1' to='b.test'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`, "urn:xmpp:ping"},
		{`<iq type='get' id='p1' to='b.test'><ping xmlns='urn:xmpp:ping'/></iq>`, ""},
		{`<iq type='get' id='v1' to='b.test'><query xmlns='jabber:iq:version'/></iq>`, "Parley"},
		{`<iq type='get' id='i1' to='conference.b.test'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`, "http://jabber.org/protocol/muc"},
	} {
		got := alice.IQ(t, q.iq)
		if got.Attr("type") != "result" || !strings.Contains(got.Inner, q.want) {
			t.Errorf("%s: got %s %s", q.iq, got.Attr("type"), got.Inner)
		}
	}
	bob := p.b.Dial(t, "bob@b.test", "pw", xmpptest.DialOptions{})
	alice.Send(t, `<iq type='get' id='u1' to='`+bob.JID.String()+`'><time xmlns='urn:xmpp:time'/></iq>`)
	bob.Expect(t, wait, "alice's iq at bob's full JID", func(s xmpptest.Stanza) bool {
		return s.XMLName.Local == "iq" && s.Attr("id") == "u1" && s.Attr("from") == alice.JID.String()
	})
	bob.Send(t, `<iq type='result' id='u1' to='`+alice.JID.String()+`'><time xmlns='urn:xmpp:time'><tzo>Z</tzo><utc>2026-12-07T00:00:00Z</utc></time></iq>`)
	alice.Expect(t, wait, "bob's answer", func(s xmpptest.Stanza) bool {
		return s.XMLName.Local == "iq" && s.Attr("type") == "result" && s.Attr("from") == bob.JID.String() && strings.Contains(s.Inner, "2026-12-07")
	})
}
