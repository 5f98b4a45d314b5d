package httpd_test

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/coder/websocket"
	"mellium.im/sasl"

	"github.com/parleyim/parley/internal/xmpptest"
)

// TestWebSocketSCRAMPlus: over wss the WebSocket's own TLS connection is
// the one the server binds SCRAM to: a client that binds to it (mellium's
// SCRAM-SHA-256-PLUS with tls-exporter, TLS 1.3) logs in; the session's
// channel binding is offered (XEP-0440).
func TestWebSocketSCRAMPlus(t *testing.T) {
	srv := xmpptest.Start(t)
	srv.AddUser(t, "alice@localhost", "pw-alice")
	var mu sync.Mutex
	var conn *tls.Conn
	cfg := srv.TLSConfig(t, "localhost")
	tr := &http.Transport{DialTLSContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&tls.Dialer{Config: cfg}).DialContext(ctx, network, addr)
		if err == nil {
			mu.Lock()
			conn = c.(*tls.Conn)
			mu.Unlock()
		}
		return c, err
	}}
	w := dialRaw(t, wsURL(srv), &websocket.DialOptions{Subprotocols: []string{"xmpp"}, HTTPClient: &http.Client{Transport: tr}})
	w.send(openLocalhost)
	f := w.until("mechanisms")
	if !strings.Contains(f, "SCRAM-SHA-256-PLUS") || !strings.Contains(f, "sasl-channel-binding") {
		t.Fatalf("no channel binding offered over wss: %q", f)
	}
	mu.Lock()
	state := conn.ConnectionState()
	mu.Unlock()
	client := sasl.NewClient(sasl.ScramSha256Plus, sasl.TLSState(state), sasl.RemoteMechanisms("SCRAM-SHA-256-PLUS"),
		sasl.Credentials(func() ([]byte, []byte, []byte) { return []byte("alice"), []byte("pw-alice"), nil }))
	_, first, err := client.Step(nil)
	if !strings.HasPrefix(string(first), "p=tls-exporter,") {
		t.Fatalf("the client does not bind: %q", first)
	}
	if err != nil {
		t.Fatal(err)
	}
	w.send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-256-PLUS'>" + base64.StdEncoding.EncodeToString(first) + "</auth>")
	resp := w.until("xmpp-sasl")
	if !strings.Contains(resp, "<challenge") {
		t.Fatalf("SCRAM-SHA-256-PLUS client-first answered %q", resp)
	}
	ch := between(resp, ">", "</challenge>")
	challenge, _ := base64.StdEncoding.DecodeString(ch)
	_, final, err := client.Step(challenge)
	if err != nil {
		t.Fatal(err)
	}
	w.send("<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>" + base64.StdEncoding.EncodeToString(final) + "</response>")
	if m := w.until("xmpp-sasl"); !strings.Contains(m, "<success") {
		t.Fatalf("SCRAM-SHA-256-PLUS over wss: %q", m)
	}
}

// between returns the text of s after the first open and before close.
func between(s, open, close string) string {
	i := strings.Index(s, open)
	j := strings.LastIndex(s, close)
	if i < 0 || j < i {
		return ""
	}
	return s[i+len(open) : j]
}
