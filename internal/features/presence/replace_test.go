package presence_test

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"

	"github.com/parleyim/parley/internal/account"
	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/features/presence"
	"github.com/parleyim/parley/internal/features/roster"
	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/storage/storagetest"
)

// fakeSession is a bound session of fakeHost.
type fakeSession struct {
	j         jid.JID
	available bool
}

func (s *fakeSession) JID() jid.JID                  { return s.j }
func (s *fakeSession) Deliver(*stanza.Element) error { return nil }
func (s *fakeSession) Close(string, string)          {}
func (s *fakeSession) Presence() (bool, int)         { return s.available, 0 }

type delivery struct {
	to jid.JID
	el *stanza.Element
}

// fakeHost is a module.Host with a session table the test drives and a
// record of what was delivered.
type fakeHost struct {
	mu    sync.Mutex
	bound map[jid.JID]*fakeSession
	got   []delivery
}

func (h *fakeHost) IsLocal(domain string) bool { return domain == "localhost" }
func (h *fakeHost) AccountExists(_ context.Context, bare jid.JID) (bool, error) {
	return bare.Local() != "" && h.IsLocal(bare.Domain()), nil
}
func (h *fakeHost) Session(full jid.JID) module.Session {
	h.mu.Lock()
	defer h.mu.Unlock()
	if s := h.bound[full]; s != nil {
		return s
	}
	return nil
}
func (h *fakeHost) Sessions(bare jid.JID) []module.Session {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []module.Session
	for j, s := range h.bound {
		if j.Bare() == bare {
			out = append(out, s)
		}
	}
	return out
}
func (h *fakeHost) BestResources(jid.JID, string) []module.Session { return nil }
func (h *fakeHost) Deliver(_ context.Context, to jid.JID, el *stanza.Element) {
	h.mu.Lock()
	h.got = append(h.got, delivery{to, el})
	h.mu.Unlock()
}
func (h *fakeHost) AddService(string, module.Service) { panic("not used") }

var _ module.Host = (*fakeHost)(nil)

// TestReplacedSessionClosesLate drives the presence and roster modules
// through a resource replaced at the same full JID (RFC 6120 §7.7.2.2),
// with the old session's end seen before or after the new session's
// initial presence. Bob, subscribed to alice, must end up with alice/r
// available with the new status: an unavailable presence for the old
// session only while the new one is not available yet.
func TestReplacedSessionClosesLate(t *testing.T) {
	for _, tc := range []struct {
		name       string
		closeFirst bool     // the old session's end is seen before the new presence
		want       []string // what bob gets from alice/r: status, or "unavailable"
	}{
		{"old session ends first", true, []string{"first", "unavailable", "second"}},
		{"old session ends after the new presence", false, []string{"first", "second"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			db := storagetest.Open(t, "sqlite")
			alice, bob := jid.MustParse("alice@localhost"), jid.MustParse("bob@localhost")
			for _, u := range []jid.JID{alice, bob} {
				if err := account.NewStore(db, 4096).Create(ctx, u, pw); err != nil {
					t.Fatal(err)
				}
			}
			if err := roster.NewStore(db).Update(ctx, func(tx *roster.Tx) error {
				if err := tx.PutState(alice, bob, roster.State{Sub: roster.SubBoth}); err != nil {
					return err
				}
				return tx.PutState(bob, alice, roster.State{Sub: roster.SubBoth})
			}); err != nil {
				t.Fatal(err)
			}
			log := slog.New(slog.NewTextHandler(io.Discard, nil))
			h := &fakeHost{bound: map[jid.JID]*fakeSession{}}
			rosters := roster.New(roster.Deps{Log: log, DB: db, Host: h, Limits: config.Default().Roster})
			reg := module.NewRegistry()
			rosters.Register(reg)
			presence.New(presence.Deps{Log: log, DB: db, Host: h, Roster: rosters}).Register(reg)

			bind := func(s *fakeSession) {
				h.mu.Lock()
				h.bound[s.j] = s
				h.mu.Unlock()
				if err := reg.Notify(ctx, module.SessionBound, &module.Event{From: s.j, Session: s.j, Conn: s}); err != nil {
					t.Fatal(err)
				}
			}
			announce := func(s *fakeSession, status string) {
				s.available = true
				el := stanza.New(stanza.NSClient, stanza.KindPresence).SetAttr("from", s.j.String()).
					Append(stanza.New(stanza.NSClient, "status").AppendText(status))
				if _, err := reg.RunHooks(ctx, module.InboundPresence, &module.Event{From: s.j, Stanza: el}); err != nil {
					t.Fatal(err)
				}
			}
			closed := func(s *fakeSession) {
				if err := reg.Notify(ctx, module.SessionClosed, &module.Event{From: s.j, Session: s.j, Conn: s}); err != nil {
					t.Fatal(err)
				}
			}

			bobS := &fakeSession{j: jid.MustParse("bob@localhost/b")}
			bind(bobS)
			announce(bobS, "bob here")
			full := jid.MustParse("alice@localhost/r")
			old, repl := &fakeSession{j: full}, &fakeSession{j: full}
			bind(old)
			announce(old, "first")
			bind(repl) // replaces old in the session table
			if tc.closeFirst {
				closed(old)
				announce(repl, "second")
			} else {
				announce(repl, "second")
				closed(old)
			}

			var got []string
			h.mu.Lock()
			for _, d := range h.got {
				if d.to == bobS.j && d.el.Attr("from") == full.String() {
					if typ := d.el.Attr("type"); typ != "" {
						got = append(got, typ)
					} else {
						got = append(got, d.el.ChildText(stanza.NSClient, "status"))
					}
				}
			}
			h.mu.Unlock()
			if !slices.Equal(got, tc.want) {
				t.Fatalf("bob got from alice/r %q, want %q", got, tc.want)
			}
		})
	}
}
