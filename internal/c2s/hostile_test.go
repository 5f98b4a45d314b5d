package c2s_test

import (
	"crypto/tls"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/xmpptest"
)

const hdr = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>"

// TestHostileStreams sends each hostile input on a fresh connection and
// checks the stream error it ends with; after each the server must still
// log in and serve a normal client.
func TestHostileStreams(t *testing.T) {
	srv := xmpptest.Start(t, func(c *config.Config) {
		c.Limits.PreAuthTimeout = config.Duration(1500 * time.Millisecond)
	})
	srv.AddUser(t, "alice@localhost", "pw")
	deep := strings.Repeat("<a>", 10000)
	cases := []struct {
		name  string
		input func(r *xmpptest.Raw)
		want  []string // any of these conditions
	}{
		{"billion laughs DTD", write(`<?xml version='1.0'?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>` + hdr[len("<?xml version='1.0'?>"):]), []string{"restricted-xml"}},
		{"DTD after header", write(hdr + `<!DOCTYPE x [<!ENTITY a "b">]>`), []string{"restricted-xml"}},
		{"entity reference", write(hdr + `<message><body>&lol;</body></message>`), []string{"restricted-xml"}},
		{"comment", write(hdr + `<!-- hello -->`), []string{"restricted-xml"}},
		{"processing instruction", write(hdr + `<?evil stuff?>`), []string{"restricted-xml"}},
		{"10 MB stanza", func(r *xmpptest.Raw) {
			r.Write(hdr + "<message><body>")
			chunk := []byte(strings.Repeat("x", 64<<10))
			for i := 0; i < 160; i++ {
				if r.TryWrite(chunk) != nil {
					return
				}
			}
		}, []string{"policy-violation"}},
		{"10,000-deep nesting", write(hdr + deep), []string{"policy-violation"}},
		{"invalid UTF-8", write(hdr + "<message><body>\xff\xfe</body></message>"), []string{"not-well-formed"}},
		{"unknown namespace prefix", write(hdr + "<foo:bar/>"), []string{"bad-namespace-prefix"}},
		{"second stream header", write(hdr + hdr[len("<?xml version='1.0'?>"):]), []string{"not-well-formed", "invalid-xml"}},
		{"garbage before header", write("GET / HTTP/1.1\r\n\r\n"), []string{"not-well-formed"}},
		{"wrong content namespace", write(strings.Replace(hdr, "jabber:client", "jabber:server", 1)), []string{"invalid-namespace"}},
		{"wrong stream namespace", write(strings.Replace(hdr, "http://etherx.jabber.org/streams", "urn:wrong", 1)), []string{"invalid-namespace"}},
		{"unknown host", write(strings.Replace(hdr, "to='localhost'", "to='example.org'", 1)), []string{"host-unknown"}},
		{"missing to", write(strings.Replace(hdr, "to='localhost'", "", 1)), []string{"host-unknown"}},
		{"old version", write(strings.Replace(hdr, " version='1.0'>", ">", 1)), []string{"unsupported-version"}},
		{"version 2", write(strings.Replace(hdr, " version='1.0'>", " version='2.0'>", 1)), []string{"unsupported-version"}},
		{"stanza before auth", write(hdr + "<message to='alice@localhost'><body>x</body></message>"), []string{"not-authorized", "policy-violation"}},
		{"too many elements before auth", write(hdr + strings.Repeat("<starttls xmlns='urn:example:not-tls'/>", 40)), []string{"policy-violation", "unsupported-stanza-type"}},
		{"slowloris", func(r *xmpptest.Raw) {
			for _, b := range []byte(hdr + "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'") {
				if r.TryWrite([]byte{b}) != nil {
					return
				}
				time.Sleep(20 * time.Millisecond)
			}
		}, []string{"connection-timeout"}},
		{"silent after connect", func(r *xmpptest.Raw) {}, []string{"connection-timeout"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := srv.Raw(t)
			tc.input(r)
			out, closed := r.ReadToEOF(10 * time.Second)
			if !closed {
				t.Fatalf("connection still open; got %q", tail(out))
			}
			if !containsAny(out, tc.want) {
				t.Fatalf("want one of %v, got %q", tc.want, tail(out))
			}
			if !strings.Contains(out, "</stream:stream>") {
				t.Fatalf("stream not closed with a closing tag: %q", tail(out))
			}
			c := srv.Dial(t, "alice@localhost", "pw", xmpptest.DialOptions{})
			c.Close()
		})
	}
}

// TestHalfClosedSocket: a client that sends its header and shuts its
// writing side must not leave the server hanging on it.
func TestHalfClosedSocket(t *testing.T) {
	srv := xmpptest.Start(t)
	r := srv.Raw(t)
	r.Write(hdr)
	r.ReadUntil("</stream:features>", wait)
	if cw, ok := r.Conn.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
	if _, closed := r.ReadToEOF(wait); !closed {
		t.Fatal("server kept a half-closed connection open")
	}
}

func TestBigStanzaAfterLogin(t *testing.T) {
	srv := xmpptest.Start(t, func(c *config.Config) { c.Limits.MaxStanzaBytes = 64 << 10 })
	srv.AddUser(t, "alice@localhost", "pw")
	r := srv.Raw(t)
	r.Login(srv.TLSConfig(t, "localhost"), "alice", "localhost", "pw", "r")
	r.Write("<message to='alice@localhost'><body>" + strings.Repeat("y", 70<<10) + "</body></message>")
	out, _ := r.ReadToEOF(wait)
	if !strings.Contains(out, "policy-violation") {
		t.Fatalf("got %q", tail(out))
	}
}

func TestRestartMayNotSwitchDomain(t *testing.T) {
	srv := xmpptest.Start(t, func(c *config.Config) { c.Domains = []string{"localhost", "example.net"} })
	srv.AddUser(t, "alice@localhost", "pw")
	r := srv.Raw(t)
	r.Open("localhost")
	r.Write("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
	r.ReadUntil("<proceed", wait)
	tc := tls.Client(r.Conn, srv.TLSConfig(t, "localhost"))
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	r.Conn = tc
	r.Write(strings.Replace(hdr, "localhost", "example.net", 1))
	out, _ := r.ReadToEOF(wait)
	if !strings.Contains(out, "host-unknown") {
		t.Fatalf("domain switch after STARTTLS: %q", tail(out))
	}
	// And after SASL.
	r2 := srv.Raw(t)
	r2.Open("localhost")
	r2.StartTLS(srv.TLSConfig(t, "localhost"), "localhost")
	if out := r2.Plain("", "alice", "pw"); !strings.Contains(out, "success") {
		t.Fatal(out)
	}
	r2.Write(strings.Replace(hdr, "localhost", "example.net", 1))
	if out, _ := r2.ReadToEOF(wait); !strings.Contains(out, "host-unknown") {
		t.Fatalf("domain switch after SASL: %q", tail(out))
	}
}

func TestCertificateMatchesDomain(t *testing.T) {
	srv := xmpptest.Start(t, func(c *config.Config) { c.Domains = []string{"localhost", "example.net"} })
	// STARTTLS on a stream to example.net presents example.net's certificate
	// (verified by the client's TLS config).
	r := srv.Raw(t)
	r.Open("example.net")
	r.StartTLS(srv.TLSConfig(t, "example.net"), "example.net")
	// Direct TLS: the SNI picks the certificate; a stream for another
	// domain on that connection is refused.
	d := srv.RawAt(t, srv.Addr("c2s-tls"))
	tc := tls.Client(d.Conn, srv.TLSConfig(t, "example.net"))
	if err := tc.Handshake(); err != nil {
		t.Fatalf("direct TLS handshake for example.net: %v", err)
	}
	d.Conn = tc
	d.Write(hdr)
	if out, _ := d.ReadToEOF(wait); !strings.Contains(out, "host-unknown") {
		t.Fatalf("stream to localhost on example.net's TLS: %q", tail(out))
	}
}

func TestDirectTLSLogin(t *testing.T) {
	srv := xmpptest.Start(t)
	srv.AddUser(t, "alice@localhost", "pw")
	d := srv.RawAt(t, srv.Addr("c2s-tls"))
	cfg := srv.TLSConfig(t, "localhost")
	cfg.NextProtos = []string{"xmpp-client"}
	tc := tls.Client(d.Conn, cfg)
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	if p := tc.ConnectionState().NegotiatedProtocol; p != "xmpp-client" {
		t.Errorf("ALPN = %q, want xmpp-client (XEP-0368)", p)
	}
	d.Conn = tc
	features := d.Open("localhost")
	if strings.Contains(features, "starttls") || !strings.Contains(features, "SCRAM-SHA-256") {
		t.Fatalf("features on direct TLS: %s", features)
	}
	if out := d.Plain("", "alice", "pw"); !strings.Contains(out, "success") {
		t.Fatal(out)
	}
}

func write(s string) func(r *xmpptest.Raw) {
	return func(r *xmpptest.Raw) { r.TryWrite([]byte(s)) }
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, "<"+sub) {
			return true
		}
	}
	return false
}

func tail(s string) string {
	if len(s) > 600 {
		return "…" + s[len(s)-600:]
	}
	return s
}

func TestMalformedSASL(t *testing.T) {
	srv := xmpptest.Start(t)
	srv.AddUser(t, "alice@localhost", "pw")
	r := srv.Raw(t)
	r.Open("localhost")
	r.StartTLS(srv.TLSConfig(t, "localhost"), "localhost")
	r.Write("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>!!not base64!!</auth>")
	if out := r.ReadUntil("</failure>", wait); !strings.Contains(out, "<incorrect-encoding/>") {
		t.Fatalf("bad base64: %q", out)
	}
	r.Write("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-256'>" + "eHl6" + "</auth>")
	if out := r.ReadUntil("</failure>", wait); !strings.Contains(out, "<malformed-request/>") {
		t.Fatalf("garbage SCRAM message: %q", out)
	}
	r.Write("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='DIGEST-MD5'/>")
	if out := r.ReadUntil("</failure>", wait); !strings.Contains(out, "<invalid-mechanism/>") {
		t.Fatalf("unknown mechanism: %q", out)
	}
	// After all that the stream still logs in.
	if out := r.Plain("", "alice", "pw"); !strings.Contains(out, "success") {
		t.Fatalf("login after malformed attempts: %q", out)
	}
}

// TestBytesPerSecondLimit: a client that sends faster than
// bytes_per_second is slowed down, not disconnected, and its data is
// processed in order. The per-IP exemptions (exempt_loopback, on by
// default, and trusted_proxies) do not exempt from it: behind a local TLS
// terminator every client comes from loopback.
func TestBytesPerSecondLimit(t *testing.T) {
	for _, exempt := range []struct {
		name string
		set  func(*config.Limits)
	}{
		{"no exemption", func(l *config.Limits) { l.ExemptLoopback = false }},
		{"loopback exempt", func(l *config.Limits) { l.ExemptLoopback = true }},
		{"trusted proxy", func(l *config.Limits) { l.ExemptLoopback = false; l.TrustedProxies = []string{"127.0.0.0/8", "::1"} }},
	} {
		t.Run(exempt.name, func(t *testing.T) { testBytesPerSecond(t, exempt.set) })
	}
}

func testBytesPerSecond(t *testing.T, exempt func(*config.Limits)) {
	srv := xmpptest.Start(t, func(c *config.Config) {
		exempt(&c.Limits)
		c.Limits.BytesPerSecond = 4096
		c.Limits.BurstBytes = 4096
	})
	srv.AddUser(t, "alice@localhost", "pw")
	r := srv.Raw(t)
	r.Login(srv.TLSConfig(t, "localhost"), "alice", "localhost", "pw", "r")
	start := time.Now()
	var b strings.Builder
	for i := 0; i < 24; i++ {
		b.WriteString("<iq type='get' id='q" + strconv.Itoa(i) + "' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>")
		b.WriteString(strings.Repeat(" ", 400)) // whitespace counts against the budget too
	}
	r.Write(b.String())
	r.ReadUntil(`id="q23"`, 30*time.Second)
	if time.Since(start) < 500*time.Millisecond {
		// Not a timing assertion on speed: ~12 KB at 4 KB/s with a 4 KB burst
		// cannot arrive in well under two seconds unless the limit is off.
		t.Fatalf("12 KB passed a 4 KB/s limit in %v", time.Since(start))
	}
}
