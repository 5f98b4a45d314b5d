package blocking

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/parleyim/parley/internal/account"
	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/router"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/storage/storagetest"
)

func TestMatching(t *testing.T) {
	tests := []struct {
		name  string
		items []string
		jid   string
		want  bool
	}{
		{"empty list", nil, "a@b/c", false},
		{"full matches only that resource", []string{"a@b/c"}, "a@b/c", true},
		{"full does not match other resource", []string{"a@b/c"}, "a@b/d", false},
		{"full does not match bare", []string{"a@b/c"}, "a@b", false},
		{"bare matches any resource", []string{"a@b"}, "a@b/x", true},
		{"bare matches bare", []string{"a@b"}, "a@b", true},
		{"bare does not match other user", []string{"a@b"}, "z@b", false},
		{"domain/resource", []string{"b/r"}, "b/r", true},
		{"domain/resource also covers user@domain/resource (the XEP-0016 reduction)", []string{"b/r"}, "a@b/r", true},
		{"domain/resource not another resource", []string{"b/r"}, "a@b/s", false},
		{"domain matches users", []string{"b"}, "a@b/x", true},
		{"domain matches itself", []string{"b"}, "b", true},
		{"domain matches subdomains", []string{"example.org"}, "u@muc.example.org/nick", true},
		{"domain does not match suffix look-alikes", []string{"example.org"}, "u@badexample.org", false},
		{"subdomain does not match parent", []string{"muc.example.org"}, "u@example.org", false},
		{"case folded", []string{"Alice@Example.ORG"}, "alice@example.org/r", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var items []jid.JID
			for _, s := range tt.items {
				items = append(items, jid.MustParse(s))
			}
			if got := newList(items).matches(jid.MustParse(tt.jid)); got != tt.want {
				t.Errorf("matches(%s) = %v, want %v", tt.jid, got, tt.want)
			}
		})
	}
	l := newList([]jid.JID{jid.MustParse("a@b"), jid.MustParse("c@d")})
	if got := l.without([]jid.JID{jid.MustParse("a@b")}); got.matches(jid.MustParse("a@b")) || !got.matches(jid.MustParse("c@d")) {
		t.Error("without")
	}
	if got := l.with([]jid.JID{jid.MustParse("a@b"), jid.MustParse("e@f")}); len(got.items) != 3 {
		t.Errorf("with: %v", got.items)
	}
}

func newModule(tb testing.TB, users ...string) (*Module, *module.Registry) {
	tb.Helper()
	db := storagetest.Open(tb, "sqlite")
	for _, u := range users {
		if err := account.NewStore(db, storagetest.Iterations).Create(context.Background(), jid.MustParse(u), "pw"); err != nil {
			tb.Fatal(err)
		}
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	reg := module.NewRegistry()
	m := New(Config{DB: db, Host: router.New(log, reg, []string{"localhost"}), Log: log})
	m.Register(reg)
	return m, reg
}

// TestFilter runs the Filter hook through the registry, as the router
// does before each delivery.
func TestFilter(t *testing.T) {
	ctx := context.Background()
	m, reg := newModule(t, "alice@localhost", "bob@localhost", "carol@localhost")
	alice := jid.MustParse("alice@localhost")
	if err := m.change(ctx, alice, []jid.JID{jid.MustParse("bob@localhost"), jid.MustParse("evil.example")}, true); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, from, to string
		drop           bool
	}{
		{"blocked contact to user", "bob@localhost/x", "alice@localhost/a", true},
		{"user to blocked contact (presence broadcast)", "alice@localhost/a", "bob@localhost/x", true},
		{"user's bare JID to blocked contact", "alice@localhost", "bob@localhost/x", true},
		{"blocked domain to user", "mallory@evil.example/r", "alice@localhost/a", true},
		{"other contact to user", "carol@localhost/c", "alice@localhost/a", false},
		{"blocked contact to someone else", "bob@localhost/x", "carol@localhost/c", false},
		{"server to user", "localhost", "alice@localhost/a", false},
		{"own resources", "alice@localhost/b", "alice@localhost/a", false},
		{"no sender", "", "alice@localhost/a", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var from jid.JID
			if tt.from != "" {
				from = jid.MustParse(tt.from)
			}
			ev := &module.Event{From: from, To: jid.MustParse(tt.to), Stanza: stanza.New(stanza.NSClient, "message")}
			drop, err := reg.RunHooks(ctx, module.Filter, ev)
			if err != nil || drop != tt.drop {
				t.Errorf("drop = %v, %v; want %v", drop, err, tt.drop)
			}
		})
	}
	if b, err := m.Blocks(ctx, alice, jid.MustParse("bob@localhost/any")); err != nil || !b {
		t.Errorf("Blocks = %v, %v", b, err)
	}
}

// TestCacheCoherent checks that the cache follows the store: a fresh
// module (another process, or after eviction) sees the same list, and
// eviction after the last session reloads it.
func TestCacheCoherent(t *testing.T) {
	ctx := context.Background()
	m, _ := newModule(t, "alice@localhost")
	alice := jid.MustParse("alice@localhost")
	bob := jid.MustParse("bob@localhost")
	steps := []struct {
		name  string
		do    func() error
		block bool
	}{
		{"block", func() error { return m.change(ctx, alice, []jid.JID{bob}, true) }, true},
		{"unblock", func() error { return m.change(ctx, alice, []jid.JID{bob}, false) }, false},
		{"block again", func() error { return m.change(ctx, alice, []jid.JID{bob}, true) }, true},
		{"unblock all", func() error { return m.change(ctx, alice, nil, false) }, false},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		cached, _ := m.Blocks(ctx, alice, bob)
		m.cacheMu.Lock()
		delete(m.lists, alice)
		m.cacheMu.Unlock()
		stored, err := m.Blocks(ctx, alice, bob)
		if err != nil || cached != st.block || stored != st.block {
			t.Errorf("%s: cached %v, stored %v (%v); want %v", st.name, cached, stored, err, st.block)
		}
	}
}

func TestListLimit(t *testing.T) {
	ctx := context.Background()
	m, _ := newModule(t, "alice@localhost")
	m.cfg.MaxItems = 2
	alice := jid.MustParse("alice@localhost")
	if err := m.change(ctx, alice, []jid.JID{jid.MustParse("a@x"), jid.MustParse("b@x")}, true); err != nil {
		t.Fatal(err)
	}
	err := m.change(ctx, alice, []jid.JID{jid.MustParse("c@x")}, true)
	if se, ok := err.(*stanza.Error); !ok || se.Condition != stanza.ResourceConstraint {
		t.Fatalf("third item: %v", err)
	}
	if b, _ := m.Blocks(ctx, alice, jid.MustParse("c@x")); b {
		t.Error("refused item blocked anyway")
	}
}
