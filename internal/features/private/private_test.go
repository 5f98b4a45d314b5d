package private_test

import (
	"strings"
	"testing"

	"github.com/parleyim/parley/internal/xmpptest"
)

type step struct {
	name     string
	c        *xmpptest.Client
	iq       string
	wantType string
	want     []string // substrings of the response
	not      []string // strings the response must not contain
}

func TestPrivateStorage(t *testing.T) {
	srv := xmpptest.Start(t)
	srv.AddUser(t, "alice@localhost", "pw")
	srv.AddUser(t, "bob@localhost", "pw")
	alice := srv.Dial(t, "alice@localhost", "pw", xmpptest.DialOptions{})
	bob := srv.Dial(t, "bob@localhost", "pw", xmpptest.DialOptions{})
	big := `<blob xmlns='urn:example:big'>` + strings.Repeat("y", 65<<10) + `</blob>`
	steps := []step{
		{"nothing stored: the empty element", alice, `<iq type='get' id='p'><query xmlns='jabber:iq:private'><exodus xmlns='exodus:prefs'/></query></iq>`,
			"result", []string{`<exodus xmlns="exodus:prefs"`}, []string{"defaultnick"}},
		{"set", alice, `<iq type='set' id='p'><query xmlns='jabber:iq:private'><exodus xmlns='exodus:prefs'><defaultnick>Hamlet</defaultnick></exodus></query></iq>`, "result", nil, nil},
		{"get", alice, `<iq type='get' id='p'><query xmlns='jabber:iq:private'><exodus xmlns='exodus:prefs'/></query></iq>`,
			"result", []string{"<defaultnick", "Hamlet"}, nil},
		{"set two namespaces at once", alice, `<iq type='set' id='p' to='alice@localhost'><query xmlns='jabber:iq:private'>` +
			`<storage xmlns='storage:bookmarks'><conference jid='room@muc.localhost' autojoin='true'/></storage>` +
			`<storage xmlns='storage:rosternotes'><note jid='bob@localhost'>nice</note></storage></query></iq>`, "result", nil, nil},
		{"get one of them", alice, `<iq type='get' id='p'><query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'/></query></iq>`,
			"result", []string{"room@muc.localhost", `autojoin="true"`}, []string{"nice"}},
		{"same name, other namespace", alice, `<iq type='get' id='p'><query xmlns='jabber:iq:private'><storage xmlns='storage:rosternotes'/></query></iq>`,
			"result", []string{"nice"}, []string{"room@muc"}},
		{"replace", alice, `<iq type='set' id='p'><query xmlns='jabber:iq:private'><exodus xmlns='exodus:prefs'><defaultnick>Ophelia</defaultnick></exodus></query></iq>`, "result", nil, nil},
		{"replaced", alice, `<iq type='get' id='p'><query xmlns='jabber:iq:private'><exodus xmlns='exodus:prefs'/></query></iq>`,
			"result", []string{"Ophelia"}, []string{"Hamlet"}},
		{"another user's data: forbidden", bob, `<iq type='get' id='p' to='alice@localhost'><query xmlns='jabber:iq:private'><exodus xmlns='exodus:prefs'/></query></iq>`,
			"error", []string{"forbidden"}, []string{"Ophelia"}},
		{"set another user's: forbidden", bob, `<iq type='set' id='p' to='alice@localhost'><query xmlns='jabber:iq:private'><exodus xmlns='exodus:prefs'><defaultnick>Macbeth</defaultnick></exodus></query></iq>`,
			"error", []string{"forbidden"}, nil},
		{"users are separate", bob, `<iq type='get' id='p'><query xmlns='jabber:iq:private'><exodus xmlns='exodus:prefs'/></query></iq>`,
			"result", []string{"exodus:prefs"}, []string{"Ophelia"}},
		{"no child: not-acceptable", alice, `<iq type='get' id='p'><query xmlns='jabber:iq:private'/></iq>`, "error", []string{"not-acceptable"}, nil},
		{"set no child: not-acceptable", alice, `<iq type='set' id='p'><query xmlns='jabber:iq:private'/></iq>`, "error", []string{"not-acceptable"}, nil},
		{"two namespaces in a get: bad-request", alice, `<iq type='get' id='p'><query xmlns='jabber:iq:private'><a xmlns='urn:a'/><b xmlns='urn:b'/></query></iq>`, "error", []string{"bad-request"}, nil},
		{"too big: not-acceptable", alice, `<iq type='set' id='p'><query xmlns='jabber:iq:private'>` + big + `</query></iq>`, "error", []string{"not-acceptable"}, nil},
		{"unknown user", alice, `<iq type='get' id='p' to='nobody@localhost'><query xmlns='jabber:iq:private'><exodus xmlns='exodus:prefs'/></query></iq>`, "error", []string{"service-unavailable"}, nil},
	}
	for _, ns := range []string{"jabber:client", "jabber:server", "jabber:iq:roster", "http://jabber.org/protocol/muc", "vcard-temp", "jabber:iq:private"} {
		for _, typ := range []string{"get", "set"} {
			steps = append(steps, step{"reserved " + ns + " " + typ, alice, `<iq type='` + typ + `' id='p'><query xmlns='jabber:iq:private'><x xmlns='` + ns + `'/></query></iq>`, "error", []string{"not-acceptable"}, nil})
		}
	}
	steps = append(steps, step{"child in the query's namespace", alice, `<iq type='set' id='p'><query xmlns='jabber:iq:private'><x/></query></iq>`, "error", []string{"not-acceptable"}, nil})
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			res := st.c.IQ(t, st.iq)
			if res.Attr("type") != st.wantType {
				t.Fatalf("type %s, want %s: %s", res.Attr("type"), st.wantType, res.Inner)
			}
			for _, w := range st.want {
				if !strings.Contains(res.Inner, w) {
					t.Errorf("response lacks %q: %s", w, res.Inner)
				}
			}
			for _, w := range st.not {
				if strings.Contains(res.Inner, w) {
					t.Errorf("response has %q: %s", w, res.Inner)
				}
			}
		})
	}
	// It lasts beyond the session.
	alice.Close()
	again := srv.Dial(t, "alice@localhost", "pw", xmpptest.DialOptions{})
	res := again.IQ(t, `<iq type='get' id='p'><query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'/></query></iq>`)
	if !strings.Contains(res.Inner, "room@muc.localhost") {
		t.Fatalf("after re-login: %s", res.Inner)
	}
}
