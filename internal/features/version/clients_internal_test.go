package version

import (
	"context"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/stanza"
)

// fakeConn is a session that records what it is sent and its software.
type fakeConn struct {
	full     jid.JID
	sent     []*stanza.Element
	software string
}

func (f *fakeConn) JID() jid.JID                     { return f.full }
func (f *fakeConn) Deliver(el *stanza.Element) error { f.sent = append(f.sent, el); return nil }
func (f *fakeConn) Close(string, string)             {}
func (f *fakeConn) ClientSoftware() string           { return f.software }
func (f *fakeConn) SetClientSoftware(d string)       { f.software = d }

func answer(id, from, to, name string) *module.Event {
	iq := stanza.New(stanza.NSClient, stanza.KindIQ).SetAttr("type", stanza.Result).SetAttr("id", id)
	q := stanza.New(NS, "query").Append(stanza.New(NS, "name").AppendText(name))
	iq.Append(q)
	ev := &module.Event{From: jid.MustParse(from), Stanza: iq}
	if to != "" {
		ev.To = jid.MustParse(to)
	}
	return ev
}

// TestAskerMatching: only the asked session's answer to the asked id is
// taken; an answer from another JID, to another id, or after the timeout
// is left alone; a session that named itself is not asked; the pending
// queries are bounded.
func TestAskerMatching(t *testing.T) {
	ctx := context.Background()
	a := newAsker(time.Hour, 2)
	c := &fakeConn{full: jid.MustParse("a@example.org/r")}
	a.available(ctx, &module.Event{Conn: c})
	if len(c.sent) != 1 || c.sent[0].Attr("to") != "a@example.org/r" || c.sent[0].Attr("from") != "example.org" || c.sent[0].Child(NS, "query") == nil {
		t.Fatalf("query sent: %v", c.sent)
	}
	id := c.sent[0].Attr("id")
	for _, ev := range []*module.Event{
		answer(id, "b@example.org/r", "example.org", "Spoof"),
		answer(id, "a@example.org/other", "", "Spoof"),
		answer(id, "a@example.org/r", "b@example.org", "Spoof"),
		answer(askPrefix+"x", "a@example.org/r", "", "Spoof"),
		answer("other", "a@example.org/r", "", "Spoof"),
	} {
		if handled, _ := a.inboundIQ(ctx, ev); handled || c.software != "" {
			t.Errorf("answer %v taken: %q", ev.Stanza, c.software)
		}
	}
	if handled, _ := a.inboundIQ(ctx, answer(id, "a@example.org/r", "example.org", "Real")); !handled || c.software != "Real" {
		t.Errorf("the answer was not taken: %q", c.software)
	}
	if handled, _ := a.inboundIQ(ctx, answer(id, "a@example.org/r", "", "Again")); handled || c.software != "Real" {
		t.Errorf("a second answer was taken: %q", c.software)
	}
	named := &fakeConn{full: jid.MustParse("n@example.org/r"), software: "Named"}
	a.available(ctx, &module.Event{Conn: named})
	if len(named.sent) != 0 {
		t.Errorf("a named client was asked")
	}
	var conns []*fakeConn
	for i := range 3 {
		f := &fakeConn{full: jid.MustParse("u@example.org/" + string(rune('a'+i)))}
		a.available(ctx, &module.Event{Conn: f})
		conns = append(conns, f)
	}
	if len(conns[0].sent) != 1 || len(conns[1].sent) != 1 || len(conns[2].sent) != 0 {
		t.Errorf("more than 2 queries pending: %d %d %d", len(conns[0].sent), len(conns[1].sent), len(conns[2].sent))
	}
}

// TestAskerTimeout: an unanswered query is forgotten after the timeout,
// so a late answer is not taken and the bound frees up.
func TestAskerTimeout(t *testing.T) {
	ctx := context.Background()
	a := newAsker(time.Millisecond, 1)
	c := &fakeConn{full: jid.MustParse("a@example.org/r")}
	a.available(ctx, &module.Event{Conn: c})
	deadline := time.Now().Add(10 * time.Second)
	for {
		a.mu.Lock()
		n := len(a.pending)
		a.mu.Unlock()
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the query was never forgotten")
		}
		time.Sleep(time.Millisecond)
	}
	if handled, _ := a.inboundIQ(ctx, answer(c.sent[0].Attr("id"), "a@example.org/r", "", "Late")); handled || c.software != "" {
		t.Errorf("late answer taken: %q", c.software)
	}
}

func TestDescribe(t *testing.T) {
	q := func(xml ...*stanza.Element) *stanza.Element { return stanza.New(NS, "query").Append(xml...) }
	el := func(n, v string) *stanza.Element { return stanza.New(NS, n).AppendText(v) }
	for _, c := range []struct {
		q    *stanza.Element
		want string
	}{
		{nil, ""},
		{q(), ""},
		{q(el("version", "1")), ""},
		{q(el("name", " Gajim ")), "Gajim"},
		{q(el("name", "Gajim"), el("version", "1.9"), el("os", "Linux")), "Gajim 1.9 (Linux)"},
	} {
		if got := describe(c.q); got != c.want {
			t.Errorf("describe = %q, want %q", got, c.want)
		}
	}
}

// TestAskerSweep: the queries share one timer; each is forgotten after
// the timeout, in the order sent, the sweeper's list is given back when
// empty, and a query sent after that arms the same timer again.
func TestAskerSweep(t *testing.T) {
	ctx := context.Background()
	a := newAsker(20*time.Millisecond, 100)
	ask := func(name string) *fakeConn {
		c := &fakeConn{full: jid.MustParse(name + "@example.org/r")}
		a.available(ctx, &module.Event{Conn: c})
		return c
	}
	first := ask("a")
	a.mu.Lock()
	timer := a.timer
	a.mu.Unlock()
	for _, n := range []string{"b", "c", "d"} {
		ask(n)
	}
	// An answered query leaves its place in the list; its sweep must not
	// disturb the others.
	if handled, _ := a.inboundIQ(ctx, answer(first.sent[0].Attr("id"), "a@example.org/r", "", "A")); !handled {
		t.Fatal("answer not taken")
	}
	waitForgotten(t, a)
	late := ask("e")
	a.mu.Lock()
	same := a.timer == timer
	a.mu.Unlock()
	if !same {
		t.Error("a second timer was made")
	}
	waitForgotten(t, a)
	if handled, _ := a.inboundIQ(ctx, answer(late.sent[0].Attr("id"), "e@example.org/r", "", "Late")); handled {
		t.Error("an answer after the timeout was taken")
	}
}

// waitForgotten waits until a has nothing pending and its sweeper list is
// given back.
func waitForgotten(t *testing.T, a *asker) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		a.mu.Lock()
		n, list := len(a.pending), a.expiry
		a.mu.Unlock()
		if n == 0 && list == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d queries still pending, sweeper list %d long", n, len(list))
		}
		time.Sleep(time.Millisecond)
	}
}
