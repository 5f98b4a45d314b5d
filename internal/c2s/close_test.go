package c2s_test

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/c2s"
	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/router"
	"github.com/parleyim/parley/internal/xmpptest"
)

// stopReading makes a raw client's socket take almost nothing more once it
// stops reading: a small receive buffer, so the server's writes block after
// a few MiB (its own send buffer) instead of tens. The returned function
// gives it a large buffer again, for reading all that quickly.
func stopReading(t *testing.T, r *xmpptest.Raw) (resume func()) {
	t.Helper()
	tcp := r.Conn.(*net.TCPConn)
	if err := tcp.SetReadBuffer(4096); err != nil {
		t.Fatal(err)
	}
	return func() { tcp.SetReadBuffer(4 << 20) }
}

// smallOpening keeps the features before login small (no SASL2, whose
// <authentication/> repeats the mechanism list) for the tests that use
// stopReading: with a 4 KiB receive buffer from the start, some 1.5 KiB
// more of stream opening was enough (measured with SASL2 and with a dummy
// feature of that size alike) for Linux to keep the client's receive window
// clamped to a few KiB after resume, so the client read what was queued for
// it at some 10-30 KiB/s and the tests timed out or saw no whole stanza.
func smallOpening(c *config.Config) { c.SASL2.Enabled, c.SASL2.FAST = false, false }

// onlySession returns the one session bound for bare.
func onlySession(t *testing.T, srv *xmpptest.Server, bare string) router.Session {
	t.Helper()
	ss := srv.Router().Sessions(jid.MustParse(bare))
	if len(ss) != 1 {
		t.Fatalf("%s has %d sessions, want 1", bare, len(ss))
	}
	return ss[0]
}

func bigChat(to string, n int) string {
	return `<message to='` + to + `' type='chat'><body>` + strings.Repeat("x", n) + `</body></message>`
}

// TestSlowConsumerGetsPolicyViolation: a client that stops reading while
// messages keep coming is closed once more than max_outbound_bytes wait for
// it, and when it reads again it finds what was written before the cut,
// then <policy-violation/> and the closing tag. The sender is not harmed.
func TestSlowConsumerGetsPolicyViolation(t *testing.T) {
	srv := xmpptest.Start(t, func(c *config.Config) { c.Limits.MaxOutboundBytes = 256 << 10 }, smallOpening)
	srv.AddUser(t, "alice@localhost", "pw")
	srv.AddUser(t, "bob@localhost", "pw")
	before := c2s.StreamErrorCount(t, "policy-violation")
	bob := srv.Raw(t)
	resume := stopReading(t, bob)
	bob.Login(srv.TLSConfig(t, "localhost"), "bob", "localhost", "pw", "phone")
	alice := srv.Dial(t, "alice@localhost", "pw", xmpptest.DialOptions{})
	msg := bigChat("bob@localhost/phone", 32<<10)
	deadline := time.Now().Add(60 * time.Second)
	for sent := 0; len(srv.Router().Sessions(jid.MustParse("bob@localhost"))) > 0; sent++ {
		if time.Now().After(deadline) {
			t.Fatalf("bob still bound after %d messages of 32 KiB he does not read", sent)
		}
		alice.Send(t, msg)
	}
	resume()
	out, closed := bob.ReadToEOF(30 * time.Second)
	if !closed {
		t.Fatalf("the slow consumer's connection stayed open")
	}
	i := strings.Index(out, "<policy-violation")
	if i < 0 || !strings.Contains(out[i:], "slow consumer") || !strings.HasSuffix(out, "</stream:stream>") {
		t.Fatalf("the slow consumer did not receive its stream error; the last bytes: %q", out[max(0, len(out)-300):])
	}
	// The error follows whole stanzas: the stream is well formed up to it.
	if j := strings.LastIndex(out[:i], "</message>"); j < 0 || out[j+len("</message>"):i] != "<stream:error>" {
		t.Fatalf("the stream error does not follow a whole stanza: %q", out[max(0, i-200):i+20])
	}
	if got := c2s.StreamErrorCount(t, "policy-violation"); got != before+1 {
		t.Fatalf("parley_stream_errors_total{condition=policy-violation} went from %v to %v, want one more", before, got)
	}
	if res := alice.IQ(t, `<iq type='get' id='p1' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`); res.Attr("type") != "result" {
		t.Fatalf("the sender after the cut: %+v", res)
	}
}

// TestConflictWithStalledOldSocket: a new connection binding the resource
// of a session whose client stopped reading (its socket stalled in a
// write) is not held by it: the old one leaves the router and its context
// ends before the new session's bind result, the new session answers at
// once, and the old client, reading again, gets what was queued and then
// <conflict/>.
func TestConflictWithStalledOldSocket(t *testing.T) {
	srv := xmpptest.Start(t, func(c *config.Config) {
		c.Limits.MaxOutboundBytes = 64 << 20 // stalled, not cut as a slow consumer
		c.C2S.WriteTimeout = config.Duration(10 * time.Minute)
	}, smallOpening)
	srv.AddUser(t, "alice@localhost", "pw")
	srv.AddUser(t, "bob@localhost", "pw")
	cfg := srv.TLSConfig(t, "localhost")
	old := srv.Raw(t)
	resume := stopReading(t, old)
	old.Login(cfg, "alice", "localhost", "pw", "phone")
	oldSess := onlySession(t, srv, "alice@localhost")
	bob := srv.Dial(t, "bob@localhost", "pw", xmpptest.DialOptions{})
	msg := bigChat("alice@localhost/phone", 32<<10)
	deadline := time.Now().Add(60 * time.Second)
	// Once bytes pile up in the queue, the flusher is blocked in a write
	// the client does not take.
	for c2s.QueuedBytes(oldSess) < 256<<10 {
		if time.Now().After(deadline) {
			t.Fatalf("the old session's socket never stalled (%d bytes queued)", c2s.QueuedBytes(oldSess))
		}
		bob.Send(t, msg)
	}

	newer := srv.Raw(t)
	newer.Login(cfg, "alice", "localhost", "pw", "phone")
	// The old session's state ended before the new one's bind result
	// (so its unavailable presence goes out first).
	if c2s.SessionContext(oldSess).Err() == nil {
		t.Fatal("bound as the new session while the replaced one had not ended")
	}
	newer.Write(`<iq type='get' id='p9' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`)
	if got, _ := newer.ReadUntilAny([]string{`type="result"`, `type="error"`}, wait); !strings.Contains(got, `type="result"`) {
		t.Fatalf("new session not usable while the old socket is stalled: %q", got)
	}
	if s := onlySession(t, srv, "alice@localhost"); s == oldSess {
		t.Fatal("the old session is still the bound one")
	}
	resume()
	out, closed := old.ReadToEOF(30 * time.Second)
	if !closed || !strings.Contains(out, "<conflict") || !strings.HasSuffix(out, "</stream:stream>") {
		t.Fatalf("old client reading again: closed=%v, last bytes %q", closed, out[max(0, len(out)-300):])
	}
}

// TestSessionContextEndsWithSession: a session's context is cancelled when
// its client closes the stream, and not before.
func TestSessionContextEndsWithSession(t *testing.T) {
	srv := xmpptest.Start(t)
	srv.AddUser(t, "alice@localhost", "pw")
	r := srv.Raw(t)
	r.Login(srv.TLSConfig(t, "localhost"), "alice", "localhost", "pw", "phone")
	ctx := c2s.SessionContext(onlySession(t, srv, "alice@localhost"))
	r.Write(`<iq type='get' id='p1' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`)
	r.ReadUntil(`"p1" type="result"`, wait)
	if err := ctx.Err(); err != nil {
		t.Fatalf("context of a live session: %v", err)
	}
	r.Write("</stream:stream>")
	if out, closed := r.ReadToEOF(wait); !closed || !strings.HasSuffix(out, "</stream:stream>") {
		t.Fatalf("close: closed=%v %q", closed, out)
	}
	select {
	case <-ctx.Done():
	case <-time.After(wait):
		t.Fatal("the session's context outlived the session")
	}
}

// TestShutdownDuringStreamOpening: shutdown while connections are at every
// step of opening a stream (and new ones keep arriving) ends them all
// without waiting for their timeouts: plaintext ones and those with a
// stream get <system-shutdown/> (RFC 6120 §4.9.1.1: with a header when
// they had none), one in the middle of a TLS handshake and those on the
// direct TLS port before their handshake get no plaintext, and shutdown
// returns without needing its deadline. Run it with -race.
func TestShutdownDuringStreamOpening(t *testing.T) {
	srv := xmpptest.Start(t)
	srv.AddUser(t, "alice@localhost", "pw")
	cfg := srv.TLSConfig(t, "localhost")

	silent := srv.Raw(t)
	halfHeader := srv.Raw(t)
	halfHeader.Write(`<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='local`)
	opened := srv.Raw(t)
	opened.Open("localhost")
	inHandshake := srv.Raw(t)
	inHandshake.Open("localhost")
	inHandshake.Write("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
	inHandshake.ReadUntil("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>", wait)
	secured := srv.Raw(t)
	secured.Open("localhost")
	secured.StartTLS(cfg, "localhost")
	authed := srv.Raw(t)
	authed.Open("localhost")
	authed.StartTLS(cfg, "localhost")
	if out := authed.Plain("", "alice", "pw"); !strings.Contains(out, "success") {
		t.Fatalf("login: %q", out)
	}
	directSilent := srv.RawAt(t, srv.Addr("c2s-tls"))
	directHalf := srv.RawAt(t, srv.Addr("c2s-tls"))
	directHalf.Write("\x16\x03\x01\x02\x00\x01") // the start of a ClientHello

	// New connections keep arriving while the server shuts down.
	stop := make(chan struct{})
	var storm sync.WaitGroup
	for range 4 {
		storm.Add(1)
		go func() {
			defer storm.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				c, err := net.Dial("tcp", srv.Addr("c2s"))
				if err != nil {
					return // the listener is closed
				}
				c.SetDeadline(time.Now().Add(wait))
				c.Write([]byte(xmpptest.Header("localhost")))
				c.Read(make([]byte, 512))
				c.Close()
			}
		}()
	}
	defer func() { close(stop); storm.Wait() }()

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if ctx.Err() != nil {
		t.Fatal("shutdown needed its deadline: some connection did not end when asked")
	}
	for name, r := range map[string]*xmpptest.Raw{"silent": silent, "half a header": halfHeader, "features read": opened, "after STARTTLS": secured, "after SASL": authed} {
		if out, closed := r.ReadToEOF(wait); !closed || !strings.Contains(out, "system-shutdown") {
			t.Errorf("%s: closed=%v %q", name, closed, out)
		}
	}
	for name, r := range map[string]*xmpptest.Raw{"in the TLS handshake": inHandshake, "direct TLS, silent": directSilent, "direct TLS, half a ClientHello": directHalf} {
		if out, closed := r.ReadToEOF(wait); !closed || strings.Contains(out, "stream:error") {
			t.Errorf("%s: closed=%v %q", name, closed, out)
		}
	}
}
