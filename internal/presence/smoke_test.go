package presence_test

import (
	"testing"

	"github.com/parleyim/parley/internal/xmpptest"
)

func TestSmokeSubscribeBothWays(t *testing.T) {
	srv := xmpptest.Start(t)
	srv.AddUser(t, "alice@localhost", pw)
	srv.AddUser(t, "bob@localhost", pw)
	a := dial(t, srv, "alice@localhost")
	b := dial(t, srv, "bob@localhost")
	interested(t, a)
	interested(t, b)
	available(t, a, "a here")
	available(t, b, "b here")
	a.Send(t, `<presence to='bob@localhost' type='subscribe'/>`)
	a.Expect(t, wait, "push ask", isPush("bob@localhost"))
	b.Expect(t, wait, "subscribe", isPresence("alice@localhost", "subscribe"))
	b.Send(t, `<presence to='alice@localhost' type='subscribed'/>`)
	a.Expect(t, wait, "subscribed", isPresence("bob@localhost", "subscribed"))
	a.Expect(t, wait, "bob's presence", isPresence("bob@localhost", ""))
	st := openStore(t, srv)
	if s := stateOf(t, st, "alice@localhost", "bob@localhost"); s.String() != "To" {
		t.Fatalf("alice: %v", s)
	}
	if s := stateOf(t, st, "bob@localhost", "alice@localhost"); s.String() != "From" {
		t.Fatalf("bob: %v", s)
	}
	res := interested(t, a)
	t.Log(res.Inner)
}
