package httpd_test

import (
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/xmpptest"
)

// rawWS is a WebSocket client that sends and reads RFC 7395 messages as
// text, for what mellium does not do (or does right).
type rawWS struct {
	t *testing.T
	c *websocket.Conn
}

func dialRaw(t *testing.T, url string, opts *websocket.DialOptions) *rawWS {
	t.Helper()
	if opts == nil {
		opts = &websocket.DialOptions{Subprotocols: []string{"xmpp"}}
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	c, _, err := websocket.Dial(ctx, url, opts)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return &rawWS{t: t, c: c}
}

func (w *rawWS) send(msg string) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := w.c.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
		w.t.Fatalf("write: %v", err)
	}
}

// read returns the next message.
func (w *rawWS) read() string {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	_, b, err := w.c.Read(ctx)
	if err != nil {
		w.t.Fatalf("read: %v", err)
	}
	return string(b)
}

// until reads messages until one contains text and returns it.
func (w *rawWS) until(text string) string {
	w.t.Helper()
	for {
		if m := w.read(); strings.Contains(m, text) {
			return m
		}
	}
}

const openLocalhost = "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='localhost' version='1.0'/>"

func plainAuth(user, password string) string {
	return "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>" +
		base64.StdEncoding.EncodeToString([]byte("\x00"+user+"\x00"+password)) + "</auth>"
}

// TestWebSocketFraming: <open/> is answered with <open/> and features,
// each element in a message of its own with its namespaces declared on it
// (RFC 7395 §3.3); no STARTTLS is offered; <close/> is answered with
// <close/>.
func TestWebSocketFraming(t *testing.T) {
	srv := xmpptest.Start(t)
	w := dialRaw(t, "ws://"+srv.Addr("http")+"/xmpp-websocket", nil)
	if w.c.Subprotocol() != "xmpp" {
		t.Fatalf("subprotocol %q", w.c.Subprotocol())
	}
	w.send(openLocalhost)
	open := w.read()
	if !strings.HasPrefix(open, "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing'") || !strings.Contains(open, "from='localhost'") ||
		!strings.Contains(open, "version='1.0'") || !strings.Contains(open, " id='") {
		t.Fatalf("open answered %q", open)
	}
	features := w.read()
	if !strings.HasPrefix(features, "<stream:features xmlns:stream='http://etherx.jabber.org/streams'>") || !strings.HasSuffix(features, "</stream:features>") {
		t.Fatalf("features message %q", features)
	}
	if strings.Contains(features, "starttls") {
		t.Errorf("STARTTLS offered over WebSocket: %q", features)
	}
	w.send("<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>")
	if m := w.read(); m != "<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>" {
		t.Fatalf("close answered %q", m)
	}
}

// TestWebSocketLoopbackPlain: plain HTTP from loopback counts as
// confidential (PLAIN is offered and works); stanzas come with
// xmlns='jabber:client' on them.
func TestWebSocketLoopbackPlain(t *testing.T) {
	srv := xmpptest.Start(t)
	srv.AddUser(t, "alice@localhost", "pw-alice")
	w := dialRaw(t, "ws://"+srv.Addr("http")+"/xmpp-websocket", nil)
	w.send(openLocalhost)
	if f := w.until("mechanisms"); !strings.Contains(f, "<mechanism>PLAIN</mechanism>") || strings.Contains(f, "-PLUS") {
		t.Fatalf("features over loopback plain HTTP: %q", f)
	}
	w.send(plainAuth("alice", "pw-alice"))
	w.until("<success")
	w.send(openLocalhost)
	w.until("urn:ietf:params:xml:ns:xmpp-bind")
	w.send("<iq xmlns='jabber:client' type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>")
	if m := w.until("<jid>"); !strings.HasPrefix(m, "<iq xmlns='jabber:client'") {
		t.Fatalf("stanza without its namespace: %q", m)
	}
}

// loginRaw logs alice in over w (plain HTTP from loopback), binds and
// returns the bound JID.
func loginRaw(w *rawWS) string {
	w.t.Helper()
	w.send(openLocalhost)
	w.until("mechanisms")
	w.send(plainAuth("alice", "pw-alice"))
	w.until("<success")
	w.send(openLocalhost)
	w.until("xmpp-bind")
	w.send("<iq xmlns='jabber:client' type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>")
	m := w.until("<jid>")
	return m[strings.Index(m, "<jid>")+5 : strings.Index(m, "</jid>")]
}

// TestWebSocketLenientFraming: RFC 7395 asks clients for one element per
// message; two in one, or one split over two (and over two frames), are
// still read, and each answer comes in a message of its own.
func TestWebSocketLenientFraming(t *testing.T) {
	srv := xmpptest.Start(t)
	srv.AddUser(t, "alice@localhost", "pw-alice")
	w := dialRaw(t, "ws://"+srv.Addr("http")+"/xmpp-websocket", nil)
	loginRaw(w)
	w.send("<iq xmlns='jabber:client' type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq><iq xmlns='jabber:client' type='get' id='p2'><ping xmlns='urn:xmpp:ping'/></iq>")
	// Answers are matched by their id attribute: the bound resource is
	// random and may itself contain "p2".
	if m := w.until(`id="p1"`); strings.Contains(m, `id="p2"`) {
		t.Fatalf("two answers in one message: %q", m)
	}
	w.until(`id="p2"`)
	w.send("<iq xmlns='jabber:client' type='get' id='p3'>")
	w.send("<ping xmlns='urn:xmpp:ping'/></iq>")
	w.until(`id="p3"`)
	// A fragmented message: a text frame and a continuation.
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	wr, err := w.c.Writer(ctx, websocket.MessageText)
	if err != nil {
		t.Fatal(err)
	}
	wr.Write([]byte("<iq xmlns='jabber:client' type='get' id='p4'>"))
	wr.Write([]byte("<ping xmlns='urn:xmpp:ping'/></iq>"))
	if err := wr.Close(); err != nil {
		t.Fatal(err)
	}
	w.until(`id="p4"`)
}

// TestWebSocketControlFrames: a WebSocket ping is answered with a pong; a
// binary message ends the stream with bad-format; <close/> is answered
// with <close/> and a close frame (normal closure).
func TestWebSocketControlFrames(t *testing.T) {
	srv := xmpptest.Start(t)
	srv.AddUser(t, "alice@localhost", "pw-alice")
	w := dialRaw(t, "ws://"+srv.Addr("http")+"/xmpp-websocket", nil)
	loginRaw(w)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	pong := make(chan error, 1)
	go func() { pong <- w.c.Ping(ctx) }()
	// The client sees the pong while it reads: read answers to XMPP pings
	// until the WebSocket ping is done.
	for i := 0; ; i++ {
		id := "ctl" + strconv.Itoa(i) + "x"
		w.send("<iq xmlns='jabber:client' type='get' id='" + id + "'><ping xmlns='urn:xmpp:ping'/></iq>")
		w.until(id)
		select {
		case err := <-pong:
			if err != nil {
				t.Fatalf("WebSocket ping: %v", err)
			}
		default:
			continue
		}
		break
	}
	w.send("<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>")
	w.until("<close")
	if _, _, err := w.c.Read(ctx); websocket.CloseStatus(err) != websocket.StatusNormalClosure {
		t.Fatalf("after <close/>: %v, want a normal closure", err)
	}

	b := dialRaw(t, "ws://"+srv.Addr("http")+"/xmpp-websocket", nil)
	b.send(openLocalhost)
	b.until("mechanisms")
	if err := b.c.Write(ctx, websocket.MessageBinary, []byte("<presence/>")); err != nil {
		t.Fatal(err)
	}
	if e := b.until("stream:error"); !strings.Contains(e, "bad-format") {
		t.Fatalf("binary message answered %q", e)
	}
}

// TestWebSocketParks: a silent WebSocket session parks like a TCP one (no
// goroutine, no buffer) and wakes for a message to it and for its client.
func TestWebSocketParks(t *testing.T) {
	srv := xmpptest.Start(t, func(c *config.Config) { c.C2S.ParkAfter = config.Duration(50 * time.Millisecond) })
	srv.AddUser(t, "alice@localhost", "pw-alice")
	srv.AddUser(t, "bob@localhost", "pw-bob")
	parked := func() float64 { return metric(t, srv, "parley_c2s_parked_connections") }
	base := parked()
	w := dialRaw(t, "ws://"+srv.Addr("http")+"/xmpp-websocket", nil)
	alice := loginRaw(w)
	xmpptest.Eventually(t, wait, "the WebSocket session to park", func() bool { return parked() > base })
	bob := srv.Dial(t, "bob@localhost", "pw-bob", xmpptest.DialOptions{})
	bob.Send(t, `<message to='`+alice+`' type='chat'><body>wake up</body></message>`)
	w.until("wake up")
	xmpptest.Eventually(t, wait, "it to park again", func() bool { return parked() > base })
	w.send("<iq xmlns='jabber:client' type='get' id='p9'><ping xmlns='urn:xmpp:ping'/></iq>")
	w.until("p9")

	// Over the HTTPS listener too (the poller waits on the socket under TLS).
	xmpptest.Eventually(t, wait, "alice to park again", func() bool { return parked() > base })
	secure, err := xmpptest.DialWebSocket(t, wsURL(srv), srv.TLSConfig(t, "localhost"), "bob@localhost", "pw-bob")
	if err != nil {
		t.Fatal(err)
	}
	xmpptest.Eventually(t, wait, "the wss session to park", func() bool { return parked() > base+1 })
	bob.Send(t, `<message to='`+secure.JID.String()+`' type='chat'><body>wake up over TLS</body></message>`)
	secure.Expect(t, wait, "the message", isChat("wake up over TLS"))
}

// metric reads one sample from the server's /metrics.
func metric(t *testing.T, srv *xmpptest.Server, series string) float64 {
	t.Helper()
	resp, err := http.Get("http://" + srv.Addr("admin") + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f
		}
	}
	return 0
}

// TestWebSocketRefusals: the handshake without the xmpp subprotocol is
// refused (RFC 7395 §3.1), and so is one from an origin not in
// http.cors_origins.
func TestWebSocketRefusals(t *testing.T) {
	srv := xmpptest.Start(t, func(c *config.Config) { c.HTTP.CORSOrigins = []string{"https://chat.example.org"} })
	url := "ws://" + srv.Addr("http") + "/xmpp-websocket"
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if _, resp, err := websocket.Dial(ctx, url, nil); err == nil || resp == nil || resp.StatusCode != http.StatusBadRequest {
		t.Errorf("no subprotocol: err %v, response %+v", err, resp)
	}
	h := http.Header{"Origin": {"https://evil.example"}}
	if _, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{"xmpp"}, HTTPHeader: h}); err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("other origin: err %v, response %+v", err, resp)
	}
	h = http.Header{"Origin": {"https://chat.example.org"}}
	w := dialRaw(t, url, &websocket.DialOptions{Subprotocols: []string{"xmpp"}, HTTPHeader: h})
	w.send(openLocalhost)
	w.until("mechanisms")
}

// TestWebSocketPlainHTTPFromAfar: over plain HTTP from an address that is
// neither loopback nor a trusted proxy, authentication is refused while
// c2s.require_tls holds; through a trusted proxy it is allowed, and the
// client's address is the one the proxy forwarded.
func TestWebSocketPlainHTTPFromAfar(t *testing.T) {
	for _, proxied := range []bool{false, true} {
		srv := xmpptest.Start(t, func(c *config.Config) {
			if proxied {
				c.Limits.TrustedProxies = []string{"203.0.113.0/24"}
			}
		})
		srv.AddUser(t, "alice@localhost", "pw-alice")
		h := srv.HTTPHandler()
		remote := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r.RemoteAddr = "203.0.113.7:40000" // as if from another host
			r.Header.Set("X-Forwarded-For", "198.51.100.9")
			h.ServeHTTP(w, r)
		}))
		t.Cleanup(remote.Close)
		w := dialRaw(t, "ws"+strings.TrimPrefix(remote.URL, "http")+"/xmpp-websocket", nil)
		w.send(openLocalhost)
		f := w.until("mechanisms")
		w.send(plainAuth("alice", "pw-alice"))
		if !proxied {
			if strings.Contains(f, ">PLAIN<") {
				t.Errorf("PLAIN offered over plain HTTP from afar: %q", f)
			}
			if e := w.until("stream:error"); !strings.Contains(e, "policy-violation") || !strings.Contains(e, "HTTPS") {
				t.Errorf("auth over plain HTTP from afar: %q", e)
			}
			continue
		}
		w.until("<success")
	}
}

// TestWebSocketIdlePing: a bound WebSocket session that goes silent is
// pinged (XEP-0199) and, when it does not answer, ends with
// connection-timeout, as on TCP.
func TestWebSocketIdlePing(t *testing.T) {
	srv := xmpptest.Start(t, func(c *config.Config) {
		c.C2S.PingInterval = config.Duration(300 * time.Millisecond)
		c.C2S.PingTimeout = config.Duration(300 * time.Millisecond)
	})
	srv.AddUser(t, "alice@localhost", "pw-alice")
	w := dialRaw(t, "ws://"+srv.Addr("http")+"/xmpp-websocket", nil)
	w.send(openLocalhost)
	w.until("mechanisms")
	w.send(plainAuth("alice", "pw-alice"))
	w.until("<success")
	w.send(openLocalhost)
	w.until("xmpp-bind")
	w.send("<iq xmlns='jabber:client' type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>")
	w.until("<jid>")
	if m := w.until("urn:xmpp:ping"); !strings.Contains(m, "type='get'") && !strings.Contains(m, `type="get"`) {
		t.Fatalf("ping %q", m)
	}
	if e := w.until("stream:error"); !strings.Contains(e, "connection-timeout") {
		t.Fatalf("unanswered ping ended with %q", e)
	}
}

// TestWebSocketPreAuthDeadline: a WebSocket that does not authenticate
// within limits.preauth_timeout ends with connection-timeout, as on TCP.
func TestWebSocketPreAuthDeadline(t *testing.T) {
	srv := xmpptest.Start(t, func(c *config.Config) { c.Limits.PreAuthTimeout = config.Duration(300 * time.Millisecond) })
	w := dialRaw(t, "ws://"+srv.Addr("http")+"/xmpp-websocket", nil)
	w.send(openLocalhost)
	w.until("mechanisms")
	if e := w.until("stream:error"); !strings.Contains(e, "connection-timeout") {
		t.Fatalf("an unauthenticated WebSocket ended with %q", e)
	}
}

// sessionStacks returns the stacks of the goroutines running c2s code: what
// a session that does not reach the state a test waits for is doing.
func sessionStacks() string {
	buf := make([]byte, 8<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var b strings.Builder
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "parley/internal/c2s.") {
			b.WriteString(g)
			b.WriteString("\n\n")
		}
	}
	return b.String()
}
