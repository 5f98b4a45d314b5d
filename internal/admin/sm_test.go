package admin_test

import (
	"strings"
	"testing"

	"github.com/parleyim/parley/internal/xmpptest"
)

// TestSessionsShowSM: the sessions page and API show a session's stream
// management state (XEP-0198): off, resumable once enabled with resume,
// hibernated after its connection dropped.
func TestSessionsShowSM(t *testing.T) {
	e := start(t)
	b := e.loggedIn(t)
	_, tok := e.token(t, "sm")
	e.srv.AddUser(t, "sam@localhost", "pw")
	c := e.srv.SMLogin(t, "sam", "localhost", "pw", "phone")
	row := func() string {
		for _, l := range strings.Split(b.get("/sessions").body, "<tr>") {
			if strings.Contains(l, "sam@localhost/phone") {
				return l
			}
		}
		return ""
	}
	poll(t, "sam listed with SM off", func() string {
		if r := row(); !strings.Contains(r, "<td>off</td>") {
			return r
		}
		return ""
	})
	c.Enable(true, 60)
	poll(t, "resumable", func() string {
		if r := row(); !strings.Contains(r, "<td>resumable</td>") {
			return r
		}
		return ""
	})
	c.Kill()
	poll(t, "hibernated", func() string {
		if r := e.api(t, tok, "GET", "/api/v1/sessions", nil); !strings.Contains(r.body, `"sm":"hibernated"`) {
			return r.body
		}
		return ""
	})
}

// TestSessionsShowWebSocket: a session over WebSocket (RFC 7395) is
// listed with its transport and counted per transport in the stats.
func TestSessionsShowWebSocket(t *testing.T) {
	e := start(t)
	_, tok := e.token(t, "ws")
	e.srv.AddUser(t, "wendy@localhost", "pw")
	c, err := xmpptest.DialWebSocket(t, "wss://"+e.srv.Addr("http-tls")+"/xmpp-websocket", e.srv.TLSConfig(t, "localhost"), "wendy@localhost", "pw")
	if err != nil {
		t.Fatal(err)
	}
	poll(t, "websocket session listed", func() string {
		r := e.api(t, tok, "GET", "/api/v1/sessions", nil)
		if !strings.Contains(r.body, `"jid":"`+c.JID.String()+`"`) || !strings.Contains(r.body, `"transport":"websocket"`) {
			return r.body
		}
		return ""
	})
	e.api(t, tok, "GET", "/api/v1/stats", nil).want(t, "stats", 200, `"sessions_by_transport":{"websocket":1}`)
}
