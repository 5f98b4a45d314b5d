package muc_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/xmpptest"
)

const (
	service = "conference.localhost"
	wait    = 10 * time.Second
	quiet   = 300 * time.Millisecond
)

// env is a server with users who each have one connected client.
type env struct {
	srv   *xmpptest.Server
	users map[string]*xmpptest.Client
}

func newEnv(t *testing.T, names ...string) *env {
	t.Helper()
	e := &env{srv: xmpptest.Start(t), users: map[string]*xmpptest.Client{}}
	for _, n := range names {
		e.add(t, n)
	}
	return e
}

func (e *env) add(t *testing.T, name string) *xmpptest.Client {
	t.Helper()
	e.srv.AddUser(t, name+"@localhost", "pw")
	c := e.srv.Dial(t, name+"@localhost", "pw", xmpptest.DialOptions{})
	e.users[name] = c
	return c
}

func room(name string) string { return name + "@" + service }

func occ(r, nick string) string { return room(r) + "/" + nick }

// isPresence matches a presence from 'from' (any type when typ is "*").
func isPresence(from, typ string) func(xmpptest.Stanza) bool {
	return func(s xmpptest.Stanza) bool {
		return s.XMLName.Local == "presence" && s.Attr("from") == from && (typ == "*" || s.Attr("type") == typ)
	}
}

func isMessage(from, body string) func(xmpptest.Stanza) bool {
	return func(s xmpptest.Stanza) bool {
		return s.XMLName.Local == "message" && s.Attr("from") == from && strings.Contains(s.Inner, body)
	}
}

func isError(cond string) func(xmpptest.Stanza) bool {
	return func(s xmpptest.Stanza) bool {
		return s.Attr("type") == "error" && strings.Contains(s.Inner, "<"+cond)
	}
}

func hasStatus(s xmpptest.Stanza, code int) bool {
	return strings.Contains(s.Inner, fmt.Sprintf(`code="%d"`, code))
}

// collect reads everything c receives until stop matches (included).
func collect(t *testing.T, c *xmpptest.Client, what string, stop func(xmpptest.Stanza) bool) []xmpptest.Stanza {
	t.Helper()
	var out []xmpptest.Stanza
	deadline := time.After(wait)
	for {
		select {
		case st := <-c.In:
			out = append(out, st)
			if stop(st) {
				return out
			}
		case <-deadline:
			t.Fatalf("%s: no %s within %v; got %d stanzas", c.JID, what, wait, len(out))
		}
	}
}

// join enters a room with a MUC <x/> (extra goes inside it) and returns
// the stanzas received up to and including the subject.
func join(t *testing.T, c *xmpptest.Client, r, nick, extra string) []xmpptest.Stanza {
	t.Helper()
	c.Send(t, `<presence to='`+occ(r, nick)+`'><x xmlns='http://jabber.org/protocol/muc'>`+extra+`</x></presence>`)
	return collect(t, c, "subject of "+r, func(s xmpptest.Stanza) bool {
		return s.XMLName.Local == "message" && strings.Contains(s.Inner, "<subject")
	})
}

// create makes an instant room with c as owner (§10.1.2).
func create(t *testing.T, c *xmpptest.Client, r, nick string) {
	t.Helper()
	got := join(t, c, r, nick, "")
	self := selfPresence(t, got, occ(r, nick))
	if !hasStatus(self, 201) || !hasStatus(self, 110) {
		t.Fatalf("creator's presence lacks 201/110: %s", self.Inner)
	}
	res := c.IQ(t, `<iq type='set' id='inst' to='`+room(r)+`'><query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'/></query></iq>`)
	if res.Attr("type") != "result" {
		t.Fatalf("instant room: %s", res.Inner)
	}
}

// configure submits room configuration fields (var → value).
func configure(t *testing.T, c *xmpptest.Client, r string, fields map[string]string) xmpptest.Stanza {
	t.Helper()
	var b strings.Builder
	for k, v := range fields {
		fmt.Fprintf(&b, `<field var='%s'><value>%s</value></field>`, k, v)
	}
	return c.IQ(t, `<iq type='set' id='cfg' to='`+room(r)+`'><query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'>`+b.String()+`</x></query></iq>`)
}

func selfPresence(t *testing.T, got []xmpptest.Stanza, from string) xmpptest.Stanza {
	t.Helper()
	for _, s := range got {
		if isPresence(from, "")(s) && hasStatus(s, 110) {
			return s
		}
	}
	t.Fatalf("no self-presence from %s among %d stanzas", from, len(got))
	return xmpptest.Stanza{}
}

func groupchat(t *testing.T, c *xmpptest.Client, r, body string) {
	t.Helper()
	c.Send(t, `<message to='`+room(r)+`' type='groupchat' id='m1'><body>`+body+`</body></message>`)
}
