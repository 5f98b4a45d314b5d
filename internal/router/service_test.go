package router_test

import (
	"context"
	"sync"
	"testing"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/stanza"
)

// fakeService records what the router hands it.
type fakeService struct {
	mu   sync.Mutex
	got  []string // "kind from to"
	fail *stanza.Error
}

func (f *fakeService) Route(_ context.Context, from, to jid.JID, el *stanza.Element) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.got = append(f.got, el.Local+" "+from.String()+" "+to.String())
	if f.fail != nil {
		return f.fail
	}
	return nil
}

// TestServiceRouting: stanzas to a service domain (and JIDs on it) go to
// the service after the inbound hooks, from clients (Route) and from the
// server (Deliver); the service's error is the sender's bounce for
// messages and iqs, dropped for presence; the domain stays non-local.
func TestServiceRouting(t *testing.T) {
	alice := jid.MustParse("alice@localhost/a")
	pres := func(to string) *stanza.Element {
		return stanza.New(stanza.NSClient, "presence").SetAttr("to", to)
	}
	cases := []struct {
		name    string
		el      *stanza.Element
		fail    *stanza.Error
		want    string
		errCond string
	}{
		{"message to room", msg("room@conference.localhost", "groupchat"), nil, "message alice@localhost/a room@conference.localhost", ""},
		{"presence to occupant", pres("room@conference.localhost/nick"), nil, "presence alice@localhost/a room@conference.localhost/nick", ""},
		{"iq to service domain", iq("get", "conference.localhost", stanza.New("urn:x", "q")), nil, "iq alice@localhost/a conference.localhost", ""},
		{"iq result to occupant", iq("result", "room@conference.localhost/nick"), nil, "iq alice@localhost/a room@conference.localhost/nick", ""},
		{"service error bounces a message", msg("room@conference.localhost", "groupchat"), stanza.NewError(stanza.NotAcceptable), "message alice@localhost/a room@conference.localhost", stanza.NotAcceptable},
		{"service error never bounces presence", pres("room@conference.localhost/nick"), stanza.NewError(stanza.Conflict), "presence alice@localhost/a room@conference.localhost/nick", ""},
		{"case-insensitive domain", msg("room@Conference.Localhost", "groupchat"), nil, "message alice@localhost/a room@conference.localhost", ""},
		{"other remote domain unaffected", msg("bob@example.org", "chat"), nil, "", stanza.RemoteServerNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, sess("alice@localhost/a", true, 0))
			svc := &fakeService{fail: tc.fail}
			e.r.AddService("conference.localhost", svc)
			hooked := 0
			for _, k := range []module.HookKind{module.InboundMessage, module.InboundPresence, module.InboundIQ} {
				e.reg.Hook(k, 0, func(context.Context, *module.Event) (bool, error) { hooked++; return false, nil })
			}
			checkErr(t, e.r.Route(context.Background(), alice, tc.el), tc.errCond)
			if tc.want == "" {
				if len(svc.got) != 0 {
					t.Fatalf("service got %v", svc.got)
				}
				return
			}
			if len(svc.got) != 1 || svc.got[0] != tc.want {
				t.Fatalf("service got %v, want %q", svc.got, tc.want)
			}
			if hooked != 1 {
				t.Errorf("inbound hooks ran %d times, want 1", hooked)
			}
		})
	}
}

func TestServiceDeliverAndIsLocal(t *testing.T) {
	e := newEnv(t)
	svc := &fakeService{fail: stanza.NewError(stanza.ItemNotFound)}
	e.r.AddService("conference.localhost", svc)
	if e.r.IsLocal("conference.localhost") || !e.r.IsLocal("localhost") {
		t.Fatal("IsLocal must stay the user domains")
	}
	if e.r.ServiceFor("conference.localhost") != svc || e.r.ServiceFor("localhost") != nil {
		t.Fatal("ServiceFor")
	}
	p := stanza.New(stanza.NSClient, "presence").SetAttr("type", "unavailable").
		SetAttr("from", "alice@localhost/a").SetAttr("to", "room@conference.localhost/nick")
	e.r.Deliver(context.Background(), jid.MustParse("room@conference.localhost/nick"), p) // error only logged
	if len(svc.got) != 1 || svc.got[0] != "presence alice@localhost/a room@conference.localhost/nick" {
		t.Fatalf("service got %v", svc.got)
	}
	for _, d := range []string{"conference.localhost", "localhost"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("AddService(%q) twice did not panic", d)
				}
			}()
			e.r.AddService(d, svc)
		}()
	}
}

// TestDeliverAnswerToAccount: an iq result or error a service generated
// for a bare account JID (the push app server answering a notification
// the server published for the account) reaches the InboundIQ hooks and
// not the account's resources; other stanzas to the bare JID still go to
// the resources.
func TestDeliverAnswerToAccount(t *testing.T) {
	a := sess("alice@localhost/a", true, 0)
	e := newEnv(t, a)
	var hooked []string
	e.reg.Hook(module.InboundIQ, 0, func(_ context.Context, ev *module.Event) (bool, error) {
		hooked = append(hooked, ev.Stanza.Attr("type")+" "+ev.From.String()+" "+ev.To.String())
		return true, nil
	})
	bare := jid.MustParse("alice@localhost")
	for _, typ := range []string{"result", "error"} {
		e.r.Deliver(context.Background(), bare, iq(typ, "alice@localhost").SetAttr("from", "push.localhost"))
	}
	e.r.Deliver(context.Background(), bare, msg("alice@localhost", "headline").SetAttr("from", "localhost"))
	want := []string{"result push.localhost alice@localhost", "error push.localhost alice@localhost"}
	if len(hooked) != 2 || hooked[0] != want[0] || hooked[1] != want[1] {
		t.Errorf("InboundIQ hooks saw %v, want %v", hooked, want)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.got) != 1 || a.got[0].Local != "message" {
		t.Errorf("alice's resource got %v, want the message only", a.got)
	}
}
