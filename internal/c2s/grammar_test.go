package c2s_test

import (
	"strings"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/xmpptest"
)

// TestMismatchedEndTagAnsweredAtOnce: a stanza whose end tag does not
// match its start tag, at depth 1, 2 or 3, gets not-well-formed at once,
// before and after authentication, while the client waits (it does not
// close its side), and the stanza sent after it in the same write is not
// handled. (The old framer counted depth without names: it waited for ever
// for an end tag that would bring it back to zero, swallowing what came
// after.)
func TestMismatchedEndTagAnsweredAtOnce(t *testing.T) {
	srv := xmpptest.Start(t)
	srv.AddUser(t, "alice@localhost", "pw")
	const auth = "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>"
	const plain = "AGFsaWNlAHB3" // \0alice\0pw
	preAuth := map[int]string{
		1: auth + plain + "</mechanism>",
		2: auth + "<x>" + plain + "</auth>",
		3: auth + "<x><y>" + plain + "</x></y></auth>",
	}
	postAuth := map[int]string{
		1: "<message to='alice@localhost' id='m1'></mesage>",
		2: "<message to='alice@localhost' id='m1'><body>hi</message>",
		3: "<message to='alice@localhost' id='m1'><body><b>hi</body></b></message>",
	}
	// What would be handled next: a valid login, a ping.
	const nextPreAuth = auth + plain + "</auth>"
	for depth := 1; depth <= 3; depth++ {
		t.Run("before authentication/depth "+string(rune('0'+depth)), func(t *testing.T) {
			r := srv.Raw(t)
			r.Open("localhost")
			r.StartTLS(srv.TLSConfig(t, "localhost"), "localhost")
			expectNotWellFormedFirst(t, r, preAuth[depth], nextPreAuth, "success")
		})
		t.Run("after authentication/depth "+string(rune('0'+depth)), func(t *testing.T) {
			r := srv.Raw(t)
			r.Login(srv.TLSConfig(t, "localhost"), "alice", "localhost", "pw", "r")
			expectNotWellFormedFirst(t, r, postAuth[depth], pingNext, "next")
		})
	}
}

// expectNotWellFormedFirst sends bad, then next in the same write, and
// checks that the stream ends with not-well-formed without the client
// closing its side, and that nothing shows next was handled (marker).
func expectNotWellFormedFirst(t *testing.T, r *xmpptest.Raw, bad, next, marker string) {
	t.Helper()
	r.Write(bad + next)
	out := r.ReadUntil("</stream:stream>", wait)
	if !strings.Contains(out, "not-well-formed") {
		t.Fatalf("want not-well-formed, got %q", tail(out))
	}
	if strings.Contains(out, marker) {
		t.Fatalf("the stanza after the bad one was handled: %q", tail(out))
	}
}

// TestStanzaMemoryLimit: 65,000 empty elements (260 KB, under the byte
// limit) would take about 7 MB as a tree; the default memory limit refuses
// the stanza with policy-violation saying why.
func TestStanzaMemoryLimit(t *testing.T) {
	srv := xmpptest.Start(t)
	srv.AddUser(t, "alice@localhost", "pw")
	r := srv.Raw(t)
	r.Login(srv.TLSConfig(t, "localhost"), "alice", "localhost", "pw", "r")
	r.TryWrite([]byte("<message to='alice@localhost'>" + strings.Repeat("<a/>", 65000) + "</message>"))
	out := r.ReadUntil("</stream:stream>", wait)
	if !strings.Contains(out, "policy-violation") || !strings.Contains(out, "memory") {
		t.Fatalf("got %q", tail(out))
	}
	// A configured limit applies: 2 MiB allows the same stanza with 10,000
	// elements, 1 MiB does not.
	for _, tc := range []struct {
		limit int
		ok    bool
	}{{2 << 20, true}, {1 << 20, false}} {
		srv := xmpptest.Start(t, func(c *config.Config) { c.Limits.MaxStanzaMemory = tc.limit })
		srv.AddUser(t, "alice@localhost", "pw")
		r := srv.Raw(t)
		r.Login(srv.TLSConfig(t, "localhost"), "alice", "localhost", "pw", "r")
		r.Write("<message to='alice@localhost/r' id='big'>" + strings.Repeat("<a/>", 10000) + "</message>" + pingNext)
		out, err := r.ReadUntilAny([]string{"id='next'", `id="next"`, "</stream:stream>"}, wait)
		if got := err == nil && !strings.Contains(out, "</stream:stream>"); got != tc.ok {
			t.Fatalf("limit %d: accepted=%v, want %v: %v %q", tc.limit, got, tc.ok, err, tail(out))
		}
	}
}

const pingNext = "<iq type='get' id='next' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>"

// TestXML11Refused: XMPP is XML 1.0 (RFC 6120 §11.8); an XML 1.1
// declaration ends the stream with not-well-formed.
func TestXML11Refused(t *testing.T) {
	srv := xmpptest.Start(t)
	r := srv.Raw(t)
	r.Write(strings.Replace(hdr, "version='1.0'?>", "version='1.1'?>", 1))
	out := r.ReadUntil("</stream:stream>", wait)
	if !strings.Contains(out, "not-well-formed") || !strings.Contains(out, "XML 1.0") {
		t.Fatalf("got %q", tail(out))
	}
}

// TestEmptyTo: to=” is not the absence of 'to'. In the stream header the
// server serves no domain "" (host-unknown, RFC 6120 §4.9.3.6); on a stanza
// the empty string is not a JID (jid-malformed, RFC 6120 §8.3.3.8), where
// no 'to' would address the user's own account.
func TestEmptyTo(t *testing.T) {
	srv := xmpptest.Start(t)
	srv.AddUser(t, "alice@localhost", "pw")
	r := srv.Raw(t)
	r.Write(strings.Replace(hdr, "to='localhost'", "to=''", 1))
	if out := r.ReadUntil("</stream:stream>", wait); !strings.Contains(out, "host-unknown") || !strings.Contains(out, "empty") {
		t.Fatalf("stream header to='': %q", tail(out))
	}

	r = srv.Raw(t)
	r.Login(srv.TLSConfig(t, "localhost"), "alice", "localhost", "pw", "r")
	for _, st := range []string{
		"<message to='' id='e1' type='chat'><body>x</body></message>",
		"<iq to='' id='e1' type='get'><ping xmlns='urn:xmpp:ping'/></iq>",
		"<presence to='' id='e1' type='subscribe'/>",
	} {
		r.Write(st)
		out := r.ReadUntil("</error>", wait)
		if !strings.Contains(out, "e1") || !strings.Contains(out, "jid-malformed") {
			t.Fatalf("%s: got %q", st, out)
		}
	}
	// The stream is still usable, and no 'to' still means the account.
	r.Write("<iq id='e2' type='get'><ping xmlns='urn:xmpp:ping'/></iq>")
	out, err := r.ReadUntilAny([]string{`id="e2" type="result"`, `id="e2" type="error"`}, wait)
	if err != nil || !strings.Contains(out, `id="e2" type="result"`) {
		t.Fatalf("ping without to: %v %q", err, out)
	}
}

// TestTLSHandshakeFailureSendsNoPlaintext: after <proceed/> the client
// speaks TLS; a handshake that times out or fails ends with the TCP
// connection closed, never with a plaintext stream error (RFC 6120
// §5.4.3.2).
func TestTLSHandshakeFailureSendsNoPlaintext(t *testing.T) {
	srv := xmpptest.Start(t, func(c *config.Config) {
		c.Limits.PreAuthTimeout = config.Duration(500 * time.Millisecond)
	})
	for _, tc := range []struct {
		name string
		send string
	}{
		{"timeout", ""},
		{"not TLS", "<iq type='get' id='x'/>\r\n\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := srv.Raw(t)
			r.Open("localhost")
			r.Write("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
			r.ReadUntil("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>", wait)
			if tc.send != "" {
				r.TryWrite([]byte(tc.send))
			}
			out, closed := r.ReadToEOF(wait)
			if !closed {
				t.Fatal("connection still open")
			}
			if strings.Contains(out, "<") {
				t.Fatalf("plaintext after <proceed/>: %q", out)
			}
		})
	}
}
