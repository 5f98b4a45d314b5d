package s2s_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/config"

	"github.com/parleyim/parley/internal/xmpptest"
)

// TestChatBothWays: alice@a.test and bob@b.test exchange chat messages;
// each server opens one outbound stream, authenticated by dialback (the
// certificates are self-signed), and every later message reuses it.
func TestChatBothWays(t *testing.T) {
	p := startPair(t)
	alice := online(t, p.a, "alice@a.test")
	bob := online(t, p.b, "bob@b.test")
	alice.Send(t, `<message to='bob@b.test' type='chat'><body>hello bob</body></message>`)
	bob.Expect(t, wait, "alice's message", isMessage(alice.JID.String(), "hello bob"))
	bob.Send(t, `<message to='`+alice.JID.String()+`' type='chat'><body>hi alice</body></message>`)
	alice.Expect(t, wait, "bob's reply", isMessage(bob.JID.String(), "hi alice"))
	for i := range 20 {
		alice.Send(t, fmt.Sprintf(`<message to='bob@b.test' type='chat'><body>n%d</body></message>`, i))
	}
	for i := range 20 {
		bob.Expect(t, wait, "message", isMessage("alice@a.test", fmt.Sprintf("n%d<", i)))
	}
	out := streamsOf(p.a, "out")
	if len(out) != 1 || out[0].Remote != "b.test" || out[0].Auth != "dialback" || !out[0].TLS {
		t.Fatalf("a.test's outbound streams: %+v, want one to b.test by dialback over TLS", out)
	}
	in := streamsOf(p.b, "in")
	if len(in) != 1 || in[0].Remote != "a.test" || in[0].Auth != "dialback" {
		t.Fatalf("b.test's inbound streams: %+v, want one from a.test", in)
	}
	// Both servers share this process's registry: one stream each way
	// between the two domains, in each direction.
	for _, l := range []map[string]string{
		{"remote_domain": "b.test", "direction": "out"}, {"remote_domain": "a.test", "direction": "in"},
		{"remote_domain": "a.test", "direction": "out"}, {"remote_domain": "b.test", "direction": "in"},
	} {
		if v := metric(t, "parley_s2s_streams", l); v != 1 {
			t.Errorf("parley_s2s_streams%v = %v, want 1", l, v)
		}
	}
}

// TestPresenceSubscriptionBothWays: alice and bob subscribe to each other
// across servers (RFC 6121 §3 with a remote contact) and then see each
// other's presence, including a probe answered after a new login.
func TestPresenceSubscriptionBothWays(t *testing.T) {
	p := startPair(t)
	alice := online(t, p.a, "alice@a.test")
	bob := online(t, p.b, "bob@b.test")

	alice.Send(t, `<presence to='bob@b.test' type='subscribe'/>`)
	bob.Expect(t, wait, "alice's subscription request", isPresence("alice@a.test", "subscribe"))
	bob.Send(t, `<presence to='alice@a.test' type='subscribed'/>`)
	alice.Expect(t, wait, "bob's approval", isPresence("bob@b.test", "subscribed"))
	alice.Expect(t, wait, "bob's presence after approval", isPresence(bob.JID.String(), ""))

	bob.Send(t, `<presence to='alice@a.test' type='subscribe'/>`)
	alice.Expect(t, wait, "bob's subscription request", isPresence("bob@b.test", "subscribe"))
	alice.Send(t, `<presence to='bob@b.test' type='subscribed'/>`)
	bob.Expect(t, wait, "alice's approval", isPresence("alice@a.test", "subscribed"))
	bob.Expect(t, wait, "alice's presence after approval", isPresence(alice.JID.String(), ""))

	alice.Send(t, `<presence><status>busy</status></presence>`)
	bob.Expect(t, wait, "alice's new status", func(s xmpptest.Stanza) bool {
		return isPresence(alice.JID.String(), "")(s) && strings.Contains(s.Inner, "busy")
	})
	// A second session of bob probes alice (RFC 6121 §4.3) across servers.
	bob2 := online(t, p.b, "bob@b.test")
	bob2.Expect(t, wait, "alice's presence answering the probe", isPresence(alice.JID.String(), ""))
	bob.Close()
	alice.Expect(t, wait, "bob's first session going away", isPresence(bob.JID.String(), "unavailable"))

	// PEP (XEP-0163) items of alice are readable by her remote contact
	// (access model presence) across the servers.
	const nick = "http://jabber.org/protocol/nick"
	res := alice.IQ(t, `<iq type='set' id='pub'><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='`+nick+
		`'><item id='current'><nick xmlns='`+nick+`'>Alice A.</nick></item></publish></pubsub></iq>`)
	if res.Attr("type") != "result" {
		t.Fatalf("publish: %s", res.Inner)
	}
	res = bob2.IQ(t, `<iq type='get' id='items' to='alice@a.test'><pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='`+nick+`'/></pubsub></iq>`)
	if res.Attr("type") != "result" || !strings.Contains(res.Inner, "Alice A.") {
		t.Fatalf("bob reading alice's nick across servers: %s", res.Inner)
	}
}

// TestBounceRefusingPeer: a domain routed to an address that refuses
// connections bounces a message and an iq with remote-server-not-found;
// an error stanza is not answered.
func TestBounceRefusingPeer(t *testing.T) {
	p := startPair(t, func(c *config.Config) { c.S2S.Routes["down.test"] = freeAddr(t) })
	alice := online(t, p.a, "alice@a.test")
	bounced := metric(t, "parley_s2s_bounces_total", map[string]string{"reason": "remote-server-not-found"})
	alice.Send(t, `<message to='x@down.test' type='chat' id='m1'><body>anyone?</body></message>`)
	alice.Expect(t, wait, "the bounce", isErrorFrom("x@down.test", "remote-server-not-found"))
	got := alice.IQ(t, `<iq type='get' id='p1' to='down.test'><ping xmlns='urn:xmpp:ping'/></iq>`)
	if got.Attr("type") != "error" || !strings.Contains(got.Inner, "remote-server-not-found") {
		t.Fatalf("ping to an unreachable server: %+v", got)
	}
	alice.Send(t, `<message to='x@down.test' type='error' id='e1'><error type='cancel'><gone xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>`)
	alice.ExpectNone(t, 300*time.Millisecond, "an error answering an error", isErrorFrom("x@down.test", ""))
	if got := metric(t, "parley_s2s_bounces_total", map[string]string{"reason": "remote-server-not-found"}) - bounced; got != 2 {
		t.Errorf("bounces counted: %v, want 2 (the message and the ping)", got)
	}
}

// TestBounceSilentPeer: a peer that accepts TCP but never speaks makes
// every queued stanza bounce with remote-server-timeout after
// s2s.connect_timeout, each once.
func TestBounceSilentPeer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	p := startPair(t, func(c *config.Config) {
		c.S2S.Routes["silent.test"] = ln.Addr().String()
		c.S2S.ConnectTimeout = config.Duration(500 * time.Millisecond)
	})
	alice := online(t, p.a, "alice@a.test")
	for i := range 3 {
		alice.Send(t, fmt.Sprintf(`<message to='x@silent.test' type='chat' id='s%d'><body>hello</body></message>`, i))
	}
	for i := range 3 {
		st := alice.Expect(t, wait, "a timeout bounce", isErrorFrom("x@silent.test", "remote-server-timeout"))
		if st.Attr("id") != fmt.Sprintf("s%d", i) {
			t.Fatalf("bounce %d has id %q", i, st.Attr("id"))
		}
	}
}

// TestQueueBound: past s2s.queue_size, a stanza for a stream that is
// still connecting is bounced at once with resource-constraint; those
// queued are not lost (they bounce when the connection attempt fails).
func TestQueueBound(t *testing.T) {
	release := make(chan struct{})
	p := startPairVia(t, func(addrB string) string { return holdingProxy(t, addrB, release) },
		func(c *config.Config) { c.S2S.QueueSize = 2 })
	alice := online(t, p.a, "alice@a.test")
	bob := online(t, p.b, "bob@b.test")
	for i := range 3 {
		alice.Send(t, fmt.Sprintf(`<message to='bob@b.test' type='chat' id='b%d'><body>q%d</body></message>`, i, i))
	}
	st := alice.Expect(t, wait, "the bounce past the queue", isErrorFrom("bob@b.test", "resource-constraint"))
	if st.Attr("id") != "b2" {
		t.Fatalf("bounced %q, want the third message", st.Attr("id"))
	}
	close(release)
	bob.Expect(t, wait, "the first queued message", isMessage("alice@a.test", "q0<"))
	bob.Expect(t, wait, "the second queued message", isMessage("alice@a.test", "q1<"))
}

// TestQueueWhileConnecting: stanzas sent while the stream is still being
// set up wait for it and arrive in order, over one stream.
func TestQueueWhileConnecting(t *testing.T) {
	release := make(chan struct{})
	p := startPairVia(t, func(addrB string) string { return holdingProxy(t, addrB, release) })
	alice := online(t, p.a, "alice@a.test")
	bob := online(t, p.b, "bob@b.test")
	for i := range 5 {
		alice.Send(t, fmt.Sprintf(`<message to='bob@b.test' type='chat'><body>q%d</body></message>`, i))
	}
	xmpptest.Eventually(t, wait, "the stream to be connecting with the messages queued", func() bool {
		out := streamsOf(p.a, "out")
		return len(out) == 1 && out[0].Queued == 5 && out[0].Auth == ""
	})
	close(release)
	for i := range 5 {
		bob.Expect(t, wait, "a queued message, in order", isMessage("alice@a.test", fmt.Sprintf("q%d<", i)))
	}
	if out := streamsOf(p.a, "out"); len(out) != 1 {
		t.Fatalf("outbound streams: %+v", out)
	}
}

// holdingProxy forwards connections to target once release is closed.
func holdingProxy(t *testing.T, target string, release chan struct{}) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				<-release
				up, err := net.Dial("tcp", target)
				if err != nil {
					return
				}
				defer up.Close()
				go io.Copy(up, c)
				io.Copy(c, up)
			}()
		}
	}()
	return ln.Addr().String()
}

// TestReconnectAfterPeerRestart: when b.test shuts down, a.test's stream
// to it ends; once b.test is back on the same address, the next message
// opens a new stream and arrives.
func TestReconnectAfterPeerRestart(t *testing.T) {
	p := startPair(t)
	alice := online(t, p.a, "alice@a.test")
	bob := online(t, p.b, "bob@b.test")
	alice.Send(t, `<message to='bob@b.test' type='chat'><body>before</body></message>`)
	bob.Expect(t, wait, "the first message", isMessage("alice@a.test", "before"))

	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := p.b.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	xmpptest.Eventually(t, wait, "a.test to notice b.test went away", func() bool { return len(streamsOf(p.a, "out")) == 0 })

	b2 := xmpptest.Start(t, fedOpts("b.test", p.addrB, map[string]string{"a.test": p.addrA}))
	b2.AddUser(t, "bob@b.test", "pw")
	bob = online(t, b2, "bob@b.test")
	alice.Send(t, `<message to='bob@b.test' type='chat'><body>after</body></message>`)
	bob.Expect(t, wait, "the message after the restart", isMessage("alice@a.test", "after"))
}

// TestIdleStreamsClose: streams that carried nothing for
// s2s.idle_timeout close on both sides, and the next stanza opens a new
// one.
func TestIdleStreamsClose(t *testing.T) {
	p := startPair(t, func(c *config.Config) { c.S2S.IdleTimeout = config.Duration(300 * time.Millisecond) })
	alice := online(t, p.a, "alice@a.test")
	bob := online(t, p.b, "bob@b.test")
	alice.Send(t, `<message to='bob@b.test' type='chat'><body>one</body></message>`)
	bob.Expect(t, wait, "the first message", isMessage("alice@a.test", "one"))
	xmpptest.Eventually(t, wait, "the idle streams to close", func() bool {
		return len(streamsOf(p.a, "out")) == 0 && len(streamsOf(p.b, "in")) == 0
	})
	alice.Send(t, `<message to='bob@b.test' type='chat'><body>two</body></message>`)
	bob.Expect(t, wait, "the message on a new stream", isMessage("alice@a.test", "two"))
}

// TestCloseDomain: the operator's close (parley s2s close) ends the
// streams of a domain; the next stanza reconnects.
func TestCloseDomain(t *testing.T) {
	p := startPair(t)
	alice := online(t, p.a, "alice@a.test")
	bob := online(t, p.b, "bob@b.test")
	alice.Send(t, `<message to='bob@b.test' type='chat'><body>one</body></message>`)
	bob.Expect(t, wait, "the first message", isMessage("alice@a.test", "one"))
	if n := p.a.S2S().CloseDomain("b.test"); n != 1 {
		t.Fatalf("closed %d streams, want 1", n)
	}
	xmpptest.Eventually(t, wait, "the streams to close", func() bool {
		return len(streamsOf(p.a, "out")) == 0 && len(streamsOf(p.b, "in")) == 0
	})
	alice.Send(t, `<message to='bob@b.test' type='chat'><body>two</body></message>`)
	bob.Expect(t, wait, "the message on a new stream", isMessage("alice@a.test", "two"))
}

// srvTable answers SRV lookups from a table ("service.domain" → records).
type srvTable map[string][]*net.SRV

func (f srvTable) LookupSRV(_ context.Context, service, _, name string) (string, []*net.SRV, error) {
	if rs, ok := f[service+"."+name]; ok {
		return "", rs, nil
	}
	return "", nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
}

// TestDirectTLSOutbound: a.test has no static route to b.test; the SRV
// record _xmpps-server._tcp.b.test (XEP-0368) points at b.test's direct
// TLS listener, so the stream starts with TLS there, and messages cross.
func TestDirectTLSOutbound(t *testing.T) {
	tlsAddr := freeAddr(t)
	p := startPair(t, func(c *config.Config) {
		if c.Domains[0] == "a.test" {
			delete(c.S2S.Routes, "b.test")
		} else {
			c.S2S.TLSAddr = tlsAddr
		}
	})
	host, port, _ := net.SplitHostPort(tlsAddr)
	n, _ := strconv.Atoi(port)
	p.a.S2S().SetResolver(srvTable{"xmpps-server.b.test": {{Target: host + ".", Port: uint16(n), Priority: 0}}})
	alice := online(t, p.a, "alice@a.test")
	bob := online(t, p.b, "bob@b.test")
	alice.Send(t, `<message to='bob@b.test' type='chat'><body>found by SRV</body></message>`)
	bob.Expect(t, wait, "the message", isMessage(alice.JID.String(), "found by SRV"))
	out := streamsOf(p.a, "out")
	if len(out) != 1 || out[0].Addr != tlsAddr || !out[0].TLS {
		t.Fatalf("a.test's outbound streams: %+v, want one to %s over TLS", out, tlsAddr)
	}
}
