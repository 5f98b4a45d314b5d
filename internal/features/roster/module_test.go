package roster_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/features/roster"
	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/router"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/storage"
)

// conn is a bound session as hooks see it.
type conn struct{ j jid.JID }

func (c *conn) JID() jid.JID                  { return c.j }
func (c *conn) Deliver(*stanza.Element) error { return nil }
func (c *conn) Close(string, string)          {}

// newModule returns a roster module over db, registered in a new
// registry with a real router as its host.
func newModule(db *storage.DB) (*roster.Module, *module.Registry) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	reg := module.NewRegistry()
	m := roster.New(roster.Deps{Log: log, DB: db, Host: router.New(log, reg, []string{"localhost"}), Limits: config.Default().Roster})
	m.Register(reg)
	return m, reg
}

// TestReplacedSessionKeepsRoster: a session that replaces another at the
// same full JID (RFC 6120 §7.7.2.2) keeps the roster cached when the old
// one's close is seen after the new one's bind.
func TestReplacedSessionKeepsRoster(t *testing.T) {
	ctx := context.Background()
	_, db := newTestStore(t, "sqlite", "alice@localhost")
	m, reg := newModule(db)
	full := jid.MustParse("alice@localhost/r")
	old, repl := &conn{full}, &conn{full}
	for _, step := range []struct {
		kind module.HookKind
		c    *conn
	}{{module.SessionBound, old}, {module.SessionBound, repl}, {module.SessionClosed, old}} {
		if err := reg.Notify(ctx, step.kind, &module.Event{Session: full, From: full, Conn: step.c}); err != nil {
			t.Fatal(err)
		}
	}
	if m.Cached(alice) == nil {
		t.Fatal("the replacing session's roster was dropped when the old session closed")
	}
	if err := reg.Notify(ctx, module.SessionClosed, &module.Event{Session: full, From: full, Conn: repl}); err != nil {
		t.Fatal(err)
	}
	if m.Cached(alice) != nil {
		t.Fatal("roster still cached with no session bound")
	}
}

func TestSubscribed(t *testing.T) {
	ctx := context.Background()
	st, db := newTestStore(t, "sqlite", "alice@localhost", "bob@localhost")
	m, _ := newModule(db)
	carol := jid.MustParse("carol@localhost")
	if err := st.Update(ctx, func(tx *roster.Tx) error {
		if err := tx.PutState(alice, bob, roster.State{Sub: roster.SubFrom}); err != nil {
			return err
		}
		return tx.PutState(alice, carol, roster.State{Sub: roster.SubTo})
	}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name             string
		owner, requester jid.JID
		want             bool
	}{
		{"self, any resource", alice, jid.MustParse("alice@localhost/r"), true},
		{"subscriber", alice, jid.MustParse("bob@localhost/phone"), true},
		{"only 'to'", alice, carol, false},
		{"stranger", alice, jid.MustParse("dave@localhost"), false},
		{"the other way round", bob, alice, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := m.Subscribed(ctx, tc.owner, tc.requester)
			if err != nil || got != tc.want {
				t.Fatalf("Subscribed = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

// TestCacheStaysCurrent binds and unbinds sessions while subscriptions are
// written, then checks that the cached roster equals the stored one.
func TestCacheStaysCurrent(t *testing.T) {
	ctx := context.Background()
	st, db := newTestStore(t, "sqlite", "alice@localhost")
	m, reg := newModule(db)
	const writes = 150
	done := make(chan error, 1)
	go func() {
		for i := range writes {
			c := jid.MustParse(fmt.Sprintf("c%d@remote.example", i))
			if _, err := m.Subscribe(ctx, alice, c, roster.TypeSubscribe, nil, true, false); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	full := jid.MustParse("alice@localhost/r")
	for writing := true; writing; {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			writing = false
		default:
		}
		ev := &module.Event{Session: full, From: full, Conn: &conn{full}}
		if err := reg.Notify(ctx, module.SessionBound, ev); err != nil {
			t.Fatal(err)
		}
		if writing {
			reg.Notify(ctx, module.SessionClosed, ev)
		}
	}
	items, _, err := st.Load(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	v := m.Cached(alice)
	if v == nil {
		t.Fatal("alice's roster is not cached while a session is bound")
	}
	if v.Len() != len(items) || len(items) != writes {
		t.Fatalf("cached %d items, stored %d, want %d", v.Len(), len(items), writes)
	}
	for j, it := range items {
		if got, ok := v.Lookup(j); !ok || got.State != it.State {
			t.Fatalf("%s: cached %+v, stored %+v", j, got, it)
		}
	}
}
