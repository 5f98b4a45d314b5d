package router_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/router"
	"github.com/parleyim/parley/internal/stanza"
)

// fakeSession records what the router delivers.
type fakeSession struct {
	jid       jid.JID
	available bool
	priority  int
	mu        sync.Mutex
	got       []*stanza.Element
	closed    string
}

func (f *fakeSession) JID() jid.JID { return f.jid }
func (f *fakeSession) Deliver(el *stanza.Element) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.got = append(f.got, el)
	return nil
}
func (f *fakeSession) Presence() (bool, int)   { return f.available, f.priority }
func (f *fakeSession) Close(cond, text string) { f.closed = cond }
func (f *fakeSession) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.got)
}

type env struct {
	r        *router.Router
	reg      *module.Registry
	sessions map[string]*fakeSession
	offline  int
}

func newEnv(t *testing.T, sessions ...*fakeSession) *env {
	t.Helper()
	reg := module.NewRegistry()
	e := &env{reg: reg, sessions: map[string]*fakeSession{}}
	e.r = router.New(slog.New(slog.NewTextHandler(io.Discard, nil)), reg, []string{"localhost"})
	e.r.UserExists = func(_ context.Context, b jid.JID) (bool, error) { return b.Local() != "nobody", nil }
	reg.Hook(module.Offline, 0, func(context.Context, *module.Event) (bool, error) {
		e.offline++
		return true, nil
	})
	for _, s := range sessions {
		e.r.Bind(s)
		e.sessions[s.jid.String()] = s
	}
	return e
}

func sess(full string, available bool, prio int) *fakeSession {
	return &fakeSession{jid: jid.MustParse(full), available: available, priority: prio}
}

func msg(to, typ string) *stanza.Element {
	el := stanza.New(stanza.NSClient, "message").SetAttr("to", to)
	if typ != "" {
		el.SetAttr("type", typ)
	}
	return el.Append(stanza.New(stanza.NSClient, "body").AppendText("hi"))
}

// TestMessageDeliveryRules is the RFC 6121 §8.5 table for local
// recipients: which sessions get the message, whether it goes offline, and
// which error the sender gets.
func TestMessageDeliveryRules(t *testing.T) {
	from := jid.MustParse("alice@localhost/a")
	cases := []struct {
		name     string
		sessions []*fakeSession
		to, typ  string
		want     []string // full JIDs that receive it
		offline  bool
		errCond  string
	}{
		{"full JID, online", []*fakeSession{sess("bob@localhost/x", true, 0)}, "bob@localhost/x", "chat", []string{"bob@localhost/x"}, false, ""},
		{"full JID, bound but not available still gets it", []*fakeSession{sess("bob@localhost/x", false, 0)}, "bob@localhost/x", "chat", []string{"bob@localhost/x"}, false, ""},
		{"bare JID, highest priority wins", []*fakeSession{sess("bob@localhost/x", true, 1), sess("bob@localhost/y", true, 5)}, "bob@localhost", "chat", []string{"bob@localhost/y"}, false, ""},
		{"bare JID, equal priorities all get it", []*fakeSession{sess("bob@localhost/x", true, 3), sess("bob@localhost/y", true, 3)}, "bob@localhost", "normal", []string{"bob@localhost/x", "bob@localhost/y"}, false, ""},
		{"bare JID, negative priority never", []*fakeSession{sess("bob@localhost/x", true, -1)}, "bob@localhost", "chat", nil, true, ""},
		{"bare JID, unavailable resource skipped", []*fakeSession{sess("bob@localhost/x", false, 0)}, "bob@localhost", "chat", nil, true, ""},
		{"bare JID, nobody online: offline", nil, "bob@localhost", "chat", nil, true, ""},
		{"bare JID, nobody online, headline dropped", nil, "bob@localhost", "headline", nil, false, ""},
		{"bare JID, nobody online, groupchat bounced", nil, "bob@localhost", "groupchat", nil, false, stanza.ServiceUnavailable},
		{"bare JID, groupchat never delivered", []*fakeSession{sess("bob@localhost/x", true, 0)}, "bob@localhost", "groupchat", nil, false, stanza.ServiceUnavailable},
		{"bare JID, headline to all non-negative", []*fakeSession{sess("bob@localhost/x", true, 1), sess("bob@localhost/y", true, 5), sess("bob@localhost/z", true, -1)}, "bob@localhost", "headline", []string{"bob@localhost/x", "bob@localhost/y"}, false, ""},
		{"absent full JID, chat falls back to bare", []*fakeSession{sess("bob@localhost/x", true, 0)}, "bob@localhost/gone", "chat", []string{"bob@localhost/x"}, false, ""},
		{"absent full JID, chat offline", nil, "bob@localhost/gone", "chat", nil, true, ""},
		{"absent full JID, normal bounced", []*fakeSession{sess("bob@localhost/x", true, 0)}, "bob@localhost/gone", "normal", nil, false, stanza.ServiceUnavailable},
		{"absent full JID, no type is normal", nil, "bob@localhost/gone", "", nil, false, stanza.ServiceUnavailable},
		{"absent full JID, groupchat bounced", nil, "bob@localhost/gone", "groupchat", nil, false, stanza.ServiceUnavailable},
		{"absent full JID, headline dropped", nil, "bob@localhost/gone", "headline", nil, false, ""},
		{"absent full JID, error dropped", nil, "bob@localhost/gone", "error", nil, false, ""},
		{"unknown user bounced", nil, "nobody@localhost", "chat", nil, false, stanza.ServiceUnavailable},
		{"unknown user, error never bounced", nil, "nobody@localhost", "error", nil, false, ""},
		{"remote domain", nil, "bob@example.org", "chat", nil, false, stanza.RemoteServerNotFound},
		{"malformed to", nil, "bob@local host", "chat", nil, false, stanza.JIDMalformed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.sessions...)
			err := e.r.Route(context.Background(), from, msg(tc.to, tc.typ))
			checkErr(t, err, tc.errCond)
			for name, s := range e.sessions {
				want := 0
				for _, w := range tc.want {
					if w == name {
						want = 1
					}
				}
				if s.count() != want {
					t.Errorf("%s got %d, want %d", name, s.count(), want)
				}
			}
			if (e.offline == 1) != tc.offline {
				t.Errorf("offline stored = %d, want %v", e.offline, tc.offline)
			}
		})
	}
}

func checkErr(t *testing.T, err error, cond string) {
	t.Helper()
	if cond == "" {
		if err != nil {
			t.Fatalf("unexpected error %v", err)
		}
		return
	}
	var se *stanza.Error
	if !errors.As(err, &se) || se.Condition != cond {
		t.Fatalf("error = %v, want %s", err, cond)
	}
}

func iq(typ, to string, payloads ...*stanza.Element) *stanza.Element {
	el := stanza.New(stanza.NSClient, "iq").SetAttr("type", typ).SetAttr("id", "i1")
	if to != "" {
		el.SetAttr("to", to)
	}
	return el.Append(payloads...)
}

func TestIQDispatch(t *testing.T) {
	from := jid.MustParse("alice@localhost/a")
	ping := func() *stanza.Element { return stanza.New("urn:xmpp:ping", "ping") }
	cases := []struct {
		name    string
		el      *stanza.Element
		errCond string
		replied bool
	}{
		{"server handler", iq("get", "localhost", ping()), "", true},
		{"no to: own account first", iq("get", "", ping()), "", true},
		{"nobody registered", iq("get", "localhost", stanza.New("urn:x", "q")), stanza.ServiceUnavailable, false},
		{"set with no handler", iq("set", "localhost", ping()), stanza.ServiceUnavailable, false},
		{"no payload", iq("get", "localhost"), stanza.BadRequest, false},
		{"two payloads", iq("get", "localhost", ping(), ping()), stanza.BadRequest, false},
		{"bad type", iq("fetch", "localhost", ping()), stanza.BadRequest, false},
		{"result to server consumed", iq("result", "localhost"), "", false},
		{"error to server consumed", iq("error", "localhost"), "", false},
		{"handler error becomes the reply", iq("get", "localhost", stanza.New("urn:fail", "q")), stanza.ItemNotFound, false},
		{"handler crash becomes internal-server-error", iq("get", "localhost", stanza.New("urn:oops", "q")), stanza.InternalServerError, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			alice := sess("alice@localhost/a", true, 0)
			e := newEnv(t, alice)
			e.reg.IQ(module.Server, stanza.Get, "urn:xmpp:ping", "ping", func(context.Context, stanza.IQ) (*stanza.Element, error) { return nil, nil })
			e.reg.IQ(module.Server, stanza.Get, "urn:fail", "q", func(context.Context, stanza.IQ) (*stanza.Element, error) {
				return nil, stanza.NewError(stanza.ItemNotFound)
			})
			e.reg.IQ(module.Server, stanza.Get, "urn:oops", "q", func(context.Context, stanza.IQ) (*stanza.Element, error) {
				return nil, errors.New("disk on fire")
			})
			err := e.r.Route(context.Background(), from, tc.el)
			checkErr(t, err, tc.errCond)
			if got := alice.count() == 1; got != tc.replied {
				t.Fatalf("replied = %v, want %v", got, tc.replied)
			}
			if tc.replied && alice.got[0].Attr("type") != "result" {
				t.Fatalf("reply %s", alice.got[0])
			}
		})
	}
}

func TestBindReplacesAndUnbind(t *testing.T) {
	e := newEnv(t)
	a := sess("bob@localhost/x", true, 0)
	b := sess("bob@localhost/x", true, 0)
	if old := e.r.Bind(a); old != nil {
		t.Fatal("first bind returned an old session")
	}
	if old := e.r.Bind(b); old != a {
		t.Fatal("second bind did not return the replaced session")
	}
	if n := len(e.r.Sessions(jid.MustParse("bob@localhost"))); n != 1 {
		t.Fatalf("sessions = %d", n)
	}
	e.r.Unbind(a) // stale: must not remove b
	if e.r.Session(jid.MustParse("bob@localhost/x")) != b {
		t.Fatal("unbinding the replaced session removed the new one")
	}
	e.r.Unbind(b)
	if e.r.Count() != 0 {
		t.Fatal("session left after unbind")
	}
}

func TestFilterHookDrops(t *testing.T) {
	bob := sess("bob@localhost/x", true, 0)
	e := newEnv(t, bob)
	e.reg.Hook(module.Filter, 0, func(_ context.Context, ev *module.Event) (bool, error) {
		return ev.From.Local() == "mallory", nil
	})
	e.r.Route(context.Background(), jid.MustParse("mallory@localhost/m"), msg("bob@localhost/x", "chat"))
	e.r.Route(context.Background(), jid.MustParse("alice@localhost/a"), msg("bob@localhost/x", "chat"))
	if bob.count() != 1 {
		t.Fatalf("bob got %d messages, want only alice's", bob.count())
	}
}

func BenchmarkRouteChatFullJID(b *testing.B) {
	reg := module.NewRegistry()
	r := router.New(slog.New(slog.NewTextHandler(io.Discard, nil)), reg, []string{"localhost"})
	r.Bind(&nopSession{jid: jid.MustParse("bob@localhost/x")})
	from := jid.MustParse("alice@localhost/a")
	el := msg("bob@localhost/x", "chat")
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if err := r.Route(ctx, from, el); err != nil {
			b.Fatal(err)
		}
	}
}

type nopSession struct{ jid jid.JID }

func (n *nopSession) JID() jid.JID                  { return n.jid }
func (n *nopSession) Deliver(*stanza.Element) error { return nil }
func (n *nopSession) Presence() (bool, int)         { return true, 0 }
func (n *nopSession) Close(string, string)          {}
