package httpd_test

import (
	"strings"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/xmpptest"
)

// attr returns the value of name='…' (or "…") in the XML text s.
func attr(s, name string) string {
	for _, q := range []string{"'", `"`} {
		if i := strings.Index(s, " "+name+"="+q); i >= 0 {
			rest := s[i+len(name)+3:]
			return rest[:strings.Index(rest, q)]
		}
	}
	return ""
}

// TestWebSocketSMResume: a WebSocket session with stream management
// (XEP-0198) whose connection vanishes hibernates; a new WebSocket
// connection resumes it and gets what it had not acknowledged, then new
// messages.
func TestWebSocketSMResume(t *testing.T) {
	srv := xmpptest.Start(t)
	srv.AddUser(t, "alice@localhost", "pw-alice")
	srv.AddUser(t, "bob@localhost", "pw-bob")
	bob := srv.Dial(t, "bob@localhost", "pw-bob", xmpptest.DialOptions{})
	url := "ws://" + srv.Addr("http") + "/xmpp-websocket"

	w := dialRaw(t, url, nil)
	alice := loginRaw(w)
	w.send("<enable xmlns='urn:xmpp:sm:3' resume='true'/>")
	enabled := w.until("urn:xmpp:sm:3")
	id := attr(enabled, "id")
	if !strings.Contains(enabled, "<enabled") || id == "" {
		t.Fatalf("enable answered %q", enabled)
	}
	bob.Send(t, `<message to='`+alice+`' type='chat'><body>unacked one</body></message>`)
	w.until("unacked one")
	w.c.CloseNow() // the connection vanishes: no <close/>, no close frame, no ack

	w2 := dialRaw(t, url, nil)
	w2.send(openLocalhost)
	w2.until("mechanisms")
	w2.send(plainAuth("alice", "pw-alice"))
	w2.until("<success")
	w2.send(openLocalhost)
	w2.until("urn:xmpp:sm:3")
	w2.send("<resume xmlns='urn:xmpp:sm:3' previd='" + id + "' h='0'/>")
	if m := w2.until("urn:xmpp:sm:3"); !strings.Contains(m, "<resumed") {
		t.Fatalf("resume answered %q", m)
	}
	w2.until("unacked one")
	bob.Send(t, `<message to='`+alice+`' type='chat'><body>after the resume</body></message>`)
	w2.until("after the resume")
}

// TestBOSHSMResume: a BOSH session with stream management that goes
// silent past 'inactivity' hibernates instead of ending; a new BOSH
// session resumes it and gets the message that arrived meanwhile.
func TestBOSHSMResume(t *testing.T) {
	srv := xmpptest.Start(t, func(c *config.Config) { c.HTTP.BOSH.Inactivity = config.Duration(time.Second) })
	srv.AddUser(t, "alice@localhost", "pw-alice")
	srv.AddUser(t, "bob@localhost", "pw-bob")
	bob := srv.Dial(t, "bob@localhost", "pw-bob", xmpptest.DialOptions{})
	a := newBOSHClient(t, boshURL(srv), srv.TLSConfig(t, "localhost"))
	a.login("alice", "pw-alice")
	enabled := a.expect(a.send("<enable xmlns='urn:xmpp:sm:3' resume='true'/>"), "urn:xmpp:sm:3")
	id := attr(enabled.inner, "id")
	if !strings.Contains(enabled.inner, "<enabled") || id == "" {
		t.Fatalf("enable answered %s", enabled.raw)
	}
	oldSID := a.sid
	// No more requests: past 'inactivity' the session hibernates, its sid
	// is gone and its resource stays bound.
	xmpptest.Eventually(t, wait, "the BOSH session to end", func() bool {
		r, err := a.tryPost(a.body(a.rid+1, "", ""))
		return err == nil && r.attrs["condition"] == "item-not-found"
	})
	if n := len(srv.Router().Sessions(mustBare("alice@localhost"))); n != 1 {
		t.Fatalf("hibernated session not in the router (%d sessions)", n)
	}
	bob.Send(t, `<message to='alice@localhost/web' type='chat'><body>while away</body></message>`)

	b := newBOSHClient(t, boshURL(srv), srv.TLSConfig(t, "localhost"))
	cr := b.create("localhost", 1, 1, "")
	if b.sid == oldSID {
		t.Fatal("same sid")
	}
	creds := plainAuth("alice", "pw-alice")
	b.expect(cr, "mechanisms")
	b.expect(b.send(creds), "<success")
	b.expect(b.post(b.body(b.nextRid(), " xmpp:restart='true' to='localhost'", "")), "urn:xmpp:sm:3")
	r := b.expect(b.send("<resume xmlns='urn:xmpp:sm:3' previd='"+id+"' h='0'/>"), "urn:xmpp:sm:3")
	if !strings.Contains(r.inner, "<resumed") {
		t.Fatalf("resume answered %s", r.raw)
	}
	b.expect(r, "while away")
}

func mustBare(s string) jid.JID { return jid.MustParse(s) }
