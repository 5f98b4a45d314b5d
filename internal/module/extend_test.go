package module

import (
	"context"
	"net/netip"
	"slices"
	"testing"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/stanza"
)

func mustPanic(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Errorf("%s did not panic", what)
		}
	}()
	f()
}

func TestNonzaRegistry(t *testing.T) {
	r := NewRegistry()
	if r.LookupNonza("urn:xmpp:csi:0", "active") != nil {
		t.Fatal("empty registry has a nonza handler")
	}
	called := false
	r.Nonza("urn:xmpp:csi:0", "active", func(context.Context, Conn, *stanza.Element) error { called = true; return nil })
	h := r.LookupNonza("urn:xmpp:csi:0", "active")
	if h == nil {
		t.Fatal("registered nonza not found")
	}
	h(context.Background(), nil, nil)
	if !called {
		t.Error("handler not called")
	}
	for _, k := range [][2]string{{"urn:xmpp:csi:0", "inactive"}, {"urn:other", "active"}} {
		if r.LookupNonza(k[0], k[1]) != nil {
			t.Errorf("lookup %v found a handler", k)
		}
	}
	mustPanic(t, "duplicate nonza", func() {
		r.Nonza("urn:xmpp:csi:0", "active", func(context.Context, Conn, *stanza.Element) error { return nil })
	})
}

func TestPreAuthRegistry(t *testing.T) {
	r := NewRegistry()
	p := PreAuth{Domain: "localhost", Addr: netip.MustParseAddr("192.0.2.1"), TLS: true}
	if got := r.PreAuthFeatures(p); len(got) != 0 {
		t.Fatalf("empty registry offers %v", got)
	}
	h := func(context.Context, PreAuth, stanza.IQ) (*stanza.Element, error) { return nil, nil }
	r.PreAuthIQ(stanza.Get, "jabber:iq:register", "query", h)
	if r.LookupPreAuthIQ(stanza.Get, "jabber:iq:register", "query") == nil {
		t.Error("get handler not found")
	}
	if r.LookupPreAuthIQ(stanza.Set, "jabber:iq:register", "query") != nil {
		t.Error("set found without registration")
	}
	mustPanic(t, "duplicate pre-auth iq", func() { r.PreAuthIQ(stanza.Get, "jabber:iq:register", "query", h) })
	r.PreAuthFeature(func(p PreAuth) *stanza.Element {
		if !p.TLS {
			return nil
		}
		return stanza.New("http://jabber.org/features/iq-register", "register")
	})
	if got := r.PreAuthFeatures(p); len(got) != 1 || got[0].Local != "register" {
		t.Errorf("features with TLS = %v", got)
	}
	p.TLS = false
	if got := r.PreAuthFeatures(p); len(got) != 0 {
		t.Errorf("features without TLS = %v", got)
	}
}

func TestAfterReply(t *testing.T) {
	var order []string
	var sc Scope
	ctx := WithScope(context.Background(), &sc)
	AfterReply(ctx, func() { order = append(order, "first") })
	AfterReply(ctx, func() { order = append(order, "second") })
	order = append(order, "reply")
	sc.Run()
	sc.Run() // already run: nothing again
	if want := []string{"reply", "first", "second"}; !slices.Equal(order, want) {
		t.Errorf("order = %v, want %v", order, want)
	}
	// Without a scope the work happens at once.
	ran := false
	AfterReply(context.Background(), func() { ran = true })
	if !ran {
		t.Error("AfterReply without a scope did not run")
	}
}

// fakeConn checks that a comparable session type satisfies Conn.
type fakeConn struct{ j jid.JID }

func (c *fakeConn) JID() jid.JID                  { return c.j }
func (c *fakeConn) Deliver(*stanza.Element) error { return nil }
func (c *fakeConn) Close(string, string)          {}

func TestConnAsMapKey(t *testing.T) {
	j := jid.MustParse("a@localhost/r")
	old, repl := &fakeConn{j}, &fakeConn{j}
	m := map[Conn]int{old: 1, repl: 2}
	delete(m, Conn(old))
	if m[repl] != 2 || len(m) != 1 {
		t.Errorf("sessions with the same JID share state: %v", m)
	}
}
