package c2s_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/c2s"
	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/xmpptest"
)

// TestStalledRecipientKeepsOrder: a recipient that stops reading never
// blocks its sender (the sender is answered while the recipient's socket
// is full and a flusher waits on it), and when the recipient reads again
// it gets every message once, in order. Over STARTTLS and plaintext. It
// guards any change to how the output queue writes (one tried: writing
// on the sender's goroutine, docs/benchmarks.md).
func TestStalledRecipientKeepsOrder(t *testing.T) {
	for _, tc := range []struct {
		name string
		tls  bool
	}{{"starttls", true}, {"plaintext", false}} {
		t.Run(tc.name, func(t *testing.T) {
			srv := xmpptest.Start(t, func(c *config.Config) {
				c.Limits.MaxOutboundBytes = 64 << 20 // stalled, not cut as a slow consumer
				c.C2S.InsecurePlaintext = !tc.tls
				c.Limits.BytesPerSecond = 0 // the sender is not paced: the recipient is the test
				c.C2S.WriteTimeout = config.Duration(10 * time.Minute)
			}, smallOpening)
			srv.AddUser(t, "alice@localhost", "pw")
			srv.AddUser(t, "bob@localhost", "pw")
			bob := srv.Raw(t)
			// Not stopReading: a clamped receive window would make reading
			// it all back take minutes; the default buffers fill too.
			if tc.tls {
				bob.Login(srv.TLSConfig(t, "localhost"), "bob", "localhost", "pw", "phone")
			} else {
				bob.Open("localhost")
				if out := bob.Plain("", "bob", "pw"); !strings.Contains(out, "success") {
					t.Fatalf("plaintext login: %s", out)
				}
				bob.Open("localhost")
				bob.Bind("phone")
			}
			bobSess := onlySession(t, srv, "bob@localhost")
			alice := srv.Dial(t, "alice@localhost", "pw", xmpptest.DialOptions{})
			// Numbered messages until some wait in bob's queue: his
			// socket is full and a flusher waits on it.
			sent := 0
			deadline := time.Now().Add(60 * time.Second)
			for c2s.QueuedBytes(bobSess) < 128<<10 {
				if time.Now().After(deadline) {
					t.Fatalf("bob's socket never filled (%d messages sent)", sent)
				}
				alice.Send(t, numbered("bob@localhost/phone", sent, 32<<10))
				sent++
			}
			t.Logf("%d messages of 32 KiB sent before bob's queue filled", sent)
			start := time.Now()
			if res := alice.IQ(t, `<iq type='get' id='p1' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`); res.Attr("type") != "result" {
				t.Fatalf("the sender while the recipient is stalled: %+v", res)
			}
			if d := time.Since(start); d > 30*time.Second {
				t.Fatalf("the sender waited %v for its ping while the recipient was stalled", d)
			}
			for i := range sent {
				want := fmt.Sprintf("<body>%d:", i)
				got := bob.ReadUntil("</message>", 30*time.Second)
				if !strings.Contains(got, want) {
					t.Fatalf("message %d of %d: got %q", i, sent, got[:min(len(got), 120)])
				}
			}
			if n := len(srv.Router().Sessions(jid.MustParse("bob@localhost"))); n != 1 {
				t.Fatalf("bob has %d sessions after reading everything, want 1", n)
			}
		})
	}
}

func numbered(to string, i, n int) string {
	return fmt.Sprintf(`<message to='%s' type='chat'><body>%d:%s</body></message>`, to, i, strings.Repeat("x", n))
}
