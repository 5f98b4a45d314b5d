package httpd_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
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

// TestWebSocketOneElementPerMessage: two elements in one message, or one
// element split over two, end the stream with a stream error.
func TestWebSocketOneElementPerMessage(t *testing.T) {
	srv := xmpptest.Start(t)
	for name, msgs := range map[string][]string{
		"two in one": {"<iq xmlns='jabber:client' type='get' id='1'/><iq xmlns='jabber:client' type='get' id='2'/>"},
		"one in two": {"<iq xmlns='jabber:client' type='get' id='1'>", "</iq>"},
	} {
		t.Run(name, func(t *testing.T) {
			w := dialRaw(t, "ws://"+srv.Addr("http")+"/xmpp-websocket", nil)
			w.send(openLocalhost)
			w.until("mechanisms")
			for _, m := range msgs {
				w.send(m)
			}
			if e := w.until("stream:error"); !strings.Contains(e, "not-well-formed") || !strings.Contains(e, "xmlns:stream=") {
				t.Fatalf("stream error %q", e)
			}
			if m := w.read(); !strings.HasPrefix(m, "<close") {
				t.Fatalf("after the stream error: %q", m)
			}
		})
	}
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
