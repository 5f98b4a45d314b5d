package presence_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/features/roster"
	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/storage"
	"github.com/parleyim/parley/internal/xmpptest"
)

const wait = 5 * time.Second

const pw = "pw"

// dial logs a new resource of user in.
func dial(t testing.TB, srv *xmpptest.Server, user string) *xmpptest.Client {
	t.Helper()
	return srv.Dial(t, user, pw, xmpptest.DialOptions{})
}

func isPresence(from, typ string) func(xmpptest.Stanza) bool {
	return func(s xmpptest.Stanza) bool {
		return s.XMLName.Local == "presence" && s.Attr("type") == typ &&
			(from == "" || s.Attr("from") == from || strings.HasPrefix(s.Attr("from"), from+"/"))
	}
}

func isPush(contact string) func(xmpptest.Stanza) bool {
	return func(s xmpptest.Stanza) bool {
		return s.XMLName.Local == "iq" && s.Attr("type") == "set" &&
			strings.Contains(s.Inner, "jabber:iq:roster") && strings.Contains(s.Inner, "jid=\""+contact+"\"")
	}
}

// interested asks for the roster so that c gets pushes.
func interested(t testing.TB, c *xmpptest.Client) xmpptest.Stanza {
	t.Helper()
	res := iq(t, c, `<iq type='get' id='r1'><query xmlns='jabber:iq:roster'/></iq>`)
	if res.Attr("type") != "result" {
		t.Fatalf("roster get: %+v", res)
	}
	return res
}

// available sends initial presence.
func available(t testing.TB, c *xmpptest.Client, status string) {
	t.Helper()
	send(t, c, `<presence><status>`+status+`</status></presence>`)
}

// openStore opens the server's database for checks.
func openStore(t testing.TB, srv *xmpptest.Server) *roster.Store {
	t.Helper()
	db, err := storage.Open(context.Background(), srv.Config)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return roster.NewStore(db)
}

func stateOf(t testing.TB, st *roster.Store, user, contact string) roster.State {
	t.Helper()
	s, _, err := st.State(context.Background(), jid.MustParse(user), jid.MustParse(contact))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func jidOf(s string) jid.JID { return jid.MustParse(s) }

// send writes raw XML on c (xmpptest's Client.Send).
func send(t testing.TB, c *xmpptest.Client, raw string) { t.Helper(); c.Send(t, raw) }

// iq sends an iq and returns the answer (xmpptest's Client.IQ).
func iq(t testing.TB, c *xmpptest.Client, raw string) xmpptest.Stanza {
	t.Helper()
	return c.IQ(t, raw)
}
