package pubsub_test

import (
	"net"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/xmpptest"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestPEPAcrossServers: PEP notifications reach a contact on another
// server (s2s) when that contact's resource advertises +notify in caps
// the publishing server verified over s2s, both ways; a remote resource
// coming online later gets the last item.
func TestPEPAcrossServers(t *testing.T) {
	addrA, addrB := freeAddr(t), freeAddr(t)
	routes := map[string]string{"a.test": addrA, "b.test": addrB}
	fed := func(domain, addr string) xmpptest.Option {
		return func(c *config.Config) {
			c.Domains = []string{domain}
			c.S2S.Enabled, c.S2S.Addr, c.S2S.Routes = true, addr, routes
			c.S2S.RequireValidCertificates = false
			c.S2S.ConnectTimeout = config.Duration(5 * time.Second)
		}
	}
	a := &env{srv: xmpptest.Start(t, fed("a.test", addrA))}
	b := &env{srv: xmpptest.Start(t, fed("b.test", addrB))}
	a.srv.AddUser(t, "alice@a.test", "pw")
	b.srv.AddUser(t, "bob@b.test", "pw")
	// Different features, so each server must ask the other's client
	// over s2s for the hash it has not seen.
	bobFeatures := append([]string{"urn:example:only-bob"}, notifyFeatures...)
	alice := dialAt(t, a, "alice@a.test", notifyFeatures)
	bob := dialAt(t, b, "bob@b.test", bobFeatures)
	befriend(t, alice, "alice@a.test", bob, "bob@b.test")

	alice.iq(t, publishNick("Alice of A"), "result")
	bob.Expect(t, 2*wait, "alice's nick over s2s", isEvent(nsNick, "Alice of A"))
	bob.iq(t, publishNick("Bob of B"), "result")
	alice.Expect(t, 2*wait, "bob's nick over s2s", isEvent(nsNick, "Bob of B"))
	if alice.asked.Load() != 2 || bob.asked.Load() != 2 {
		// by its own server, and by the other one over s2s
		t.Errorf("disco#info queries: alice %d, bob %d; want 2 each", alice.asked.Load(), bob.asked.Load())
	}

	// A remote contact reads items; a remote stranger is refused.
	bob.iq(t, `<iq type='get' id='g' to='alice@a.test'><pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='`+nsNick+`'/></pubsub></iq>`,
		"result", "Alice of A")
	b.srv.AddUser(t, "eve@b.test", "pw")
	eve := dialAt(t, b, "eve@b.test", []string{"urn:example:eve"})
	eve.iq(t, `<iq type='get' id='g' to='alice@a.test'><pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='`+nsNick+`'/></pubsub></iq>`,
		"error", "presence-subscription-required")

	bob2 := dialAt(t, b, "bob@b.test", bobFeatures)
	bob2.Expect(t, 2*wait, "alice's last item for a new remote resource", isEvent(nsNick, "Alice of A"))
}

// dialAt is env.dial for a full address.
func dialAt(t *testing.T, e *env, user string, features []string) *client {
	t.Helper()
	c := &client{}
	c.Client = e.srv.Dial(t, user, "pw", xmpptest.DialOptions{Answer: discoAnswer(features, &c.asked, false)})
	c.Send(t, `<presence><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='`+capsNode+`' ver='`+capsVer(features)+`'/></presence>`)
	c.sync(t)
	return c
}
