package csi_test

import (
	"strings"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/xmpptest"
)

const wait = 5 * time.Second

const (
	inactive  = `<inactive xmlns='urn:xmpp:csi:0'/>`
	active    = `<active xmlns='urn:xmpp:csi:0'/>`
	composing = `<composing xmlns='http://jabber.org/protocol/chatstates'/>`
)

// settle returns once everything the server queued for c so far is in
// c.In, and everything c sent before was handled. The iq fails in the
// router and its error comes straight back from c2s, so unlike a ping
// result it passes no delivery filter and does not wake an inactive
// session.
func settle(t *testing.T, cs ...*xmpptest.Client) {
	t.Helper()
	for _, c := range cs {
		res := c.IQ(t, `<iq type='get' id='settle' to='localhost'><settle xmlns='urn:example:settle'/></iq>`)
		if res.Attr("type") != "error" {
			t.Fatalf("settle %s: %+v", c.JID, res)
		}
	}
}

// tags names what arrived, in order, for the stanzas from sender: "p:STATUS"
// for a presence, "cs" for a chat state, "m:BODY" for a message with a body.
func tags(sts []xmpptest.Stanza, sender string) []string {
	var out []string
	for _, st := range sts {
		if st.Attr("from") != sender {
			continue
		}
		switch {
		case st.XMLName.Local == "presence":
			out = append(out, "p:"+text(st.Inner, "status"))
		case st.XMLName.Local == "message" && strings.Contains(st.Inner, "<body"):
			out = append(out, "m:"+text(st.Inner, "body"))
		case st.XMLName.Local == "message" && strings.Contains(st.Inner, "chatstates"):
			out = append(out, "cs")
		}
	}
	return out
}

// text returns the text of the first element named name in s (the test
// client re-encodes stanzas, adding namespace declarations).
func text(s, name string) string {
	_, rest, _ := strings.Cut(s, "<"+name)
	_, rest, _ = strings.Cut(rest, ">")
	v, _, _ := strings.Cut(rest, "</"+name+">")
	return v
}

func presence(to, status string) string {
	return "<presence to='" + to + "'><status>" + status + "</status></presence>"
}

type pair struct{ alice, bob *xmpptest.Client }

func setup(t *testing.T) pair {
	srv := xmpptest.Start(t)
	srv.AddUser(t, "alice@localhost", "pw")
	srv.AddUser(t, "bob@localhost", "pw")
	p := pair{srv.Dial(t, "alice@localhost", "pw", xmpptest.DialOptions{}), srv.Dial(t, "bob@localhost", "pw", xmpptest.DialOptions{})}
	p.bob.Send(t, `<presence/>`)
	p.bob.Send(t, inactive)
	settle(t, p.alice, p.bob)
	p.bob.Drain()
	return p
}

func TestStreamFeature(t *testing.T) {
	srv := xmpptest.Start(t)
	srv.AddUser(t, "alice@localhost", "pw")
	r := srv.Raw(t)
	r.Open("localhost")
	if f := r.StartTLS(srv.TLSConfig(t, "localhost"), "localhost"); strings.Contains(f, `<csi xmlns="urn:xmpp:csi:0"/>`) {
		t.Fatalf("csi offered before authentication: %s", f)
	}
	r.Plain("", "alice", "pw")
	if f := r.Open("localhost"); !strings.Contains(f, `<csi xmlns="urn:xmpp:csi:0"/>`) {
		t.Fatalf("csi not offered after authentication: %s", f)
	}
}

// TestInactiveHoldsThenActiveFlushes: presence and chat states wait while
// bob is inactive (only alice's latest presence is kept) and arrive in
// order when he is active again.
func TestInactiveHoldsThenActiveFlushes(t *testing.T) {
	p := setup(t)
	to := p.bob.JID.String()
	p.alice.Send(t, presence(to, "one"))
	p.alice.Send(t, `<message to='`+to+`' type='chat'>`+composing+`</message>`)
	p.alice.Send(t, presence(to, "two"))
	p.alice.Send(t, `<message to='`+to+`' type='chat'><paused xmlns='http://jabber.org/protocol/chatstates'/><thread>t1</thread></message>`)
	settle(t, p.alice, p.bob)
	if got := tags(p.bob.Drain(), p.alice.JID.String()); len(got) != 0 {
		t.Fatalf("inactive bob got %v", got)
	}
	p.bob.Send(t, active)
	settle(t, p.bob)
	got := tags(p.bob.Drain(), p.alice.JID.String())
	if want := []string{"cs", "p:two", "cs"}; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("after active bob got %v, want %v", got, want)
	}
	// Active again: nothing is held.
	p.alice.Send(t, presence(to, "three"))
	p.bob.Expect(t, wait, "presence while active", func(s xmpptest.Stanza) bool { return strings.Contains(s.Inner, "three") })
}

// TestUrgentFlushesFirst: a message with a body reaches an inactive
// session at once, right after what was held for it, and holding goes on.
func TestUrgentFlushesFirst(t *testing.T) {
	p := setup(t)
	to := p.bob.JID.String()
	for round, body := range []string{"hello", "second"} {
		p.alice.Send(t, presence(to, "away"))
		p.alice.Send(t, `<message to='`+to+`' type='chat'>`+composing+`</message>`)
		settle(t, p.alice, p.bob)
		if got := tags(p.bob.Drain(), p.alice.JID.String()); len(got) != 0 {
			t.Fatalf("round %d: inactive bob got %v", round, got)
		}
		p.alice.Send(t, `<message to='`+to+`' type='chat'><body>`+body+`</body></message>`)
		settle(t, p.alice, p.bob)
		if got, want := tags(p.bob.Drain(), p.alice.JID.String()), "p:away,cs,m:"+body; strings.Join(got, ",") != want {
			t.Fatalf("round %d: bob got %v, want %s", round, got, want)
		}
	}
}

// TestUrgentKinds: what is never held back.
func TestUrgentKinds(t *testing.T) {
	p := setup(t)
	to := p.bob.JID.String()
	cases := []struct{ name, id, send string }{
		{"subscription request", "sub1", `<presence to='bob@localhost' type='subscribe' id='sub1'/>`},
		{"headline with body", "h1", `<message to='` + to + `' type='headline' id='h1'><body>news</body></message>`},
		{"chat state with unknown payload", "x1", `<message to='` + to + `' type='chat' id='x1'>` + composing + `<x xmlns='urn:example:payload'/></message>`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p.alice.Send(t, tc.send)
			settle(t, p.alice, p.bob)
			for _, st := range p.bob.Drain() {
				if st.Attr("id") == tc.id {
					return
				}
			}
			t.Fatalf("%s held back", tc.name)
		})
	}
}

// TestCarbonsOfChatStatesHeld: carbon copies are classified by the message
// they carry.
func TestCarbonsOfChatStatesHeld(t *testing.T) {
	srv := xmpptest.Start(t)
	srv.AddUser(t, "alice@localhost", "pw")
	srv.AddUser(t, "bob@localhost", "pw")
	a1 := srv.Dial(t, "alice@localhost", "pw", xmpptest.DialOptions{})
	a2 := srv.Dial(t, "alice@localhost", "pw", xmpptest.DialOptions{})
	bob := srv.Dial(t, "bob@localhost", "pw", xmpptest.DialOptions{})
	if res := a2.IQ(t, `<iq type='set' id='cb'><enable xmlns='urn:xmpp:carbons:2'/></iq>`); res.Attr("type") != "result" {
		t.Fatalf("enable carbons: %s", res.Inner)
	}
	a2.Send(t, inactive)
	settle(t, a2)
	bob.Send(t, `<message to='`+a1.JID.String()+`' type='chat' id='st'>`+composing+`</message>`)
	settle(t, bob, a2)
	for _, st := range a2.Drain() {
		if strings.Contains(st.Inner, `id="st"`) {
			t.Fatalf("carbon of a chat state reached inactive a2: %s", st.Inner)
		}
	}
	bob.Send(t, `<message to='`+a1.JID.String()+`' type='chat' id='bd'><body>carbon body</body></message>`)
	settle(t, bob, a2)
	var ids []string
	for _, st := range a2.Drain() {
		for _, id := range []string{"st", "bd"} {
			if strings.Contains(st.Inner, `id="`+id+`"`) {
				ids = append(ids, id)
			}
		}
	}
	if strings.Join(ids, ",") != "st,bd" {
		t.Fatalf("inactive a2 got carbons %v, want st,bd", ids)
	}
}

// TestUnknownCSIElement: only <active/> and <inactive/> exist.
func TestUnknownCSIElement(t *testing.T) {
	srv := xmpptest.Start(t)
	srv.AddUser(t, "alice@localhost", "pw")
	r := srv.Raw(t)
	r.Login(srv.TLSConfig(t, "localhost"), "alice", "localhost", "pw", "r")
	r.Write(inactive + active + `<sleepy xmlns='urn:xmpp:csi:0'/>`)
	out, closed := r.ReadToEOF(wait)
	if !closed || !strings.Contains(out, "unsupported-stanza-type") {
		t.Fatalf("closed=%v %q", closed, out)
	}
}
