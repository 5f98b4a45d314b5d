package ping_test

import (
	"strings"
	"testing"

	"github.com/parleyim/parley/internal/xmpptest"
)

// TestPing: a mellium client pings the server, its own account and
// another account over a real socket; each answers with an empty result
// with no payload (XEP-0199 §4.2, §4.3) from the pinged address (the
// client reports its own account's answer without one). Only get is a
// ping.
func TestPing(t *testing.T) {
	srv := xmpptest.Start(t)
	srv.AddUser(t, "alice@localhost", "pw")
	srv.AddUser(t, "bob@localhost", "pw")
	alice := srv.Dial(t, "alice@localhost", "pw", xmpptest.DialOptions{})
	for _, to := range []string{"localhost", "alice@localhost", "bob@localhost"} {
		t.Run(to, func(t *testing.T) {
			res := alice.IQ(t, `<iq type='get' id='p' to='`+to+`'><ping xmlns='urn:xmpp:ping'/></iq>`)
			from := res.Attr("from")
			if from == "" && to == "alice@localhost" {
				from = to
			}
			// Inner is the whole iq: its own start and end tag and nothing else.
			if res.Attr("type") != "result" || from != to || strings.Count(res.Inner, "<") != 2 {
				t.Fatalf("ping %s: type=%q from=%q iq=%q", to, res.Attr("type"), res.Attr("from"), res.Inner)
			}
		})
	}
	res := alice.IQ(t, `<iq type='set' id='s' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`)
	if res.Attr("type") != "error" || !strings.Contains(res.Inner, "service-unavailable") {
		t.Fatalf("ping with type set: %s %s", res.Attr("type"), res.Inner)
	}
}
