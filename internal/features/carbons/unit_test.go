package carbons

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/router"
	"github.com/parleyim/parley/internal/stanza"
)

func message(typ string, children ...*stanza.Element) *stanza.Element {
	el := stanza.New(stanza.NSClient, "message")
	if typ != "" {
		el.SetAttr("type", typ)
	}
	return el.Append(children...)
}

func body() *stanza.Element { return stanza.New(stanza.NSClient, "body").AppendText("hi") }

func TestEligible(t *testing.T) {
	cases := []struct {
		name string
		el   *stanza.Element
		want bool
	}{
		{"chat with body", message("chat", body()), true},
		{"chat without body", message("chat", stanza.New("http://jabber.org/protocol/chatstates", "active")), true},
		{"normal with body", message("normal", body()), true},
		{"no type with body", message("", body()), true},
		{"normal without body", message(""), false},
		{"groupchat", message("groupchat", body()), false},
		{"headline", message("headline", body()), false},
		{"error", message("error", body()), false},
		{"no-copy", message("chat", body(), stanza.New(NSHints, "no-copy")), false},
		{"other hint", message("chat", body(), stanza.New(NSHints, "no-store")), true},
		{"muc pm", message("chat", body(), stanza.New(nsMUCUser, "x")), false},
		{"a carbon", message("chat", stanza.New(NS, "received")), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := eligible(tc.el); got != tc.want {
				t.Errorf("eligible = %v, want %v", got, tc.want)
			}
		})
	}
	if !isPrivate(message("chat", body(), stanza.New(NS, "private"))) || isPrivate(message("chat", body())) {
		t.Error("isPrivate wrong")
	}
}

// fakeSession is a bound, available session that counts deliveries.
type fakeSession struct {
	j jid.JID
	n int
}

func (s *fakeSession) JID() jid.JID                  { return s.j }
func (s *fakeSession) Deliver(*stanza.Element) error { s.n++; return nil }
func (s *fakeSession) Presence() (bool, int)         { return true, 0 }
func (s *fakeSession) Close(string, string)          {}
func (s *fakeSession) enableIn(m *Module) *fakeSession {
	m.enable(context.Background(), stanza.IQ{From: s.j})
	return s
}

func newTestModule(tb testing.TB) (*Module, *router.Router) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	reg := module.NewRegistry()
	r := router.New(log, reg, []string{"localhost"})
	m := New(Config{Host: r, Log: log})
	m.Register(reg)
	return m, r
}

func TestSessionClosedForgets(t *testing.T) {
	m, r := newTestModule(t)
	a := &fakeSession{j: jid.MustParse("alice@localhost/a")}
	r.Bind(a)
	a.enableIn(m)
	a.enableIn(m)
	if m.n.Load() != 1 || len(m.enabled(a.j.Bare())) != 1 {
		t.Fatalf("after enabling twice: n=%d", m.n.Load())
	}
	// A session replaced at the same full JID keeps its own state.
	b := &fakeSession{j: a.j}
	m.closed(context.Background(), &module.Event{Conn: b})
	if m.n.Load() != 1 {
		t.Fatal("closing another session with the same JID disabled carbons")
	}
	m.closed(context.Background(), &module.Event{Conn: a})
	if m.n.Load() != 0 || len(m.byUser) != 0 {
		t.Fatalf("state left after close: n=%d %v", m.n.Load(), m.byUser)
	}
}

func benchInbound(b *testing.B, enabled bool) {
	m, r := newTestModule(b)
	a1 := &fakeSession{j: jid.MustParse("alice@localhost/a1")}
	a2 := &fakeSession{j: jid.MustParse("alice@localhost/a2")}
	bob := &fakeSession{j: jid.MustParse("bob@localhost/b")}
	for _, s := range []*fakeSession{a1, a2, bob} {
		r.Bind(s)
	}
	if enabled {
		a2.enableIn(m)
	}
	el := message("chat", body()).SetAttr("to", bob.j.String())
	ev := &module.Event{From: a1.j, To: bob.j, Stanza: el}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		m.inbound(ctx, ev)
	}
	if enabled && a2.n == 0 {
		b.Fatal("no copies made")
	}
}

// BenchmarkInboundNoCarbons is the cost on every message while nobody has
// carbons enabled.
func BenchmarkInboundNoCarbons(b *testing.B) { benchInbound(b, false) }

// BenchmarkInboundSentCopy makes one sent copy per message.
func BenchmarkInboundSentCopy(b *testing.B) { benchInbound(b, true) }
