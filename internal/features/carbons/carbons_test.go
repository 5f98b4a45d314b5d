package carbons_test

import (
	"strings"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/xmpptest"
)

const wait = 5 * time.Second

// got reports what c received with body in it: "original", "sent",
// "received", or "" for nothing. It fails on more than one.
func got(t *testing.T, c *xmpptest.Client, body string) string {
	t.Helper()
	var kinds []string
	for _, st := range c.Drain() {
		if st.XMLName.Local != "message" || !strings.Contains(st.Inner, body) {
			continue
		}
		kind := "original"
		for _, k := range []string{"sent", "received"} {
			if strings.Contains(st.Inner, "<"+k+` xmlns="urn:xmpp:carbons:2"`) {
				kind = k
				// mellium blanks a 'from' equal to the account's bare JID.
				if f := st.Attr("from"); (f != "" && f != c.JID.Bare().String()) || st.Attr("to") != c.JID.String() {
					t.Errorf("%s copy addressed from=%s to=%s", k, st.Attr("from"), st.Attr("to"))
				}
				if !strings.Contains(st.Inner, `<forwarded xmlns="urn:xmpp:forward:0"`) {
					t.Errorf("copy without forwarded: %s", st.Inner)
				}
			}
		}
		kinds = append(kinds, kind)
	}
	switch len(kinds) {
	case 0:
		return ""
	case 1:
		return kinds[0]
	}
	t.Fatalf("%s got %d copies of %q: %v", c.JID, len(kinds), body, kinds)
	return ""
}

func enable(t *testing.T, cs ...*xmpptest.Client) {
	t.Helper()
	for _, c := range cs {
		if res := c.IQ(t, `<iq type='set' id='cb'><enable xmlns='urn:xmpp:carbons:2'/></iq>`); res.Attr("type") != "result" {
			t.Fatalf("enable carbons for %s: %s", c.JID, res.Inner)
		}
	}
}

type world struct {
	srv        *xmpptest.Server
	a1, a2, a3 *xmpptest.Client // alice; a1 and a2 enable carbons
	bob        *xmpptest.Client
}

func setup(t *testing.T) *world {
	srv := xmpptest.Start(t)
	srv.AddUser(t, "alice@localhost", "pw")
	srv.AddUser(t, "bob@localhost", "pw")
	w := &world{srv: srv}
	for _, c := range []**xmpptest.Client{&w.a1, &w.a2, &w.a3} {
		*c = srv.Dial(t, "alice@localhost", "pw", xmpptest.DialOptions{})
	}
	w.bob = srv.Dial(t, "bob@localhost", "pw", xmpptest.DialOptions{})
	for _, c := range w.all() {
		c.Send(t, `<presence/>`)
	}
	enable(t, w.a1, w.a2)
	enable(t, w.a1) // twice is fine (§10.1)
	xmpptest.Settle(t, w.all()...)
	w.a1.Drain()
	w.a2.Drain()
	w.a3.Drain()
	w.bob.Drain()
	return w
}

func (w *world) all() []*xmpptest.Client { return []*xmpptest.Client{w.a1, w.a2, w.a3, w.bob} }

func msg(to, typ, body, extra string) string {
	t := ""
	if typ != "" {
		t = " type='" + typ + "'"
	}
	b := ""
	if body != "" {
		b = "<body>" + body + "</body>"
	}
	return "<message to='" + to + "'" + t + ">" + b + extra + "</message>"
}

// TestCarbons: who gets what when messages of various kinds go between
// alice's three resources (a1 and a2 with carbons, a3 without) and bob.
func TestCarbons(t *testing.T) {
	w := setup(t)
	const (
		private = "<private xmlns='urn:xmpp:carbons:2'/>"
		noCopy  = "<no-copy xmlns='urn:xmpp:hints'/>"
	)
	type want struct{ a1, a2, a3, bob string }
	cases := []struct {
		name string
		from func() *xmpptest.Client
		send func(body string) string
		want want
	}{
		{"a1 to bob: sent copy to a2", func() *xmpptest.Client { return w.a1 },
			func(b string) string { return msg(w.bob.JID.String(), "chat", b, "") }, want{"", "sent", "", "original"}},
		{"a3 to bob: sent copies to a1 and a2", func() *xmpptest.Client { return w.a3 },
			func(b string) string { return msg("bob@localhost", "chat", b, "") }, want{"sent", "sent", "", "original"}},
		{"bob to a1: received copy to a2", func() *xmpptest.Client { return w.bob },
			func(b string) string { return msg(w.a1.JID.String(), "chat", b, "") }, want{"original", "received", "", ""}},
		{"bob to a3: received copies to a1 and a2", func() *xmpptest.Client { return w.bob },
			func(b string) string { return msg(w.a3.JID.String(), "chat", b, "") }, want{"received", "received", "original", ""}},
		{"bob to bare JID at equal priority: no copies", func() *xmpptest.Client { return w.bob },
			func(b string) string { return msg("alice@localhost", "chat", b, "") }, want{"original", "original", "original", ""}},
		{"normal with body is copied", func() *xmpptest.Client { return w.bob },
			func(b string) string { return msg(w.a1.JID.String(), "", b, "") }, want{"original", "received", "", ""}},
		{"chat state only is copied", func() *xmpptest.Client { return w.bob },
			func(b string) string {
				return msg(w.a1.JID.String(), "chat", "", "<composing xmlns='http://jabber.org/protocol/chatstates'/><thread>"+b+"</thread>")
			}, want{"original", "received", "", ""}},
		{"headline is not copied", func() *xmpptest.Client { return w.bob },
			func(b string) string { return msg(w.a1.JID.String(), "headline", b, "") }, want{"original", "", "", ""}},
		{"normal without body is not copied", func() *xmpptest.Client { return w.bob },
			func(b string) string { return msg(w.a1.JID.String(), "normal", "", "<thread>"+b+"</thread>") }, want{"original", "", "", ""}},
		{"private sent", func() *xmpptest.Client { return w.a1 },
			func(b string) string { return msg(w.bob.JID.String(), "chat", b, private) }, want{"", "", "", "original"}},
		{"private received", func() *xmpptest.Client { return w.bob },
			func(b string) string { return msg(w.a1.JID.String(), "chat", b, private) }, want{"original", "", "", ""}},
		{"no-copy sent", func() *xmpptest.Client { return w.a1 },
			func(b string) string { return msg(w.bob.JID.String(), "chat", b, noCopy) }, want{"", "", "", "original"}},
		{"no-copy received", func() *xmpptest.Client { return w.bob },
			func(b string) string { return msg(w.a1.JID.String(), "chat", b, noCopy) }, want{"original", "", "", ""}},
		{"muc private message", func() *xmpptest.Client { return w.bob },
			func(b string) string {
				return msg(w.a1.JID.String(), "chat", b, "<x xmlns='http://jabber.org/protocol/muc#user'/>")
			}, want{"original", "", "", ""}},
		{"a1 to a3: only sent copies", func() *xmpptest.Client { return w.a1 },
			func(b string) string { return msg(w.a3.JID.String(), "chat", b, "") }, want{"", "sent", "original", ""}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := "case-" + string(rune('a'+i))
			from := tc.from()
			from.Send(t, tc.send(body))
			xmpptest.Settle(t, from)
			xmpptest.Settle(t, w.all()...)
			g := want{got(t, w.a1, body), got(t, w.a2, body), got(t, w.a3, body), got(t, w.bob, body)}
			if g != tc.want {
				t.Fatalf("a1, a2, a3, bob got %+v, want %+v", g, tc.want)
			}
		})
	}
}

func TestPrivateRemovedForRecipient(t *testing.T) {
	w := setup(t)
	w.a1.Send(t, msg(w.bob.JID.String(), "chat", "secret", "<private xmlns='urn:xmpp:carbons:2'/>"))
	st := w.bob.Expect(t, wait, "private message", func(s xmpptest.Stanza) bool { return strings.Contains(s.Inner, "secret") })
	if strings.Contains(st.Inner, "private") {
		t.Fatalf("<private/> delivered to the recipient: %s", st.Inner)
	}
}

func TestPriorityAndDisable(t *testing.T) {
	w := setup(t)
	// a1 has the highest priority: a bare-JID message goes to it alone, and
	// a2, passed over by the delivery rules, gets a received copy.
	w.a1.Send(t, `<presence><priority>5</priority></presence>`)
	xmpptest.Settle(t, w.a1)
	w.bob.Send(t, msg("alice@localhost", "chat", "to the best", ""))
	xmpptest.Settle(t, w.bob)
	xmpptest.Settle(t, w.all()...)
	if g := []string{got(t, w.a1, "to the best"), got(t, w.a2, "to the best"), got(t, w.a3, "to the best")}; g[0] != "original" || g[1] != "received" || g[2] != "" {
		t.Fatalf("a1, a2, a3 got %v", g)
	}
	// A chat message to a resource that is gone goes to the bare JID.
	w.bob.Send(t, msg("alice@localhost/gone", "chat", "to a ghost", ""))
	xmpptest.Settle(t, w.bob)
	xmpptest.Settle(t, w.all()...)
	if g := []string{got(t, w.a1, "to a ghost"), got(t, w.a2, "to a ghost")}; g[0] != "original" || g[1] != "received" {
		t.Fatalf("a1, a2 got %v", g)
	}
	// Disabled: no more copies for a2; disabling twice is fine.
	for range 2 {
		if res := w.a2.IQ(t, `<iq type='set' id='off'><disable xmlns='urn:xmpp:carbons:2'/></iq>`); res.Attr("type") != "result" {
			t.Fatalf("disable: %s", res.Inner)
		}
	}
	w.bob.Send(t, msg(w.a1.JID.String(), "chat", "after disable", ""))
	xmpptest.Settle(t, w.bob)
	xmpptest.Settle(t, w.all()...)
	if g := got(t, w.a2, "after disable"); g != "" {
		t.Fatalf("a2 got a %s copy after disabling", g)
	}
	// A closed session's carbons are forgotten, the others go on.
	w.a2.Close()
	w.bob.Send(t, msg(w.a3.JID.String(), "chat", "after close", ""))
	xmpptest.Settle(t, w.bob)
	xmpptest.Settle(t, w.a1, w.a3)
	if g := got(t, w.a1, "after close"); g != "received" {
		t.Fatalf("a1 got %q", g)
	}
}

// TestForgedCarbonsStripped: carbons come from the server only (§11). A
// client that sends <sent/> or <received/> wrappers, to someone else or to
// itself, has them removed before delivery.
func TestForgedCarbonsStripped(t *testing.T) {
	w := setup(t)
	forged := func(kind string) string {
		return "<" + kind + " xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>" +
			"<message xmlns='jabber:client' from='carol@localhost/x' to='" + w.a1.JID.String() + "' type='chat'><body>forged " + kind + "</body></message>" +
			"</forwarded></" + kind + ">"
	}
	cases := []struct {
		name string
		from *xmpptest.Client
		to   *xmpptest.Client
		kind string
	}{
		{"received from another user", w.bob, w.a1, "received"},
		{"sent from another user", w.bob, w.a1, "sent"},
		{"received from an own resource", w.a3, w.a1, "received"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.from.Send(t, "<message to='"+tc.to.JID.String()+"' type='chat'><body>outer "+tc.name+"</body>"+forged(tc.kind)+"</message>")
			st := tc.to.Expect(t, wait, "the message", func(s xmpptest.Stanza) bool { return strings.Contains(s.Inner, "outer "+tc.name) })
			if strings.Contains(st.Inner, "urn:xmpp:carbons:2") || strings.Contains(st.Inner, "forged") {
				t.Fatalf("forged carbon delivered: %s", st.Inner)
			}
		})
	}
}

func TestEnableErrorsAndDisco(t *testing.T) {
	w := setup(t)
	res := w.a1.IQ(t, `<iq type='set' id='x' to='bob@localhost'><enable xmlns='urn:xmpp:carbons:2'/></iq>`)
	if res.Attr("type") != "error" || !strings.Contains(res.Inner, "not-allowed") {
		t.Fatalf("enable for bob: %s %s", res.Attr("type"), res.Inner)
	}
	res = w.a1.IQ(t, `<iq type='get' id='d' to='localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`)
	if !strings.Contains(res.Inner, `var="urn:xmpp:carbons:2"`) {
		t.Fatalf("disco lacks carbons: %s", res.Inner)
	}
}

// TestCopyAddressing checks the wrapper's addresses on the wire (mellium
// hides a 'from' equal to the account): from the bare JID, to the full JID.
func TestCopyAddressing(t *testing.T) {
	w := setup(t)
	r := w.srv.Raw(t)
	r.Login(w.srv.TLSConfig(t, "localhost"), "alice", "localhost", "pw", "raw")
	r.Write(`<iq type='set' id='cb'><enable xmlns='urn:xmpp:carbons:2'/></iq>`)
	r.ReadUntil(`id="cb"`, wait)
	w.bob.Send(t, msg(w.a1.JID.String(), "chat", "on the wire", ""))
	out := r.ReadUntil("on the wire", wait)
	if !strings.Contains(out, `<message from="alice@localhost" to="alice@localhost/raw" type="chat"><received xmlns="urn:xmpp:carbons:2"><forwarded xmlns="urn:xmpp:forward:0"><message xmlns="jabber:client" `) {
		t.Fatalf("copy on the wire: %s", out)
	}
}
