package c2s_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/c2s"
	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/xmpptest"
)

// gate is an InboundMessage hook standing in for the archive's commit:
// for a message whose body starts with "hold" it sets ev.Wait to wait
// until the test releases it; for one whose body starts with "fail" the
// wait returns a commit failure. Every message it saw is reported on
// seen, in the order the reader handed them over.
type gate struct {
	seen    chan string
	release chan struct{}
}

func newGate(t *testing.T, srv *xmpptest.Server) *gate {
	g := &gate{seen: make(chan string, 100), release: make(chan struct{})}
	// A failed test still lets the server shut down (registered after
	// the server's cleanup, so it runs first).
	t.Cleanup(g.open)
	srv.Router().Registry().Hook(module.InboundMessage, 1, func(ctx context.Context, ev *module.Event) (bool, error) {
		body := ev.Stanza.ChildText("", "body")
		if body == "" {
			return false, nil
		}
		g.seen <- body
		if module.PipelineFrom(ctx) == nil {
			t.Error("a client's message was routed without the session's pipeline")
			return false, nil
		}
		switch {
		case strings.HasPrefix(body, "hold"):
			ev.Wait = func() error { <-g.release; return nil }
		case strings.HasPrefix(body, "fail"):
			ev.Wait = func() error {
				return stanza.Errorf(stanza.Wait, stanza.InternalServerError, "the message could not be archived")
			}
		default:
			ev.Wait = func() error { return nil }
		}
		return false, nil
	})
	return g
}

// open releases every held message (once).
func (g *gate) open() {
	select {
	case <-g.release:
	default:
		close(g.release)
	}
}

// waitSeen waits until the hook saw want, in that order.
func (g *gate) waitSeen(t *testing.T, want ...string) {
	t.Helper()
	for _, w := range want {
		select {
		case got := <-g.seen:
			if got != w {
				t.Fatalf("the hook saw %q, want %q", got, w)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("the hook never saw %q", w)
		}
	}
}

// pipelineRig is a server whose only wait is the gate (the archive is
// off), with bob online (resource phone) and alice (resource desk, stream
// management without resumption), who sends the tests' messages.
type pipelineRig struct {
	srv        *xmpptest.Server
	g          *gate
	alice, bob *xmpptest.SMClient
}

func newPipelineRig(t *testing.T) pipelineRig {
	t.Helper()
	srv := smServer(t, func(c *config.Config) { c.MAM.Enabled = false })
	g := newGate(t, srv)
	bob := srv.SMLogin(t, "bob", "localhost", "pw", "phone")
	bob.Send("<presence/>")
	bob.Expect(10*time.Second, "bob's own presence", func(st xmpptest.Stanza) bool { return st.XMLName.Local == "presence" })
	alice := srv.SMLogin(t, "alice", "localhost", "pw", "desk")
	alice.Enable(false, 0)
	return pipelineRig{srv: srv, g: g, alice: alice, bob: bob}
}

// TestPipelineNothingBeforeTheWait: while the first message's wait (the
// archive's commit) is not over, the sender's session goes on reading
// (the hook sees the next messages), but the recipient gets nothing and
// the sender's XEP-0198 h does not count any of them; once released,
// all arrive in order and h counts them.
func TestPipelineNothingBeforeTheWait(t *testing.T) {
	r := newPipelineRig(t)
	g, alice, bob := r.g, r.alice, r.bob
	sess := onlySession(t, r.srv, "alice@localhost")
	want := []string{"hold0", "m1", "m2", "m3", "m4"}
	for _, b := range want {
		alice.Send(chat("bob@localhost", b))
	}
	g.waitSeen(t, want...) // all five handed over while the first waits
	if h := c2s.SMInH(sess); h != 0 {
		t.Fatalf("h = %d while the first message's wait is not over, want 0", h)
	}
	expectNoStanza(t, bob, 300*time.Millisecond)
	g.open()
	if got := collectBodies(t, bob, len(want)); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("bob got %v, want %v", got, want)
	}
	if h := alice.RequestAck(10*time.Second, nil); h != 5 {
		t.Fatalf("h = %d after release, want 5", h)
	}
}

// TestPipelineKeepsOrder: stanzas that need no wait (a chat state, an
// iq, a presence) queue behind a waiting message, so that the recipient
// and the sender see everything in the order it was sent, and an <r/>
// sent meanwhile is answered with an h that covers what came before it.
func TestPipelineKeepsOrder(t *testing.T) {
	r := newPipelineRig(t)
	g, alice, bob := r.g, r.alice, r.bob
	alice.Send(chat("bob@localhost", "hold0"))
	g.waitSeen(t, "hold0")
	alice.Send(`<message to='bob@localhost/phone' type='chat' id='cs'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>`)
	alice.Send(chat("bob@localhost", "m2"))
	alice.Send(`<iq type='get' id='ping1'><ping xmlns='urn:xmpp:ping'/></iq>`)
	alice.Write("<r xmlns='urn:xmpp:sm:3'/>")
	alice.Send(chat("bob@localhost", "m3"))
	g.waitSeen(t, "m2", "m3")
	expectNoStanza(t, alice, 300*time.Millisecond) // neither the ping's result nor the <a/>
	g.open()
	var got []string
	for len(got) < 4 {
		st, err := bob.Next(10 * time.Second)
		if err != nil {
			t.Fatalf("bob got %v, then %v", got, err)
		}
		switch {
		case st.Attr("id") == "cs":
			got = append(got, "cs")
		case st.XMLName.Local == "message":
			got = append(got, bodyOf(st))
		}
	}
	if strings.Join(got, " ") != "hold0 cs m2 m3" {
		t.Fatalf("bob got %v, want hold0 cs m2 m3", got)
	}
	alice.Expect(10*time.Second, "the ping result", func(st xmpptest.Stanza) bool { return st.Attr("id") == "ping1" })
	a := alice.Expect(10*time.Second, "<a/>", xmpptest.SM("a"))
	if a.Attr("h") != "4" {
		t.Fatalf("the <r/> after four stanzas was answered with h=%s", a.Attr("h"))
	}
	if h := alice.RequestAck(10*time.Second, nil); h != 5 {
		t.Fatalf("h = %d, want 5", h)
	}
}

// TestPipelineFailedWaitBounces: a message whose wait fails (the commit
// failed) is bounced to its sender with the error and never delivered;
// the messages around it are delivered in order, and all count as
// handled.
func TestPipelineFailedWaitBounces(t *testing.T) {
	r := newPipelineRig(t)
	g, alice, bob := r.g, r.alice, r.bob
	for _, b := range []string{"hold0", "fail1", "m2"} {
		alice.Send(chat("bob@localhost", b))
	}
	g.waitSeen(t, "hold0", "fail1", "m2")
	g.open()
	e := alice.Expect(10*time.Second, "the bounce", func(st xmpptest.Stanza) bool { return st.Attr("type") == "error" })
	if e.Attr("id") != "fail1" || !strings.Contains(e.Inner, "internal-server-error") {
		t.Fatalf("bounce: id=%s %s", e.Attr("id"), e.Inner)
	}
	if got := collectBodies(t, bob, 2); strings.Join(got, " ") != "hold0 m2" {
		t.Fatalf("bob got %v, want hold0 m2", got)
	}
	if h := alice.RequestAck(10*time.Second, nil); h != 3 {
		t.Fatalf("h = %d, want 3", h)
	}
}

// collectBodies reads c until n messages with a body came and returns
// their bodies in arrival order.
func collectBodies(t *testing.T, c *xmpptest.SMClient, n int) []string {
	t.Helper()
	var got []string
	for len(got) < n {
		st, err := c.Next(10 * time.Second)
		if err != nil {
			t.Fatalf("got %v, then %v", got, err)
		}
		if b := bodyOf(st); st.XMLName.Local == "message" && b != "" {
			got = append(got, b)
		}
	}
	return got
}

func bodyOf(st xmpptest.Stanza) string {
	i := strings.Index(st.Inner, "<body>")
	if i < 0 {
		return ""
	}
	rest := st.Inner[i+len("<body>"):]
	return rest[:strings.Index(rest, "<")]
}

// expectNoStanza fails if a stanza or an <a/> reaches c within d. Only
// for asserting an absence.
func expectNoStanza(t *testing.T, c *xmpptest.SMClient, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		st, err := c.Next(time.Until(deadline))
		if err != nil {
			return
		}
		if xmpptest.IsStanza(st) || xmpptest.SM("a")(st) {
			t.Fatalf("got %s %s before the wait was over", st.XMLName.Local, st.Inner)
		}
	}
}
