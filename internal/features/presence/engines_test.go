package presence_test

import (
	"strings"
	"testing"

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/storage/storagetest"
	"github.com/parleyim/parley/internal/xmpptest"
)

// TestEveryEngine runs one end-to-end story on each storage engine
// (SQLite always; PostgreSQL and MySQL when their test servers are set up,
// see storagetest): subscription both ways, a pending request answered
// later, presence, the last unavailable presence from storage, a roster
// set with groups, and a removal.
func TestEveryEngine(t *testing.T) {
	for _, driver := range storagetest.Drivers {
		t.Run(driver, func(t *testing.T) {
			st := storagetest.Config(t, driver).Storage
			srv := xmpptest.Start(t, func(c *config.Config) { c.Storage = st })
			for _, u := range []string{"alice", "bob", "carol"} {
				srv.AddUser(t, u+"@localhost", pw)
			}
			a, b := dial(t, srv, "alice@localhost"), dial(t, srv, "bob@localhost")
			mutual(t, a, b, "alice@localhost", "bob@localhost")
			if res := interested(t, a); !strings.Contains(res.Inner, `subscription="both"`) {
				t.Fatalf("alice's roster: %s", res.Inner)
			}
			// carol asks while alice is away; alice answers after login.
			c := dial(t, srv, "carol@localhost")
			send(t, a, `<presence type='unavailable'><status>away for now</status></presence>`)
			barrier(t, a)
			b.Expect(t, wait, "unavailable", isPresence(a.JID.String(), "unavailable"))
			send(t, c, `<presence type='subscribe' to='alice@localhost'><status>hi</status></presence>`)
			barrier(t, c)
			a.Close()
			b.Close()
			b2 := dial(t, srv, "bob@localhost")
			available(t, b2, "back")
			got := barrier(t, b2)
			last := findPresence(t, got, a.JID.String(), "unavailable", "alice's last presence")
			if !strings.Contains(last.Inner, "away for now") || !strings.Contains(last.Inner, "urn:xmpp:delay") {
				t.Fatalf("last presence: %s", last.Inner)
			}
			a2 := dial(t, srv, "alice@localhost")
			interested(t, a2)
			available(t, a2, "here")
			req := a2.Expect(t, wait, "stored request", isPresence("carol@localhost", "subscribe"))
			if !strings.Contains(req.Inner, ">hi</status>") {
				t.Fatalf("request: %s", req.Inner)
			}
			send(t, a2, `<presence type='subscribed' to='carol@localhost'/>`)
			barrier(t, a2)
			if res := iq(t, a2, `<iq type='set' id='g'><query xmlns='jabber:iq:roster'><item jid='carol@localhost' name='Carol'><group>Zé</group><group>A</group></item></query></iq>`); res.Attr("type") != "result" {
				t.Fatalf("set: %+v", res)
			}
			push := findPush(t, barrier(t, a2), "carol@localhost")
			if !strings.Contains(push.Inner, `subscription="from"`) || !strings.Contains(push.Inner, ">Zé</group>") {
				t.Fatalf("push: %s", push.Inner)
			}
			if res := iq(t, a2, `<iq type='set' id='r'><query xmlns='jabber:iq:roster'><item jid='bob@localhost' subscription='remove'/></query></iq>`); res.Attr("type") != "result" {
				t.Fatalf("remove: %+v", res)
			}
			barrier(t, a2)
			if s := stateOf(t, openStore(t, srv), "bob@localhost", "alice@localhost").String(); s != sNone {
				t.Fatalf("bob after removal: %s", s)
			}
		})
	}
}
