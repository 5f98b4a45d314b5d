package muc_test

import (
	"strings"
	"testing"

	"github.com/parleyim/parley/internal/xmpptest"
)

// TestEnterAndTalk: the basic life of a room: creation of an instant room,
// the order of presences on entering (§7.2.3), a groupchat message reaching
// every occupant with a stanza id by the room and an occupant id (§7.4).
func TestEnterAndTalk(t *testing.T) {
	e := newEnv(t, "alice", "bob", "carol")
	alice, bob, carol := e.users["alice"], e.users["bob"], e.users["carol"]
	create(t, alice, "tea", "Alice")
	join(t, bob, "tea", "Bob", "")
	alice.Expect(t, wait, "bob's presence", isPresence(occ("tea", "Bob"), ""))
	got := join(t, carol, "tea", "Carol", "")
	// Others first in join order, self last with 110, then the subject.
	var order []string
	for _, s := range got {
		if s.XMLName.Local == "presence" {
			order = append(order, s.Attr("from"))
		}
	}
	want := []string{occ("tea", "Alice"), occ("tea", "Bob"), occ("tea", "Carol")}
	if strings.Join(order, " ") != strings.Join(want, " ") {
		t.Fatalf("presence order %v, want %v", order, want)
	}
	self := selfPresence(t, got, occ("tea", "Carol"))
	if !strings.Contains(self.Inner, `role="participant"`) || !strings.Contains(self.Inner, `affiliation="none"`) {
		t.Errorf("self presence: %s", self.Inner)
	}
	owner := got[0]
	if !strings.Contains(owner.Inner, `affiliation="owner"`) || !strings.Contains(owner.Inner, `role="moderator"`) ||
		strings.Contains(owner.Inner, "alice@localhost") {
		t.Errorf("owner's presence in a semi-anonymous room: %s", owner.Inner)
	}
	if last := got[len(got)-1]; last.Attr("from") != room("tea") || last.Attr("type") != "groupchat" {
		t.Errorf("subject: %+v", last)
	}
	groupchat(t, bob, "tea", "hello all")
	for _, c := range []*xmpptest.Client{alice, bob, carol} {
		m := c.Expect(t, wait, "groupchat", isMessage(occ("tea", "Bob"), "hello all"))
		if m.Attr("type") != "groupchat" || m.Attr("to") != c.JID.String() ||
			!strings.Contains(m.Inner, `by="`+room("tea")+`"`) || !strings.Contains(m.Inner, "occupant-id") {
			t.Errorf("%s got %s", c.JID, m.Inner)
		}
	}
}
