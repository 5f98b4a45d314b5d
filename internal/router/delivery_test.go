package router_test

import (
	"strings"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/xmpptest"
)

const wait = 5 * time.Second

// TestDeliveryRulesEndToEnd is RFC 6121 §8.5 over real sockets: bob has
// three resources with different presence; alice sends each message type
// to bob's bare JID, to a resource that exists and to one that does not,
// and each row says which of bob's resources receive it, whether it is
// stored offline (delivered at bob's next login) and what alice gets back.
func TestDeliveryRulesEndToEnd(t *testing.T) {
	type want struct {
		high, low, neg bool   // which of bob's resources get it
		bounce         string // error condition alice gets, "" for none
	}
	cases := []struct {
		name, to, typ string
		want          want
	}{
		{"bare chat → highest priority", "bob@localhost", "chat", want{high: true}},
		{"bare normal → highest priority", "bob@localhost", "normal", want{high: true}},
		{"bare headline → all non-negative", "bob@localhost", "headline", want{high: true, low: true}},
		{"bare groupchat → nobody, error", "bob@localhost", "groupchat", want{bounce: "service-unavailable"}},
		{"full chat to the negative resource", "bob@localhost/neg", "chat", want{neg: true}},
		{"absent full chat → like bare", "bob@localhost/gone", "chat", want{high: true}},
		{"absent full normal → error", "bob@localhost/gone", "normal", want{bounce: "service-unavailable"}},
		{"absent full headline → dropped", "bob@localhost/gone", "headline", want{}},
		{"absent full groupchat → error", "bob@localhost/gone", "groupchat", want{bounce: "service-unavailable"}},
		{"unknown user chat → error", "nobody@localhost", "chat", want{bounce: "service-unavailable"}},
		{"unknown user headline → error (§8.5.1 allows either)", "nobody@localhost", "headline", want{bounce: "service-unavailable"}},
		{"unknown user error → nothing", "nobody@localhost", "error", want{}},
		{"bare error → dropped", "bob@localhost", "error", want{}},
	}
	srv := xmpptest.Start(t)
	srv.AddUser(t, "alice@localhost", "pw")
	srv.AddUser(t, "bob@localhost", "pw")
	cfg := srv.TLSConfig(t, "localhost")
	bob := map[string]*xmpptest.Raw{}
	for res, prio := range map[string]string{"high": "5", "low": "1", "neg": "-1"} {
		r := srv.Raw(t)
		r.Login(cfg, "bob", "localhost", "pw", res)
		r.Write("<presence><priority>" + prio + "</priority></presence>")
		r.ReadUntil("<priority>"+prio+"</priority>", wait) // the server echoes it back (RFC 6121 §4.2.2)
		bob[res] = r
	}
	alice := srv.Dial(t, "alice@localhost", "pw", xmpptest.DialOptions{})
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := "rule-" + string(rune('a'+i))
			alice.Send(t, `<message to='`+tc.to+`' type='`+tc.typ+`' id='`+body+`'><body>`+body+`</body></message>`)
			// A ping to each of bob's resources afterwards marks the end of
			// what this row can deliver to it (one stream is in order).
			for res, r := range bob {
				mark := "mark-" + body + "-" + res
				alice.Send(t, `<message to='bob@localhost/`+res+`' type='chat'><body>`+mark+`</body></message>`)
				got := r.ReadUntil(mark, wait)
				wantIt := map[string]bool{"high": tc.want.high, "low": tc.want.low, "neg": tc.want.neg}[res]
				if has := strings.Contains(got, ">"+body+"<"); has != wantIt {
					t.Errorf("bob/%s received=%v, want %v", res, has, wantIt)
				}
			}
			if tc.want.bounce != "" {
				got := alice.Expect(t, wait, "bounce", func(s xmpptest.Stanza) bool { return s.Attr("id") == body })
				if got.Attr("type") != "error" || !strings.Contains(got.Inner, tc.want.bounce) {
					t.Fatalf("bounce = %+v", got)
				}
			} else {
				alice.ExpectNone(t, 100*time.Millisecond, "error", func(s xmpptest.Stanza) bool { return s.Attr("id") == body })
			}
		})
	}
}

// TestOfflineWhenNoResourceAvailable: chat and normal to an account with
// no available resource (only a negative-priority one) are stored and
// delivered, in order, when a resource next becomes available.
func TestOfflineWhenNoResourceAvailable(t *testing.T) {
	srv := xmpptest.Start(t)
	srv.AddUser(t, "alice@localhost", "pw")
	srv.AddUser(t, "bob@localhost", "pw")
	cfg := srv.TLSConfig(t, "localhost")
	neg := srv.Raw(t)
	neg.Login(cfg, "bob", "localhost", "pw", "neg")
	neg.Write("<presence><priority>-1</priority></presence>")
	neg.ReadUntil("<priority>-1</priority>", wait)
	alice := srv.Dial(t, "alice@localhost", "pw", xmpptest.DialOptions{})
	for _, m := range []string{"first", "second", "third"} {
		alice.Send(t, `<message to='bob@localhost' type='chat'><body>`+m+`</body></message>`)
	}
	alice.Send(t, `<message to='bob@localhost' type='headline'><body>not stored</body></message>`)
	alice.ExpectNone(t, 200*time.Millisecond, "error", func(s xmpptest.Stanza) bool { return s.Attr("type") == "error" })
	later := srv.Raw(t)
	later.Login(cfg, "bob", "localhost", "pw", "later")
	later.Write("<presence/>")
	got := later.ReadUntil(">third<", wait)
	if !(strings.Index(got, ">first<") < strings.Index(got, ">second<") && strings.Index(got, ">second<") < strings.Index(got, ">third<")) {
		t.Fatalf("offline messages out of order: %q", got)
	}
	if !strings.Contains(got, "urn:xmpp:delay") {
		t.Fatalf("no delay stamp: %q", got)
	}
	if strings.Contains(got, "not stored") {
		t.Fatalf("headline was stored offline: %q", got)
	}
}
