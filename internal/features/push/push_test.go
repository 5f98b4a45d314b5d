package push_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/xmpptest"
)

const wait = 10 * time.Second

// appServer serves push.localhost as an XEP-0114 component: the test's
// app server (XEP-0357 §2), written in raw XML.
func appServer(c *config.Config) {
	c.Components.Addr = "127.0.0.1:0"
	c.Components.Secrets = map[string]string{"push.localhost": "app secret"}
}

// TestNotifications: alice enables push with the app server and a
// publish-options secret; while she has no session, a message with a body
// makes the server publish a notification (summary form, no body, the
// secret); while she is online, and after she disabled push, none.
func TestNotifications(t *testing.T) {
	s := xmpptest.Start(t, appServer)
	s.AddUser(t, "alice@localhost", "pw")
	s.AddUser(t, "bob@localhost", "pw")
	app, got := s.Component(t, "push.localhost", "app secret")
	if !strings.Contains(got, "<handshake/>") {
		t.Fatalf("app server refused: %s", got)
	}
	bob := s.Dial(t, "bob@localhost", "pw", xmpptest.DialOptions{})

	alice := s.Dial(t, "alice@localhost", "pw", xmpptest.DialOptions{})
	alice.EnablePush(t, "push.localhost", "device-1", "s3cr3t")
	alice.Send(t, `<presence/>`)
	bob.Send(t, `<message to='alice@localhost' type='chat'><body>while online</body></message>`)
	alice.Expect(t, wait, "the message while online", func(st xmpptest.Stanza) bool { return strings.Contains(st.Inner, "while online") })
	s.Logout(t, alice, wait)

	bob.Send(t, `<message to='alice@localhost' type='chat'><body>secret plans</body></message>`)
	n := app.ReadUntil("</iq>", wait)
	for _, want := range []string{
		`type="set"`, `from="alice@localhost"`, `to="push.localhost"`, `<publish node="device-1">`,
		`<notification xmlns="urn:xmpp:push:0">`, `<value>urn:xmpp:push:summary</value>`,
		`var="message-count"><value>1</value>`, `var="last-message-sender"><value>bob@localhost/`,
		`<publish-options>`, `<value>s3cr3t</value>`,
	} {
		if !strings.Contains(n, want) {
			t.Errorf("notification lacks %s:\n%s", want, n)
		}
	}
	if strings.Contains(n, "while online") || strings.Contains(n, "secret plans") {
		t.Errorf("a notification carries a body:\n%s", n)
	}
	bob.Send(t, `<message to='alice@localhost' type='chat'><body>second</body></message>`)
	if n := app.ReadUntil("</iq>", wait); !strings.Contains(n, `var="message-count"><value>2</value>`) {
		t.Errorf("second notification: %s", n)
	}

	alice = s.Dial(t, "alice@localhost", "pw", xmpptest.DialOptions{})
	if res := alice.IQ(t, `<iq type='set' id='d1'><disable xmlns='urn:xmpp:push:0' jid='push.localhost'/></iq>`); res.Attr("type") != "result" {
		t.Fatalf("disable: %s", res.Inner)
	}
	s.Logout(t, alice, wait)
	bob.Send(t, `<message to='alice@localhost' type='chat'><body>after disable</body></message>`)
	if out, _ := app.ReadToEOF(500 * time.Millisecond); strings.Contains(out, "<iq") {
		t.Fatalf("a notification after disable: %s", out)
	}
}

// TestEnableErrors: enable without a node, and for another account, are
// refused.
func TestEnableErrors(t *testing.T) {
	s := xmpptest.Start(t)
	s.AddUser(t, "alice@localhost", "pw")
	s.AddUser(t, "bob@localhost", "pw")
	alice := s.Dial(t, "alice@localhost", "pw", xmpptest.DialOptions{})
	for _, tc := range []struct{ iq, cond string }{
		{`<iq type='set' id='x1'><enable xmlns='urn:xmpp:push:0' jid='push.localhost'/></iq>`, "bad-request"},
		{`<iq type='set' id='x2'><enable xmlns='urn:xmpp:push:0' node='n'/></iq>`, "bad-request"},
		{`<iq type='set' id='x3' to='bob@localhost'><enable xmlns='urn:xmpp:push:0' jid='push.localhost' node='n'/></iq>`, "forbidden"},
		{`<iq type='set' id='x4'><disable xmlns='urn:xmpp:push:0'/></iq>`, "bad-request"},
	} {
		if res := alice.IQ(t, tc.iq); res.Attr("type") != "error" || !strings.Contains(res.Inner, tc.cond) {
			t.Errorf("%s: %s", tc.iq, res.Inner)
		}
	}
}

var iqID = regexp.MustCompile(`<iq[^>]* id="([^"]+)"`)

// TestAppServerErrorDisables: a temporary error (wait) from the app
// server keeps the registration; a permanent one (item-not-found: the
// node is gone) disables it, so later messages are not notified.
func TestAppServerErrorDisables(t *testing.T) {
	s := xmpptest.Start(t, appServer)
	s.AddUser(t, "alice@localhost", "pw")
	s.AddUser(t, "bob@localhost", "pw")
	app, _ := s.Component(t, "push.localhost", "app secret")
	alice := s.Dial(t, "alice@localhost", "pw", xmpptest.DialOptions{})
	if res := alice.IQ(t, `<iq type='set' id='e1'><enable xmlns='urn:xmpp:push:0' jid='push.localhost' node='gone-soon'/></iq>`); res.Attr("type") != "result" {
		t.Fatalf("enable: %s", res.Inner)
	}
	s.Logout(t, alice, wait)
	bob := s.Dial(t, "bob@localhost", "pw", xmpptest.DialOptions{})
	answer := func(cond, typ string) {
		n := app.ReadUntil("</iq>", wait)
		m := iqID.FindStringSubmatch(n)
		if m == nil {
			t.Fatalf("no id in %s", n)
		}
		app.Write("<iq type='error' id='" + m[1] + "' from='push.localhost' to='alice@localhost'><error type='" + typ + "'><" + cond +
			" xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>")
	}
	bob.Send(t, `<message to='alice@localhost' type='chat'><body>one</body></message>`)
	answer("resource-constraint", "wait")
	bob.Send(t, `<message to='alice@localhost' type='chat'><body>two</body></message>`)
	answer("item-not-found", "cancel")
	xmpptest.Eventually(t, wait, "the registration to be disabled", func() bool {
		bob.Send(t, `<message to='alice@localhost' type='chat'><body>probe</body></message>`)
		out, _ := app.ReadToEOF(200 * time.Millisecond)
		return !strings.Contains(out, "<iq")
	})
}

// TestHibernatedSession: alice's phone enables stream management with
// resumption and push, then loses its connection; while the session is
// hibernated (XEP-0198), messages for it are notified; once resumed, they
// are not.
func TestHibernatedSession(t *testing.T) {
	s := xmpptest.Start(t, appServer)
	s.AddUser(t, "alice@localhost", "pw")
	s.AddUser(t, "bob@localhost", "pw")
	app, _ := s.Component(t, "push.localhost", "app secret")
	phone := s.SMLogin(t, "alice", "localhost", "pw", "phone")
	if st := phone.Enable(true, 300); st.XMLName.Local != "enabled" {
		t.Fatalf("enable stream management: %s", st.Inner)
	}
	phone.Send(`<iq type='set' id='e1'><enable xmlns='urn:xmpp:push:0' jid='push.localhost' node='phone'/></iq>`)
	phone.Expect(wait, "push enabled", func(st xmpptest.Stanza) bool { return st.Attr("id") == "e1" && st.Attr("type") == "result" })
	phone.Send(`<presence/>`)
	bob := s.Dial(t, "bob@localhost", "pw", xmpptest.DialOptions{})
	h := phone.H()
	phone.Kill()

	// Until the server has seen the connection drop, a message may still
	// be written to the dead socket; keep sending until one is kept for
	// the hibernated session and notified.
	var n string
	xmpptest.Eventually(t, wait, "a notification for the hibernated session", func() bool {
		bob.Send(t, `<message to='alice@localhost/phone' type='chat'><body>are you there?</body></message>`)
		out, _ := app.ReadToEOF(200 * time.Millisecond)
		n = out
		return strings.Contains(out, `<publish node="phone">`)
	})
	if !strings.Contains(n, `var="last-message-sender"><value>bob@localhost/`) || strings.Contains(n, "are you there") {
		t.Fatalf("notification: %s", n)
	}

	back := s.SMLogin(t, "alice", "localhost", "pw", "-")
	if st := back.Resume(phone.ID, h); st.XMLName.Local != "resumed" {
		t.Fatalf("resume: %s", st.Inner)
	}
	back.Expect(wait, "the kept message", func(st xmpptest.Stanza) bool { return strings.Contains(st.Inner, "are you there?") })
	bob.Send(t, `<message to='alice@localhost/phone' type='chat'><body>welcome back</body></message>`)
	back.Expect(wait, "the message after resuming", func(st xmpptest.Stanza) bool { return strings.Contains(st.Inner, "welcome back") })
	if out, _ := app.ReadToEOF(300 * time.Millisecond); strings.Contains(out, "<iq") {
		t.Fatalf("a notification for a resumed session: %s", out)
	}
}
