package s2s_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/parleyim/parley/internal/xmpptest"
)

// TestChatBothWays: alice@a.test and bob@b.test exchange chat messages;
// each server opens one outbound stream, authenticated by dialback (the
// certificates are self-signed), and every later message reuses it.
func TestChatBothWays(t *testing.T) {
	p := startPair(t)
	alice := online(t, p.a, "alice@a.test")
	bob := online(t, p.b, "bob@b.test")
	alice.Send(t, `<message to='bob@b.test' type='chat'><body>hello bob</body></message>`)
	bob.Expect(t, wait, "alice's message", isMessage(alice.JID.String(), "hello bob"))
	bob.Send(t, `<message to='`+alice.JID.String()+`' type='chat'><body>hi alice</body></message>`)
	alice.Expect(t, wait, "bob's reply", isMessage(bob.JID.String(), "hi alice"))
	for i := range 20 {
		alice.Send(t, fmt.Sprintf(`<message to='bob@b.test' type='chat'><body>n%d</body></message>`, i))
	}
	for i := range 20 {
		bob.Expect(t, wait, "message", isMessage("alice@a.test", fmt.Sprintf("n%d<", i)))
	}
	out := streamsOf(p.a, "out")
	if len(out) != 1 || out[0].Remote != "b.test" || out[0].Auth != "dialback" || !out[0].TLS {
		t.Fatalf("a.test's outbound streams: %+v, want one to b.test by dialback over TLS", out)
	}
	in := streamsOf(p.b, "in")
	if len(in) != 1 || in[0].Remote != "a.test" || in[0].Auth != "dialback" {
		t.Fatalf("b.test's inbound streams: %+v, want one from a.test", in)
	}
}

// TestPresenceSubscriptionBothWays: alice and bob subscribe to each other
// across servers (RFC 6121 §3 with a remote contact) and then see each
// other's presence, including a probe answered after a new login.
func TestPresenceSubscriptionBothWays(t *testing.T) {
	p := startPair(t)
	alice := online(t, p.a, "alice@a.test")
	bob := online(t, p.b, "bob@b.test")

	alice.Send(t, `<presence to='bob@b.test' type='subscribe'/>`)
	bob.Expect(t, wait, "alice's subscription request", isPresence("alice@a.test", "subscribe"))
	bob.Send(t, `<presence to='alice@a.test' type='subscribed'/>`)
	alice.Expect(t, wait, "bob's approval", isPresence("bob@b.test", "subscribed"))
	alice.Expect(t, wait, "bob's presence after approval", isPresence(bob.JID.String(), ""))

	bob.Send(t, `<presence to='alice@a.test' type='subscribe'/>`)
	alice.Expect(t, wait, "bob's subscription request", isPresence("bob@b.test", "subscribe"))
	alice.Send(t, `<presence to='bob@b.test' type='subscribed'/>`)
	bob.Expect(t, wait, "alice's approval", isPresence("alice@a.test", "subscribed"))
	bob.Expect(t, wait, "alice's presence after approval", isPresence(alice.JID.String(), ""))

	alice.Send(t, `<presence><status>busy</status></presence>`)
	bob.Expect(t, wait, "alice's new status", func(s xmpptest.Stanza) bool {
		return isPresence(alice.JID.String(), "")(s) && strings.Contains(s.Inner, "busy")
	})
	// A second session of bob probes alice (RFC 6121 §4.3) across servers.
	bob2 := online(t, p.b, "bob@b.test")
	bob2.Expect(t, wait, "alice's presence answering the probe", isPresence(alice.JID.String(), ""))
	bob.Close()
	alice.Expect(t, wait, "bob's first session going away", isPresence(bob.JID.String(), "unavailable"))
}
