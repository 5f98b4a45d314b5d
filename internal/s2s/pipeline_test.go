package s2s_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/xmpptest"
)

// TestInboundPipelineReadsOn: on b.test, a hook standing in for the
// archive's commit holds the first of five messages that arrive over one
// s2s stream. The stream's reader goes on (the hook sees all five while
// the first waits) but bob gets nothing; once released, bob gets all
// five in order. A message whose wait fails is bounced to its sender.
func TestInboundPipelineReadsOn(t *testing.T) {
	p, alice, bob := chatting(t)

	seen, release := make(chan string, 100), make(chan struct{})
	var once bool
	open := func() {
		if !once {
			once = true
			close(release)
		}
	}
	t.Cleanup(open)
	p.b.Router().Registry().Hook(module.InboundMessage, 1, func(ctx context.Context, ev *module.Event) (bool, error) {
		body := ev.Stanza.ChildText("", "body")
		if body == "" {
			return false, nil
		}
		if module.PipelineFrom(ctx) == nil {
			t.Error("a message from an s2s stream was routed without a pipeline")
			return false, nil
		}
		seen <- body
		switch {
		case strings.HasPrefix(body, "hold"):
			ev.Wait = func() error { <-release; return nil }
		case strings.HasPrefix(body, "fail"):
			ev.Wait = func() error { return stanza.Errorf(stanza.Wait, stanza.InternalServerError, "not archived") }
		default:
			ev.Wait = func() error { return nil }
		}
		return false, nil
	})
	want := []string{"hold0", "m1", "m2", "m3", "m4"}
	for _, b := range want {
		alice.Send(t, `<message to='bob@b.test' type='chat'><body>`+b+`</body></message>`)
	}
	for _, w := range want {
		select {
		case got := <-seen:
			if got != w {
				t.Fatalf("b's hook saw %q, want %q", got, w)
			}
		case <-time.After(wait):
			t.Fatalf("b's hook never saw %q while the first message waited: the s2s reader waited for it", w)
		}
	}
	bob.ExpectNone(t, 300*time.Millisecond, "a message before the first one's wait was over", func(st xmpptest.Stanza) bool {
		return st.XMLName.Local == "message"
	})
	open()
	for _, w := range want {
		bob.Expect(t, wait, w, isMessage("alice@a.test", w+"<"))
	}
	alice.Send(t, `<message to='bob@b.test' type='chat' id='f1'><body>fail1</body></message>`)
	alice.Expect(t, wait, "the bounce", func(st xmpptest.Stanza) bool {
		return st.Attr("id") == "f1" && st.Attr("type") == "error" && strings.Contains(st.Inner, "internal-server-error")
	})
}

// TestInboundStreamArchivesInBatches: 300 messages arriving over one s2s
// stream are archived on b.test in fewer commits than messages (the
// stream's reader does not wait for each commit), all delivered to bob
// in order and all in bob's archive.
func TestInboundStreamArchivesInBatches(t *testing.T) {
	p, alice, bob := chatting(t)
	before := p.b.Archive().Stats()
	const n = 300
	for i := range n {
		alice.Send(t, fmt.Sprintf(`<message to='bob@b.test' type='chat'><body>n%d</body></message>`, i))
	}
	for i := range n {
		bob.Expect(t, wait, "message", isMessage("alice@a.test", fmt.Sprintf("n%d<", i)))
	}
	after := p.b.Archive().Stats()
	msgs, batches := after.Messages-before.Messages, after.Batches-before.Batches
	if msgs != n {
		t.Fatalf("b archived %d messages, want %d", msgs, n)
	}
	if batches >= msgs {
		t.Errorf("b committed %d messages in %d transactions: one commit per message", msgs, batches)
	}
	t.Logf("b.test: %d messages from one s2s stream in %d commits", msgs, batches)
}

// chatting starts a pair with alice and bob online and a.test's stream
// to b.test up (a first message went through).
func chatting(t *testing.T) (*fedPair, *xmpptest.Client, *xmpptest.Client) {
	p := startPair(t)
	alice := online(t, p.a, "alice@a.test")
	bob := online(t, p.b, "bob@b.test")
	alice.Send(t, `<message to='bob@b.test' type='chat'><body>warm-up</body></message>`)
	bob.Expect(t, wait, "the warm-up", isMessage("alice@a.test", "warm-up"))
	return p, alice, bob
}
