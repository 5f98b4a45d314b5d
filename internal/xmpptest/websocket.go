package xmpptest

import (
	"context"
	"crypto/tls"
	"testing"
	"time"

	"mellium.im/sasl"
	"mellium.im/xmpp"
	mjid "mellium.im/xmpp/jid"
	"mellium.im/xmpp/websocket"
)

// DialWebSocket logs user in over XMPP over WebSocket (RFC 7395) at url
// (wss://…/xmpp-websocket) with mellium's WebSocket client, verifying
// the certificate with cfg, and binds a resource; incoming stanzas arrive
// on Client.In as with Dial.
func DialWebSocket(t testing.TB, url string, cfg *tls.Config, user, password string) (*Client, error) {
	t.Helper()
	origin, err := mjid.Parse(user)
	if err != nil {
		return nil, err
	}
	d := websocket.Dialer{Origin: "https://" + origin.Domainpart(), TLSConfig: cfg}
	conn, err := d.DialDirect(context.Background(), url)
	if err != nil {
		return nil, err
	}
	stop := time.AfterFunc(10*time.Second, func() { conn.Close() })
	// The connection is TLS (wss): mellium's NewSession would tell that
	// from the Origin's scheme, so the session is made with the state set.
	features := []xmpp.StreamFeature{xmpp.SASL("", password, sasl.ScramSha256), xmpp.BindResource()}
	sess, err := xmpp.NewSession(context.Background(), origin.Domain(), origin, conn, xmpp.Secure,
		websocket.Negotiator(func(*xmpp.Session, *xmpp.StreamConfig) xmpp.StreamConfig {
			return xmpp.StreamConfig{Features: features}
		}))
	stop.Stop()
	if err != nil {
		conn.Close()
		return nil, err
	}
	c := &Client{S: sess, JID: sess.LocalAddr(), In: make(chan Stanza, 256), served: make(chan error, 1)}
	t.Cleanup(func() { c.Close() })
	go func() { c.served <- sess.Serve(xmpp.HandlerFunc(c.handle)) }()
	return c, nil
}
