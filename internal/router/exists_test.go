package router_test

import (
	"context"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/router"
	"github.com/parleyim/parley/internal/stanza"
)

// TestNoAccountLookupWithSession checks that a message or iq to the bare
// JID of a user with a bound session is routed without asking whether the
// account exists (a database read), and that a user without one is still
// checked.
func TestNoAccountLookupWithSession(t *testing.T) {
	ping := func() *stanza.Element { return stanza.New("urn:xmpp:ping", "ping") }
	cases := []struct {
		name    string
		el      *stanza.Element
		lookups int64
		errCond string
	}{
		{"chat to bare with a session", msg("bob@localhost", "chat"), 0, ""},
		{"normal to bare with a session", msg("bob@localhost", ""), 0, ""},
		{"headline to bare with a session", msg("bob@localhost", "headline"), 0, ""},
		{"chat to absent resource of a user with a session", msg("bob@localhost/gone", "chat"), 0, ""},
		{"iq to bare with a session", iq("get", "bob@localhost", ping()), 0, ""},
		{"chat to bare without a session", msg("carol@localhost", "chat"), 1, ""},
		{"iq to bare without a session", iq("get", "carol@localhost", ping()), 1, ""},
		{"chat to an unknown user", msg("nobody@localhost", "chat"), 1, stanza.ServiceUnavailable},
		{"iq to an unknown user", iq("get", "nobody@localhost", ping()), 1, stanza.ServiceUnavailable},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bob := sess("bob@localhost/x", true, 0)
			e := newEnv(t, bob, sess("alice@localhost/a", true, 0))
			var lookups atomic.Int64
			e.r.UserExists = func(_ context.Context, b jid.JID) (bool, error) {
				lookups.Add(1)
				return b.Local() != "nobody", nil
			}
			e.reg.IQ(module.Account, stanza.Get, "urn:xmpp:ping", "ping", func(context.Context, stanza.IQ) (*stanza.Element, error) { return nil, nil })
			err := e.r.Route(context.Background(), jid.MustParse("alice@localhost/a"), tc.el)
			checkErr(t, err, tc.errCond)
			if n := lookups.Load(); n != tc.lookups {
				t.Errorf("UserExists called %d times, want %d", n, tc.lookups)
			}
		})
	}
}

// TestAccountLookupAfterLastSessionCloses checks that the shortcut ends
// with the user's last session.
func TestAccountLookupAfterLastSessionCloses(t *testing.T) {
	bob := sess("bob@localhost/x", true, 0)
	e := newEnv(t, bob)
	var lookups atomic.Int64
	e.r.UserExists = func(context.Context, jid.JID) (bool, error) { lookups.Add(1); return true, nil }
	from := jid.MustParse("alice@localhost/a")
	if err := e.r.Route(context.Background(), from, msg("bob@localhost", "chat")); err != nil {
		t.Fatal(err)
	}
	e.r.Unbind(bob)
	if err := e.r.Route(context.Background(), from, msg("bob@localhost", "chat")); err != nil {
		t.Fatal(err)
	}
	if n := lookups.Load(); n != 1 {
		t.Errorf("UserExists called %d times, want 1 (only once bob had no session)", n)
	}
	if e.offline != 1 {
		t.Errorf("offline hook ran %d times, want 1", e.offline)
	}
}

// BenchmarkRouteChatBareJID routes a chat message to the bare JID of a
// user with one session; UserExists fails the benchmark if it is asked.
func BenchmarkRouteChatBareJID(b *testing.B) {
	reg := module.NewRegistry()
	r := router.New(slog.New(slog.NewTextHandler(io.Discard, nil)), reg, []string{"localhost"})
	r.UserExists = func(context.Context, jid.JID) (bool, error) {
		b.Fatal("UserExists asked for a user with a session")
		return false, nil
	}
	r.Bind(&nopSession{jid: jid.MustParse("bob@localhost/x")})
	from := jid.MustParse("alice@localhost/a")
	el := msg("bob@localhost", "chat")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := r.Route(ctx, from, el); err != nil {
			b.Fatal(err)
		}
	}
}
