package csi

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/stanza"
)

// fakeConn records what is delivered to it.
type fakeConn struct {
	mu  sync.Mutex
	got []string
}

func (c *fakeConn) JID() jid.JID { return jid.MustParse("bob@localhost/r") }
func (c *fakeConn) Deliver(el *stanza.Element) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.got = append(c.got, el.Attr("id"))
	return nil
}
func (c *fakeConn) Close(string, string) {}
func (c *fakeConn) ids() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.got, ",")
}

func pres(id, from, typ string) *stanza.Element {
	el := stanza.New(stanza.NSClient, "presence").SetAttr("id", id).SetAttr("from", from)
	if typ != "" {
		el.SetAttr("type", typ)
	}
	return el
}

func msg(id string, children ...*stanza.Element) *stanza.Element {
	return stanza.New(stanza.NSClient, "message").SetAttr("id", id).SetAttr("type", "chat").Append(children...)
}

func state(name string) *stanza.Element { return stanza.New(nsChatStates, name) }

func TestClassify(t *testing.T) {
	body := stanza.New(stanza.NSClient, "body").AppendText("x")
	carbon := func(kind string, inner *stanza.Element) *stanza.Element {
		return msg("c", stanza.New(nsCarbons, kind).Append(stanza.New(nsForward, "forwarded").Append(inner)))
	}
	cases := []struct {
		name string
		el   *stanza.Element
		want class
	}{
		{"available", pres("1", "a@x/r", ""), presence},
		{"unavailable", pres("1", "a@x/r", "unavailable"), presence},
		{"subscribe", pres("1", "a@x", "subscribe"), urgent},
		{"presence error", pres("1", "a@x", "error"), urgent},
		{"chat state", msg("1", state("composing")), chatState},
		{"chat state with thread and hints", msg("1", state("paused"), stanza.New(stanza.NSClient, "thread"), stanza.New(nsHints, "no-store"), stanza.New(nsSID, "origin-id")), chatState},
		{"body", msg("1", body), urgent},
		{"body and state", msg("1", state("active"), body), urgent},
		{"empty message", msg("1"), urgent},
		{"unknown payload", msg("1", state("composing"), stanza.New("urn:example", "x")), urgent},
		{"error message", msg("1", state("composing")).SetAttr("type", "error"), urgent},
		{"iq", stanza.New(stanza.NSClient, "iq"), urgent},
		{"carbon of a chat state", carbon("received", msg("i", state("composing"))), chatState},
		{"carbon of a body", carbon("sent", msg("i", body)), urgent},
		{"malformed carbon", msg("c", stanza.New(nsCarbons, "received")), urgent},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := classify(tc.el); got != tc.want {
				t.Errorf("classify = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestHeldOrderAndLatestPresence(t *testing.T) {
	c := &fakeConn{}
	h := newHeld(c)
	for _, el := range []*stanza.Element{
		pres("p1", "alice@x/a", ""), msg("c1", state("composing")), pres("q1", "carol@x/c", ""),
		pres("p2", "alice@x/a", "unavailable"), pres("p3", "alice@x/b", ""),
	} {
		if !h.offer(el) {
			t.Fatalf("%s not held", el.Attr("id"))
		}
	}
	if c.ids() != "" {
		t.Fatalf("delivered while inactive: %s", c.ids())
	}
	if h.offer(msg("m1", stanza.New(stanza.NSClient, "body").AppendText("hi"))) {
		t.Fatal("message with a body held")
	}
	if got := c.ids(); got != "c1,q1,p2,p3" {
		t.Fatalf("flushed %s, want c1,q1,p2,p3", got)
	}
	if h.live != 0 || h.bytes != 0 || len(h.queue) != 0 {
		t.Fatalf("not empty after flush: %+v", h)
	}
}

func TestHeldBounds(t *testing.T) {
	t.Run("count", func(t *testing.T) {
		c := &fakeConn{}
		h := newHeld(c)
		for i := range MaxHeld {
			if !h.offer(msg(strconv.Itoa(i), state("composing"))) {
				t.Fatalf("stanza %d not held", i)
			}
		}
		if h.offer(msg("over", state("composing"))) {
			t.Fatal("held past MaxHeld")
		}
		if n := strings.Count(c.ids(), ",") + 1; n != MaxHeld {
			t.Fatalf("flushed %d, want %d", n, MaxHeld)
		}
	})
	t.Run("bytes", func(t *testing.T) {
		c := &fakeConn{}
		h := newHeld(c)
		big := strings.Repeat("x", MaxHeldBytes/4)
		n := 0
		for h.offer(msg(strconv.Itoa(n), state("composing"), stanza.New(stanza.NSClient, "thread").AppendText(big))) {
			n++
		}
		if n == 0 || n > 4 || h.bytes != 0 {
			t.Fatalf("held %d big stanzas, %d bytes left", n, h.bytes)
		}
	})
	t.Run("presence churn stays compact", func(t *testing.T) {
		h := newHeld(&fakeConn{})
		for i := range 10000 {
			h.offer(pres(strconv.Itoa(i), "alice@x/r"+strconv.Itoa(i%3), ""))
		}
		if h.live != 3 || len(h.queue) > 2*h.live+16 {
			t.Fatalf("live=%d queue=%d", h.live, len(h.queue))
		}
	})
}

func newModule() *Module {
	return New(Config{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
}

func TestModuleStates(t *testing.T) {
	ctx := context.Background()
	m := newModule()
	c := &fakeConn{}
	ev := func(id string) *module.Event { return &module.Event{Conn: c, Stanza: pres(id, "alice@x/a", "")} }
	if handled, _ := m.filter(ctx, ev("a")); handled {
		t.Fatal("held for an active session")
	}
	m.setInactive(ctx, c, nil)
	m.setInactive(ctx, c, nil) // twice keeps what is held
	e := ev("b")
	if handled, _ := m.filter(ctx, e); !handled || !e.Deferred {
		t.Fatalf("not held: handled=%v deferred=%v", handled, e.Deferred)
	}
	m.setInactive(ctx, c, nil)
	m.setActive(ctx, c, nil)
	if c.ids() != "b" || m.n.Load() != 0 {
		t.Fatalf("after active: got %q, inactive sessions %d", c.ids(), m.n.Load())
	}
	// A closed session's held stanzas are dropped and its state forgotten.
	m.setInactive(ctx, c, nil)
	m.filter(ctx, ev("c"))
	m.closed(ctx, &module.Event{Conn: c})
	if c.ids() != "b" || m.n.Load() != 0 || len(m.inactive) != 0 {
		t.Fatalf("after close: got %q, state %v", c.ids(), m.inactive)
	}
}

// TestConcurrentOfferAndActive: stanzas offered while the session turns
// active are either flushed or delivered by the caller, never both and
// never lost.
func TestConcurrentOfferAndActive(t *testing.T) {
	ctx := context.Background()
	m := newModule()
	c := &fakeConn{}
	m.setInactive(ctx, c, nil)
	var wg sync.WaitGroup
	var direct sync.Map
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 50 {
				id := strconv.Itoa(i*1000 + j)
				e := &module.Event{Conn: c, Stanza: msg(id, state("composing"))}
				if handled, _ := m.filter(ctx, e); !handled {
					direct.Store(id, true)
				}
			}
		}()
	}
	m.setActive(ctx, c, nil)
	wg.Wait()
	flushed := map[string]bool{}
	for _, id := range strings.Split(c.ids(), ",") {
		if id != "" {
			flushed[id] = true
		}
	}
	n := len(flushed)
	direct.Range(func(k, _ any) bool {
		if flushed[k.(string)] {
			t.Errorf("%s both flushed and delivered", k)
		}
		n++
		return true
	})
	if n != 400 {
		t.Fatalf("%d of 400 stanzas accounted for", n)
	}
}

// BenchmarkFilterAllActive is the cost on every delivery while no session
// is inactive.
func BenchmarkFilterAllActive(b *testing.B) {
	m := newModule()
	ev := &module.Event{Conn: &fakeConn{}, Stanza: pres("1", "alice@x/a", "")}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		m.filter(ctx, ev)
	}
}

// BenchmarkFilterHoldPresence holds a presence that replaces the previous
// one from the same sender, for an inactive session.
func BenchmarkFilterHoldPresence(b *testing.B) {
	m := newModule()
	c := &fakeConn{}
	m.setInactive(context.Background(), c, nil)
	el := pres("1", "alice@x/a", "").Append(stanza.New(stanza.NSClient, "show").AppendText("away"))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		m.filter(ctx, &module.Event{Conn: c, Stanza: el})
	}
}
