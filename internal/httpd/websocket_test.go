package httpd_test

import (
	"strings"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/xmpptest"
)

// wait bounds every wait for something that should happen; generous, since
// CI runs all packages at once on two cores under the race detector.
const wait = 30 * time.Second

func isChat(body string) func(xmpptest.Stanza) bool {
	return func(s xmpptest.Stanza) bool {
		return s.XMLName.Local == "message" && strings.Contains(s.Inner, body)
	}
}

func wsURL(srv *xmpptest.Server) string { return "wss://" + srv.Addr("http-tls") + "/xmpp-websocket" }

// TestWebSocketLoginRosterMessage: mellium's RFC 7395 client logs in over
// wss (SCRAM, bind), reads its roster, and exchanges messages both ways
// with a TCP client.
func TestWebSocketLoginRosterMessage(t *testing.T) {
	srv := xmpptest.Start(t)
	srv.AddUser(t, "alice@localhost", "pw-alice")
	srv.AddUser(t, "bob@localhost", "pw-bob")
	alice, err := xmpptest.DialWebSocket(t, wsURL(srv), srv.TLSConfig(t, "localhost"), "alice@localhost", "pw-alice")
	if err != nil {
		t.Fatalf("websocket login: %v", err)
	}
	bob := srv.Dial(t, "bob@localhost", "pw-bob", xmpptest.DialOptions{})

	set := alice.IQ(t, `<iq type='set' id='r1'><query xmlns='jabber:iq:roster'><item jid='bob@localhost' name='Bob'/></query></iq>`)
	if set.Attr("type") != "result" {
		t.Fatalf("roster set: %+v", set)
	}
	got := alice.IQ(t, `<iq type='get' id='r2'><query xmlns='jabber:iq:roster'/></iq>`)
	if got.Attr("type") != "result" || !strings.Contains(got.Inner, "bob@localhost") {
		t.Fatalf("roster get: %+v", got)
	}
	alice.Send(t, `<message to='`+bob.JID.String()+`' type='chat'><body>hello over websocket</body></message>`)
	bob.Expect(t, wait, "alice's message", isChat("hello over websocket"))
	bob.Send(t, `<message to='`+alice.JID.String()+`' type='chat'><body>hello back over tcp</body></message>`)
	alice.Expect(t, wait, "bob's message", isChat("hello back over tcp"))
}
