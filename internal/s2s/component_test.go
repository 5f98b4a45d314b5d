package s2s_test

import (
	"strings"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/xmpptest"
)

const compSecret = "component secret"

// withComponent serves bot.a.test as an external component.
func withComponent(c *config.Config) {
	c.Components.Addr = "127.0.0.1:0"
	c.Components.Secrets = map[string]string{"bot.a.test": compSecret}
}

// connectComponent connects a raw XEP-0114 component (xmpptest.Component).
func connectComponent(t *testing.T, s *xmpptest.Server, domain, secret string) (*xmpptest.Raw, string) {
	t.Helper()
	return s.Component(t, domain, secret)
}

// TestComponent: a component connects with the shared secret, receives a
// local user's and a remote user's messages and answers them; iqs to it
// are its to answer.
func TestComponent(t *testing.T) {
	p := startPair(t, func(c *config.Config) {
		if c.Domains[0] == "a.test" {
			withComponent(c) // only a.test serves the component
		}
		c.S2S.Routes["bot.a.test"] = c.S2S.Routes["a.test"]
	})
	alice := online(t, p.a, "alice@a.test")
	bob := online(t, p.b, "bob@b.test")

	alice.Send(t, `<message to='echo@bot.a.test' type='chat' id='early'><body>anyone?</body></message>`)
	alice.Expect(t, wait, "service-unavailable while no component is connected", isErrorFrom("echo@bot.a.test", "service-unavailable"))

	comp, got := connectComponent(t, p.a, "bot.a.test", compSecret)
	if !strings.Contains(got, "<handshake/>") {
		t.Fatalf("handshake refused: %q", got)
	}
	alice.Send(t, `<message to='echo@bot.a.test' type='chat'><body>ping from alice</body></message>`)
	in := comp.ReadUntil("ping from alice", wait)
	if !strings.Contains(in, `from="`+alice.JID.String()+`"`) || !strings.Contains(in, `to="echo@bot.a.test"`) {
		t.Fatalf("the component got %q", in)
	}
	comp.Write("<message from='echo@bot.a.test' to='" + alice.JID.String() + "' type='chat'><body>pong to alice</body></message>")
	alice.Expect(t, wait, "the component's answer", isMessage("echo@bot.a.test", "pong to alice"))

	bob.Send(t, `<message to='echo@bot.a.test' type='chat'><body>ping from bob</body></message>`)
	in = comp.ReadUntil("ping from bob", wait)
	if !strings.Contains(in, `from="`+bob.JID.String()+`"`) {
		t.Fatalf("the component got %q", in)
	}
	comp.Write("<message from='echo@bot.a.test' to='" + bob.JID.String() + "' type='chat'><body>pong to bob</body></message>")
	bob.Expect(t, wait, "the component's answer across servers", isMessage("echo@bot.a.test", "pong to bob"))

	alice.Send(t, `<iq type='get' id='c1' to='bot.a.test'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`)
	comp.ReadUntil("disco#info", wait)
	comp.Write("<iq type='result' id='c1' from='bot.a.test' to='" + alice.JID.String() + "'><query xmlns='http://jabber.org/protocol/disco#info'><identity category='gateway' type='irc' name='Bot'/></query></iq>")
	alice.Expect(t, wait, "the component's disco answer", func(s xmpptest.Stanza) bool {
		return s.XMLName.Local == "iq" && s.Attr("id") == "c1" && strings.Contains(s.Inner, "gateway")
	})

	second, got := connectComponent(t, p.a, "bot.a.test", compSecret)
	if !strings.Contains(got, "<conflict") {
		t.Fatalf("a second connection for the same domain got %q", got)
	}
	_ = second

	comp.Write("<message from='someone@a.test' to='" + alice.JID.String() + "'><body>forged</body></message>")
	out, _ := comp.ReadToEOF(wait)
	if !strings.Contains(out, "invalid-from") {
		t.Fatalf("a forged from got %q", out)
	}
	alice.ExpectNone(t, 200*time.Millisecond, "the forged message", isMessage("someone@a.test", "forged"))
}

// TestComponentRefused: a wrong secret gets not-authorized, an unknown
// domain host-unknown.
func TestComponentRefused(t *testing.T) {
	s := xmpptest.Start(t, func(c *config.Config) { c.Domains = []string{"a.test"} }, withComponent)
	_, got := connectComponent(t, s, "bot.a.test", "wrong secret")
	if !strings.Contains(got, "<not-authorized") {
		t.Fatalf("a wrong secret got %q", got)
	}
	_, got = connectComponent(t, s, "other.a.test", compSecret)
	if !strings.Contains(got, "<host-unknown") {
		t.Fatalf("an unknown component domain got %q", got)
	}
}
