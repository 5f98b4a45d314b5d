package loadtest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/coder/websocket"

	"github.com/parleyim/parley/internal/xmlstream"
)

// This file is the client side of XMPP over WebSocket (RFC 7395) for a
// Target with a WebSocket URL: a WebSocket opened with the xmpp
// subprotocol, each write one message (one element), <open/> and <close/>
// instead of the stream tags. The server's messages are read as one
// stream, as children of a stream header the client makes up.

const nsFraming = "urn:ietf:params:xml:ns:xmpp-framing"

// wsHeader opens the decoder's stream: the messages are its children.
const wsHeader = "<stream:stream xmlns='jabber:client' xmlns:stream='" + nsStream + "'>"

// connectWS opens the WebSocket of t.WebSocket, sending no XML.
func (t *Target) connectWS(ctx context.Context) (*Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, t.timeout())
	defer cancel()
	ws, _, err := websocket.Dial(ctx, t.WebSocket, &websocket.DialOptions{
		Subprotocols: []string{"xmpp"},
		HTTPClient:   &http.Client{Transport: &http.Transport{TLSClientConfig: t.TLS}},
	})
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", t.WebSocket, err)
	}
	if ws.Subprotocol() != "xmpp" {
		ws.CloseNow()
		return nil, fmt.Errorf("dial %s: the server did not accept the xmpp subprotocol", t.WebSocket)
	}
	ws.SetReadLimit(1<<20 + 4096)
	nc := websocket.NetConn(context.Background(), ws, websocket.MessageText)
	c := &Conn{t: t, nc: nc, tcp: nc, ws: true}
	c.dec = xmlstream.NewDecoder(io.MultiReader(strings.NewReader(wsHeader), nc), xmlstream.Limits{MaxElementBytes: 1 << 20})
	if _, err := c.dec.ReadHeader(); err != nil {
		nc.Close()
		return nil, err
	}
	nc.SetDeadline(time.Now().Add(t.timeout()))
	return c, nil
}

// openWS sends <open/> and reads the server's <open/> and features.
func (c *Conn) openWS() error {
	if err := c.write([]byte("<open xmlns='" + nsFraming + "' to='" + c.t.Domain + "' version='1.0'/>")); err != nil {
		return err
	}
	if _, err := c.expect(nsFraming, "open"); err != nil {
		return err
	}
	el, err := c.expect(nsStream, "features")
	if err != nil {
		return err
	}
	c.feat = el
	return nil
}

// closeTag ends our side of the stream.
func (c *Conn) closeTag() string {
	if c.ws {
		return "<close xmlns='" + nsFraming + "'/>"
	}
	return "</stream:stream>"
}
