package s2s_test

import (
	"crypto/tls"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/s2s"
	"github.com/parleyim/parley/internal/xmpptest"
)

// rawPeer is a scripted server-to-server peer: the test speaks the
// protocol itself (RFC 6120, XEP-0220) to check what Parley accepts.
type rawPeer struct {
	*xmpptest.Raw
	t        *testing.T
	id       string // the stream id Parley gave us
	features string // the stream features after TLS
}

var streamID = regexp.MustCompile(`<stream:stream[^>]* id=['"]([^'"]+)['"]`)

// dialPeer opens a stream from 'from' to 'to' at addr and negotiates
// STARTTLS (accepting Parley's self-signed certificate, the one allowed
// client setting).
func dialPeer(t *testing.T, s *xmpptest.Server, addr, from, to string) *rawPeer {
	t.Helper()
	p := dialPeerTLS(t, addr, from, to, &tls.Config{InsecureSkipVerify: true, ServerName: to})
	if feats := p.features; !strings.Contains(feats, "urn:xmpp:features:dialback") {
		t.Fatalf("no dialback offered after TLS: %s", feats)
	}
	return p
}

// dialPeerTLS opens a stream from 'from' to 'to' at addr and negotiates
// STARTTLS with cfg (a client certificate in it is presented); features
// are what Parley offers on the secured stream.
func dialPeerTLS(t *testing.T, addr, from, to string, cfg *tls.Config) *rawPeer {
	t.Helper()
	p := &rawPeer{Raw: xmpptest.RawDial(t, addr), t: t}
	feats := p.open(from, to)
	if !strings.Contains(feats, "<starttls") {
		t.Fatalf("no STARTTLS offered: %s", feats)
	}
	p.Write("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
	p.ReadUntil("<proceed", 5*time.Second)
	p.ReadUntil("/>", 5*time.Second)
	tc := tls.Client(p.Conn, cfg)
	if err := tc.Handshake(); err != nil {
		t.Fatalf("TLS: %v", err)
	}
	p.Conn = tc
	p.features = p.open(from, to)
	return p
}

func (p *rawPeer) open(from, to string) string {
	p.Write("<?xml version='1.0'?><stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' xmlns:db='jabber:server:dialback' from='" +
		from + "' to='" + to + "' version='1.0'>")
	got := p.ReadUntil("</stream:features>", 5*time.Second)
	m := streamID.FindStringSubmatch(got)
	if m == nil {
		p.t.Fatalf("no stream id in %s", got)
	}
	p.id = m[1]
	return got
}

// dialback sends a db:result with key and returns Parley's answer.
func (p *rawPeer) dialback(from, to, key string) string {
	p.Write("<db:result from='" + from + "' to='" + to + "'>" + key + "</db:result>")
	got := p.ReadUntil("<db:result", wait)
	return got + p.ReadUntil("/>", wait)
}

// expectStreamError reads until the stream error with cond and the end
// of the connection.
func (p *rawPeer) expectStreamError(cond string) {
	p.t.Helper()
	out, _ := p.ReadToEOF(wait)
	if !strings.Contains(out, "<stream:error><"+cond) {
		p.t.Fatalf("want stream error %s, got %q", cond, out)
	}
}

// TestDialbackWrongKeyRefused: a peer claiming b.test with a key b.test
// never issued is refused (b.test, asked as the authoritative server,
// says invalid) and its stanzas are not accepted.
func TestDialbackWrongKeyRefused(t *testing.T) {
	p := startPair(t)
	alice := online(t, p.a, "alice@a.test")
	peer := dialPeer(t, p.a, p.addrA, "b.test", "a.test")
	got := peer.dialback("b.test", "a.test", strings.Repeat("0", 64))
	if !strings.Contains(got, "type='invalid'") {
		t.Fatalf("a wrong key got %q, want type='invalid'", got)
	}
	peer.expectStreamError("not-authorized")
	alice.ExpectNone(t, 200*time.Millisecond, "anything from b.test", isMessage("bob@b.test", ""))
}

// TestDialbackRightKeyThenForgedFrom: with the key b.test's secret gives,
// the peer is verified for b.test; a stanza from another domain on that
// stream ends it with invalid-from, one to a domain not served here with
// host-unknown. Local users are unaffected.
func TestDialbackRightKeyThenForgedFrom(t *testing.T) {
	const secret = "b's dialback secret"
	p := startPair(t, func(c *config.Config) { c.S2S.DialbackSecret = secret })
	alice := online(t, p.a, "alice@a.test")

	peer := dialPeer(t, p.a, p.addrA, "b.test", "a.test")
	if got := peer.dialback("b.test", "a.test", s2s.DialbackKey(secret, "a.test", "b.test", peer.id)); !strings.Contains(got, "type='valid'") {
		t.Fatalf("the right key got %q", got)
	}
	peer.Write("<message from='mallory@b.test/x' to='alice@a.test' type='chat'><body>from b</body></message>")
	alice.Expect(t, wait, "the verified peer's message", isMessage("mallory@b.test/x", "from b"))
	peer.Write("<message from='eve@c.test/x' to='alice@a.test' type='chat'><body>forged</body></message>")
	peer.expectStreamError("invalid-from")
	alice.ExpectNone(t, 200*time.Millisecond, "the forged message", isMessage("eve@c.test", "forged"))

	peer = dialPeer(t, p.a, p.addrA, "b.test", "a.test")
	peer.dialback("b.test", "a.test", s2s.DialbackKey(secret, "a.test", "b.test", peer.id))
	peer.Write("<message from='mallory@b.test/x' to='someone@elsewhere.test' type='chat'><body>relay me</body></message>")
	peer.expectStreamError("host-unknown")
}

// TestUnauthenticatedStanzaRefused: a stanza before any authentication
// ends the stream with invalid-from.
func TestUnauthenticatedStanzaRefused(t *testing.T) {
	p := startPair(t)
	peer := dialPeer(t, p.a, p.addrA, "b.test", "a.test")
	peer.Write("<message from='bob@b.test/x' to='alice@a.test'><body>hi</body></message>")
	peer.expectStreamError("invalid-from")
}

// TestPeerClaimingOurDomain: a peer claiming to be a.test to a.test is
// refused without asking anyone.
func TestPeerClaimingOurDomain(t *testing.T) {
	p := startPair(t)
	peer := dialPeer(t, p.a, p.addrA, "a.test", "a.test")
	if got := peer.dialback("a.test", "a.test", "abc"); !strings.Contains(got, "type='invalid'") {
		t.Fatalf("got %q", got)
	}
	peer.expectStreamError("not-authorized")
}

// TestStanzaFlood: a verified peer sending past s2s.stanza_burst gets the
// policy-violation stream error; local users keep working.
func TestStanzaFlood(t *testing.T) {
	const secret = "flood secret"
	p := startPair(t, func(c *config.Config) {
		c.S2S.DialbackSecret = secret
		c.S2S.StanzasPerSecond, c.S2S.StanzaBurst = 1, 10
	})
	alice := online(t, p.a, "alice@a.test")
	peer := dialPeer(t, p.a, p.addrA, "b.test", "a.test")
	peer.dialback("b.test", "a.test", s2s.DialbackKey(secret, "a.test", "b.test", peer.id))
	var b strings.Builder
	for i := range 100 {
		fmt.Fprintf(&b, "<message from='m@b.test/x' to='alice@a.test' type='chat'><body>f%d</body></message>", i)
	}
	peer.TryWrite([]byte(b.String()))
	peer.expectStreamError("policy-violation")
	alice.Send(t, `<message to='`+alice.JID.String()+`' type='chat'><body>still here</body></message>`)
	alice.Expect(t, wait, "a local message after the flood", isMessage(alice.JID.String(), "still here"))
}

// TestStreamsPerIP: past s2s.streams_per_ip, a new stream from the same
// address gets policy-violation.
func TestStreamsPerIP(t *testing.T) {
	p := startPair(t, func(c *config.Config) { c.S2S.StreamsPerIP = 2 })
	dialPeer(t, p.a, p.addrA, "b.test", "a.test")
	dialPeer(t, p.a, p.addrA, "b.test", "a.test")
	r := p.a.RawAt(t, p.addrA)
	out, _ := r.ReadToEOF(wait)
	if !strings.Contains(out, "policy-violation") {
		t.Fatalf("third stream got %q", out)
	}
}

// TestDirectTLSInbound: on s2s.tls_addr the stream starts inside TLS
// (XEP-0368): no STARTTLS is offered, dialback is, and a verified peer's
// stanzas are delivered.
func TestDirectTLSInbound(t *testing.T) {
	const secret = "direct secret"
	p := startPair(t, func(c *config.Config) {
		c.S2S.DialbackSecret = secret
		c.S2S.TLSAddr = "127.0.0.1:0"
	})
	alice := online(t, p.a, "alice@a.test")
	c, err := tls.Dial("tcp", p.a.Addr("s2s-tls"), &tls.Config{InsecureSkipVerify: true, ServerName: "a.test"})
	if err != nil {
		t.Fatal(err)
	}
	raw := p.a.RawAt(t, p.a.Addr("s2s")) // a Raw to reuse its reader; its own socket is closed
	raw.Conn.Close()
	raw.Conn = c
	peer := &rawPeer{Raw: raw, t: t}
	feats := peer.open("b.test", "a.test")
	if strings.Contains(feats, "starttls") || !strings.Contains(feats, "urn:xmpp:features:dialback") {
		t.Fatalf("features on direct TLS: %s", feats)
	}
	if got := peer.dialback("b.test", "a.test", s2s.DialbackKey(secret, "a.test", "b.test", peer.id)); !strings.Contains(got, "type='valid'") {
		t.Fatalf("dialback: %s", got)
	}
	peer.Write("<message from='bob@b.test/x' to='alice@a.test' type='chat'><body>over direct TLS</body></message>")
	alice.Expect(t, wait, "the message", isMessage("bob@b.test/x", "over direct TLS"))
}

// TestSASLExternalClaimingAnotherDomain: a peer presenting a valid
// certificate for b.test but claiming c.test in its stream header is
// refused SASL EXTERNAL (RFC 6120 §6.4.5 not-authorized, §13.7.1.2), and
// its stanzas as c.test or b.test end the stream with invalid-from;
// alice is unaffected.
func TestSASLExternalClaimingAnotherDomain(t *testing.T) {
	ca := newTestCA(t)
	certA, keyA := ca.issue(t, "a.test")
	addrA := freeAddr(t)
	a := xmpptest.Start(t, fedOpts("a.test", addrA, nil, withCert(ca, "a.test", certA, keyA)))
	a.AddUser(t, "alice@a.test", "pw")
	alice := onlineCA(t, a, ca, "alice@a.test", "a.test")
	certB, keyB := ca.issue(t, "b.test")
	pair, err := tls.LoadX509KeyPair(certB, keyB)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &tls.Config{ServerName: "a.test", RootCAs: ca.pool(), Certificates: []tls.Certificate{pair}}

	peer := dialPeerTLS(t, addrA, "c.test", "a.test", cfg)
	peer.Write("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='EXTERNAL'>=</auth>")
	if got := peer.ReadUntil("</failure>", wait); !strings.Contains(got, "<not-authorized") {
		t.Fatalf("EXTERNAL as c.test with b.test's certificate got %q", got)
	}
	peer.Write("<message from='eve@c.test/x' to='alice@a.test' type='chat'><body>as c</body></message>")
	peer.expectStreamError("invalid-from")

	peer = dialPeerTLS(t, addrA, "c.test", "a.test", cfg)
	peer.Write("<message from='bob@b.test/x' to='alice@a.test' type='chat'><body>as b</body></message>")
	peer.expectStreamError("invalid-from")

	alice.ExpectNone(t, 200*time.Millisecond, "anything from the peer", func(s xmpptest.Stanza) bool { return s.XMLName.Local == "message" })
	alice.Send(t, `<message to='`+alice.JID.String()+`' type='chat'><body>still here</body></message>`)
	alice.Expect(t, wait, "a local message", isMessage(alice.JID.String(), "still here"))
}

// TestStanzaWithoutAddresses: on an authenticated stream a stanza with
// no 'from', or no 'to', ends the stream with improper-addressing (RFC
// 6120 §4.9.3.8); alice is unaffected.
func TestStanzaWithoutAddresses(t *testing.T) {
	const secret = "addressing secret"
	p := startPair(t, func(c *config.Config) { c.S2S.DialbackSecret = secret })
	alice := online(t, p.a, "alice@a.test")
	for _, st := range []string{
		"<message to='alice@a.test' type='chat'><body>no from</body></message>",
		"<message from='bob@b.test/x' type='chat'><body>no to</body></message>",
	} {
		peer := dialPeer(t, p.a, p.addrA, "b.test", "a.test")
		if got := peer.dialback("b.test", "a.test", s2s.DialbackKey(secret, "a.test", "b.test", peer.id)); !strings.Contains(got, "type='valid'") {
			t.Fatalf("dialback: %s", got)
		}
		peer.Write(st)
		peer.expectStreamError("improper-addressing")
	}
	alice.Send(t, `<message to='`+alice.JID.String()+`' type='chat'><body>still here</body></message>`)
	alice.Expect(t, wait, "a local message", isMessage(alice.JID.String(), "still here"))
}
