package admin_test

import (
	"crypto/tls"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/xmpptest"
)

// versionAnswer answers a XEP-0092 query as a client named name would.
func versionAnswer(name string, asked chan<- xmpptest.Stanza) func(xmpptest.Stanza) string {
	return func(s xmpptest.Stanza) string {
		if !strings.Contains(s.Inner, "jabber:iq:version") {
			return ""
		}
		asked <- s
		return `<iq type="result" id="` + s.Attr("id") + `" to="` + s.Attr("from") + `"><query xmlns="jabber:iq:version"><name>` + name +
			`</name><version>2.5</version><os>Plan 9</os></query></iq>`
	}
}

// TestClientSoftware: the server asks a client that becomes available for
// its software version (XEP-0092) once, and the sessions page, the user
// page and GET /api/v1/sessions show the answer; a client that does not
// answer (mellium's service-unavailable) stays "unknown"; a SASL2 client
// that named itself in <user-agent/> is shown by that and not asked.
func TestClientSoftware(t *testing.T) {
	e := start(t, func(c *config.Config) { c.Clients.AskVersion = true })
	e.srv.AddUser(t, "cleo@localhost", "pw")
	_, tok := e.token(t, "clients")
	b := e.loggedIn(t)

	asked := make(chan xmpptest.Stanza, 4)
	c := e.srv.Dial(t, "cleo@localhost", "pw", xmpptest.DialOptions{Answer: versionAnswer("Tester &amp; Co", asked)})
	c.Send(t, `<presence/>`)
	select {
	case q := <-asked:
		if q.Attr("from") != "localhost" || q.Attr("to") != c.JID.String() || q.Attr("type") != "get" {
			t.Errorf("query %+v", q)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the server did not ask the client for its version")
	}
	want := "Tester &amp; Co 2.5 (Plan 9)"
	poll(t, "client on the sessions page", func() string {
		if r := b.get("/sessions"); !strings.Contains(r.body, want) {
			return r.body
		}
		return ""
	})
	b.get("/user?jid=cleo@localhost").want(t, "user page", http.StatusOK, want)
	e.api(t, tok, "GET", "/api/v1/sessions", nil).want(t, "API sessions", http.StatusOK, `"client":"Tester \u0026 Co 2.5 (Plan 9)"`)
	// Presence again (not initial) does not ask again.
	c.Expect(t, 5*time.Second, "the first query on In", func(s xmpptest.Stanza) bool { return strings.Contains(s.Inner, "jabber:iq:version") })
	c.Send(t, `<presence><show>away</show></presence>`)
	c.ExpectNone(t, 300*time.Millisecond, "a second version query", func(s xmpptest.Stanza) bool {
		return strings.Contains(s.Inner, "jabber:iq:version")
	})

	// mellium without an answer: the error is taken by the server, and the
	// session keeps working and shows "unknown".
	mute := e.srv.Dial(t, "cleo@localhost", "pw", xmpptest.DialOptions{})
	mute.Send(t, `<presence/>`)
	mute.Expect(t, 10*time.Second, "the version query", func(s xmpptest.Stanza) bool { return strings.Contains(s.Inner, "jabber:iq:version") })
	if res := mute.IQ(t, `<iq type="get" id="p1" to="localhost"><ping xmlns="urn:xmpp:ping"/></iq>`); res.Attr("type") != "result" {
		t.Fatalf("ping after the refused query: %s", res.Inner)
	}
	if r := e.api(t, tok, "GET", "/api/v1/sessions", nil); !strings.Contains(r.body, `"jid":"`+mute.JID.String()+`"`) || strings.Count(r.body, `"client":""`) != 1 {
		t.Errorf("sessions %s", r.body)
	}

	// SASL2 with <user-agent/>: shown as software (device), never asked.
	raw, _ := e.srv.OpenTLS(t, "cleo@localhost", tls.VersionTLS13)
	res := raw.SASL2(xmpptest.SASL2Login{Mechanism: "SCRAM-SHA-256", User: "cleo", Password: "pw", Agent: "d5b3c1a0-agent",
		Software: "Conversations", Device: "Pixel <7>", Bind: true, Tag: "phone", Count: -1})
	if !res.Success {
		t.Fatalf("SASL2 login: %s", res.Raw)
	}
	raw.Write(`<presence/>`)
	poll(t, "SASL2 client on the sessions page", func() string {
		if r := b.get("/sessions"); !strings.Contains(r.body, "Conversations (Pixel &lt;7&gt;)") {
			return r.body
		}
		return ""
	})
	raw.Write(`<iq type="get" id="p2" to="localhost"><ping xmlns="urn:xmpp:ping"/></iq>`)
	if out := raw.ReadUntil(`id="p2"`, 10*time.Second); strings.Contains(out, "jabber:iq:version") {
		t.Errorf("a client that named itself in <user-agent/> was asked its version: %s", out)
	}
}
