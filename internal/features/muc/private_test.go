package muc_test

import (
	"strings"
	"testing"

	"github.com/parleyim/parley/internal/xmpptest"
)

// userArchive queries c's own archive (XEP-0313) with a 'with' filter and
// returns the forwarded messages' XML.
func userArchive(t *testing.T, c *xmpptest.Client, with string) []string {
	t.Helper()
	for len(c.In) > 0 {
		<-c.In
	}
	res := c.IQ(t, `<iq type='set' id='pmq'><query xmlns='urn:xmpp:mam:2' queryid='pmq'><x xmlns='jabber:x:data' type='submit'>`+
		`<field var='FORM_TYPE' type='hidden'><value>urn:xmpp:mam:2</value></field><field var='with'><value>`+with+`</value></field></x></query></iq>`)
	if res.Attr("type") != "result" {
		t.Fatalf("archive query: %s", res.Inner)
	}
	var out []string
	for len(c.In) > 0 {
		if s := <-c.In; s.XMLName.Local == "message" && strings.Contains(s.Inner, `queryid="pmq"`) {
			out = append(out, s.Inner)
		}
	}
	return out
}

// TestPrivateMessagesArchived: a private message through a room (XEP-0045
// §7.5) is one-to-one chat for the archive (XEP-0313): the recipient's
// copy carries the muc#user <x/> and a stanza-id by the recipient's bare
// JID, and both users find it in their own archive under the other's
// occupant JID, marked as a private message.
func TestPrivateMessagesArchived(t *testing.T) {
	e := newEnv(t)
	alice, bob := e.add(t, "alice"), e.add(t, "bob")
	create(t, alice, "pms", "A")
	join(t, bob, "pms", "B", "")
	alice.Send(t, `<message type='chat' to='`+occ("pms", "B")+`' id='pm1'><body>psst</body></message>`)
	got := bob.Expect(t, wait, "the private message", isMessage(occ("pms", "A"), "psst"))
	if !strings.Contains(got.Inner, `xmlns="http://jabber.org/protocol/muc#user"`) {
		t.Errorf("delivered without the muc#user x: %s", got.Inner)
	}
	if !strings.Contains(got.Inner, `by="bob@localhost"`) {
		t.Errorf("delivered without bob's stanza-id: %s", got.Inner)
	}
	if n := strings.Count(got.Inner, `<x xmlns="http://jabber.org/protocol/muc#user"`); n != 1 {
		t.Errorf("%d muc#user elements, want one: %s", n, got.Inner)
	}
	id := stanzaID(t, got, "urn:xmpp:sid:0")

	inBob := userArchive(t, bob, occ("pms", "A"))
	if len(inBob) != 1 || !strings.Contains(inBob[0], "psst") || !strings.Contains(inBob[0], "muc#user") || !strings.Contains(inBob[0], `id="`+id+`"`) {
		t.Fatalf("bob's archive with %s: %q (want the message, archive id %s)", occ("pms", "A"), inBob, id)
	}
	inAlice := userArchive(t, alice, occ("pms", "B"))
	if len(inAlice) != 1 || !strings.Contains(inAlice[0], "psst") || !strings.Contains(inAlice[0], "muc#user") {
		t.Fatalf("alice's archive with %s: %q", occ("pms", "B"), inAlice)
	}
	// Without a body (a chat state) it is delivered, not archived; a
	// stanza-id forged by the sender in bob's name is removed.
	alice.Send(t, `<message type='chat' to='`+occ("pms", "B")+`'><active xmlns='http://jabber.org/protocol/chatstates'/>`+
		`<stanza-id xmlns='urn:xmpp:sid:0' by='bob@localhost' id='forged'/></message>`)
	state := bob.Expect(t, wait, "the chat state", isMessage(occ("pms", "A"), "chatstates"))
	if strings.Contains(state.Inner, "forged") || strings.Contains(state.Inner, `by="bob@localhost"`) {
		t.Errorf("chat state delivered with a stanza-id by bob: %s", state.Inner)
	}
	if msgs := userArchive(t, bob, occ("pms", "A")); len(msgs) != 1 {
		t.Errorf("bob's archive has %d messages after the chat state, want still 1", len(msgs))
	}
	// A groupchat message is in no user archive: with the room's bare JID
	// (which matches every occupant) bob finds the private message only.
	groupchat(t, alice, "pms", "to everyone")
	bob.Expect(t, wait, "the groupchat message", isMessage(occ("pms", "A"), "to everyone"))
	if msgs := userArchive(t, bob, room("pms")); len(msgs) != 1 || strings.Contains(msgs[0], "to everyone") {
		t.Errorf("bob's archive with the room: %q", msgs)
	}
}
