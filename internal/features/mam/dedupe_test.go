package mam_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/parleyim/parley/internal/xmpptest"
)

// withOrigin is a chat message carrying an XEP-0359 origin-id.
func withOrigin(to, body, oid string) string {
	return fmt.Sprintf(`<message type='chat' to='%s' id='%s'><body>%s</body><origin-id xmlns='urn:xmpp:sid:0' id='%s'/></message>`, to, body, body, oid)
}

// received returns the bodies of the chat messages in c.In now.
func received(c *xmpptest.Client) []string {
	var out []string
	for _, st := range c.Drain() {
		if st.XMLName.Local != "message" || strings.Contains(st.Inner, "urn:xmpp:mam:2") {
			continue
		}
		if _, rest, ok := strings.Cut(st.Inner, "<body"); ok {
			_, rest, _ = strings.Cut(rest, ">")
			body, _, _ := strings.Cut(rest, "</body>")
			out = append(out, body)
		}
	}
	slices.Sort(out)
	return out
}

// TestResendAfterReconnectDeduplicated: a client that sends a message
// again from a new connection (its first connection dropped before the
// ack; same origin-id, same sender, same 'to') does not make it archived
// or delivered twice. A message without an origin-id, or with the same
// origin-id to someone else, goes through every time.
func TestResendAfterReconnectDeduplicated(t *testing.T) {
	srv := start(t)
	bob, carol := online(t, srv, "bob"), online(t, srv, "carol")
	alice := srv.Dial(t, "alice@localhost", "pw", xmpptest.DialOptions{})
	alice.Send(t, withOrigin("bob@localhost", "hello", "o-1"))
	alice.Send(t, `<message type='chat' to='bob@localhost'><body>plain</body></message>`)
	xmpptest.Settle(t, alice)
	alice.Close()
	gone(t, srv, "alice@localhost")

	again := srv.Dial(t, "alice@localhost", "pw", xmpptest.DialOptions{})
	again.Send(t, withOrigin("bob@localhost", "hello", "o-1"))                            // the resend: dropped
	again.Send(t, `<message type='chat' to='bob@localhost'><body>plain</body></message>`) // no origin-id: delivered
	again.Send(t, withOrigin("bob@localhost", "next", "o-2"))
	again.Send(t, withOrigin("carol@localhost", "hello", "o-1")) // another recipient
	xmpptest.Settle(t, again)
	xmpptest.Settle(t, bob, carol)
	if got := received(bob); !slices.Equal(got, []string{"hello", "next", "plain", "plain"}) {
		t.Errorf("bob received %v, want hello, next and plain twice", got)
	}
	if got := received(carol); !slices.Equal(got, []string{"hello"}) {
		t.Errorf("carol received %v", got)
	}
	rs, fin := query(t, bob, "", form("with", "alice@localhost"))
	if fin.Type != "result" {
		t.Fatalf("query: %s", fin.Error.Inner)
	}
	got := bodies(rs)
	slices.Sort(got)
	if !slices.Equal(got, []string{"hello", "next", "plain", "plain"}) {
		t.Errorf("bob's archive holds %v", got)
	}
	rs, _ = query(t, again, "", form("with", "bob@localhost"))
	if got := bodies(rs); len(got) != 4 {
		t.Errorf("alice's archive with bob holds %v, want 4 messages", got)
	}
}

// TestResendToOfflineDeduplicated: the resend of a message that went to
// offline storage is not stored a second time.
func TestResendToOfflineDeduplicated(t *testing.T) {
	srv := start(t)
	for range 2 {
		alice := srv.Dial(t, "alice@localhost", "pw", xmpptest.DialOptions{})
		alice.Send(t, withOrigin("bob@localhost", "stored", "o-9"))
		xmpptest.Settle(t, alice)
		alice.Close()
		gone(t, srv, "alice@localhost")
	}
	bob := online(t, srv, "bob")
	if got := received(bob); !slices.Equal(got, []string{"stored"}) {
		t.Errorf("bob's offline messages: %v, want one", got)
	}
}
