package c2s

import (
	"crypto/tls"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/parleyim/parley/internal/sockio"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/stream"
	"github.com/parleyim/parley/internal/xmlstream"
)

// WebSocketProtocol is the WebSocket subprotocol of RFC 7395 §3.1.
const WebSocketProtocol = "xmpp"

// wsTransport carries a client stream over a WebSocket (RFC 7395): the
// stream opens with <open/> and closes with <close/>, each element we
// write is a text message of its own with its namespaces declared, and
// TLS is below HTTP (no STARTTLS). Under the framing it is the TCP
// transport on the hijacked connection (tcp.go, park.go): the same byte
// rate, deadlines, pings, parking of a silent session and close sequence.
// Frames are read by wsReader (wsframe.go).
//
// Elements the client sends are read as one stream: an element split
// over two messages, or two in one, is accepted (RFC 7395 §3.3.3 asks
// clients for one per message; a receiver has no need to refuse).
type wsTransport struct {
	tcp        *tcpTransport
	s          *Session
	rd         wsReader
	wantHeader bool
	closeOnce  sync.Once // our close frame
}

type wsSession struct {
	Session
	tcp tcpTransport
	ws  wsTransport
}

var (
	_ transport    = (*wsTransport)(nil)
	_ sessionMover = (*wsTransport)(nil)
)

// moveTo makes the connection carry s, a session it resumed (XEP-0198,
// resume.go): the frames and the TCP loop are s's from now on.
func (t *wsTransport) moveTo(s *Session) {
	t.s = s
	t.tcp.moveTo(s)
}

// syntheticHeader opens the decoder's stream: a WebSocket stream has no
// <stream:stream>, and its elements are read as children of one with
// jabber:client as the default namespace and the stream prefix declared.
const syntheticHeader = "<stream:stream xmlns='" + stream.NSClient + "' xmlns:stream='" + stream.NSStream + "'>"

// ServeWebSocket takes over the connection of r for a client session over
// WebSocket (RFC 7395) and returns; the session then runs like a TCP one.
// The caller has checked the origin (CORS); peer says who the client is.
func (s *Server) ServeWebSocket(w http.ResponseWriter, r *http.Request, peer Peer) {
	accept, refuse := wsHandshake(r)
	if refuse == "" && !offersProtocol(r, WebSocketProtocol) {
		// RFC 7395 §3.1: without the xmpp subprotocol there is no XMPP
		// connection to establish.
		refuse = `the WebSocket subprotocol "xmpp" is required (RFC 7395 §3.1): open the WebSocket with protocols ["xmpp"]`
	}
	if refuse != "" {
		w.Header().Set("Sec-WebSocket-Version", "13")
		http.Error(w, refuse, http.StatusBadRequest)
		return
	}
	release, err := s.limiter.Acquire(peer.Addr)
	if err != nil {
		s.log.Info("connection refused", "peer", peer.Addr, "transport", "websocket", "err", err)
		http.Error(w, "too many connections from your address", http.StatusTooManyRequests)
		return
	}
	c, err := hijack(w, accept)
	if err != nil {
		release()
		s.log.Debug("websocket handshake failed", "peer", peer.Addr, "err", err)
		return
	}
	x := &wsSession{}
	sess, t := &x.Session, &x.ws
	if !s.webSession(r.Context(), sess, t, peer.Addr) {
		release()
		c.Close()
		return
	}
	t.tcp, t.s = &x.tcp, sess
	t.tcp.s, t.tcp.c, t.tcp.slot, t.tcp.tls = sess, c, release, peer.security()
	t.setup()
	t.tcp.start()
}

// hijack answers the handshake with 101 and takes the connection. A
// client may not send before the answer, so nothing is buffered.
func hijack(w http.ResponseWriter, accept string) (net.Conn, error) {
	c, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return nil, err
	}
	if brw.Reader.Buffered() > 0 {
		c.Close()
		return nil, errWSFrame
	}
	c.SetDeadline(time.Time{})
	resp := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: " + accept + "\r\nSec-WebSocket-Protocol: " + WebSocketProtocol + "\r\n\r\n"
	c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write([]byte(resp)); err != nil {
		c.Close()
		return nil, err
	}
	c.SetWriteDeadline(time.Time{})
	if tc, ok := c.(*net.TCPConn); ok {
		return sockio.Wrap(tc), nil
	}
	return c, nil
}

// setup makes the decoder over the frames, past the synthetic header: the
// TCP transport then runs as if its stream had started.
func (t *wsTransport) setup() {
	t.rd = wsReader{t: t, src: t.tcp.reader(), pre: []byte(syntheticHeader)}
	t.tcp.dec = xmlstream.NewDecoder(&t.rd, t.s.limitsPreAuth())
	t.tcp.dec.ReadHeader() // cannot fail: it is ours
	t.tcp.started = true
	t.wantHeader = true
}

func (t *wsTransport) WantHeader() bool { return t.wantHeader }

// ReadHeader reads <open/> (RFC 7395 §3.3.2) and returns it as a stream
// header of the jabber:client namespace.
func (t *wsTransport) ReadHeader() (xmlstream.Header, error) {
	el, err := t.tcp.dec.Next()
	if err != nil {
		return xmlstream.Header{}, err
	}
	if el.Space == NSFraming && el.Local == "close" {
		return xmlstream.Header{}, xmlstream.ErrStreamClosed
	}
	if el.Space != NSFraming || el.Local != "open" {
		return xmlstream.Header{}, stream.New(stream.InvalidNamespace, "the stream must open with <open xmlns='"+NSFraming+"'/> (RFC 7395 §3.3.2)")
	}
	t.wantHeader = false
	return xmlstream.Header{Space: stream.NSClient, StreamPrefix: "stream",
		To: el.Attr("to"), From: el.Attr("from"), ID: el.Attr("id"), Version: el.Attr("version"), Lang: el.Lang()}, nil
}

// Next returns the next element; <close/> ends the stream.
func (t *wsTransport) Next() (*stanza.Element, error) {
	el, err := t.tcp.Next()
	if err != nil {
		return nil, err
	}
	if el.Space == NSFraming {
		if el.Local == "close" {
			return nil, xmlstream.ErrStreamClosed
		}
		return nil, stream.New(stream.NotWellFormed, "<"+el.Local+"/> inside an open stream")
	}
	return el, nil
}

// Restart expects a new <open/> (after SASL), read with limits l.
func (t *wsTransport) Restart(l xmlstream.Limits) {
	t.tcp.dec.SetLimits(l)
	t.wantHeader = true
}

// AppendOpen writes <open/> (RFC 7395 §3.3.2).
func (t *wsTransport) AppendOpen(b []byte, h stream.Header) []byte {
	b = append(b, "<open xmlns='"+NSFraming+"'"...)
	b = stanza.AppendAttr(b, "id", h.ID)
	b = stanza.AppendAttr(b, "from", h.From)
	b = stanza.AppendAttr(b, "to", h.To)
	return append(b, " version='1.0' xml:lang='en'/>"...)
}

const wsCloseElement = "<close xmlns='" + NSFraming + "'/>"

// AppendClose writes <close/> (RFC 7395 §3.3.3); Write follows it with
// the WebSocket's close frame.
func (t *wsTransport) AppendClose(b []byte) []byte {
	return append(b, wsCloseElement...)
}

// Write sends each element of b as a text message of its own, with its
// namespace declared (RFC 7395 §3.3.3), in one write.
func (t *wsTransport) Write(b []byte, timeout time.Duration) error {
	out := bufPool.Get().(*[]byte)
	el := bufPool.Get().(*[]byte)
	defer putBuf(out)
	defer putBuf(el)
	eachElement(b, func(e []byte) {
		*el = appendQualified((*el)[:0], e, false)
		*out = appendFrame(*out, wsText, *el)
		if string(e) == wsCloseElement {
			// After our <close/>, the WebSocket's close (RFC 7395 §3.6).
			t.closeOnce.Do(func() { *out = appendFrame(*out, wsClose, []byte{0x03, 0xe8}) })
		}
	})
	return t.tcp.Write(*out, timeout)
}

func (t *wsTransport) Writable() bool { return t.tcp.Writable() }

func (t *wsTransport) TLS() (*tls.ConnectionState, bool) { return t.tcp.tls, false }

func (t *wsTransport) Wake() { t.tcp.Wake() }

// Finish: our close frame went out with <close/> (Write); the client's
// close frame or the end of the connection ends the draining.
func (t *wsTransport) Finish(grace time.Duration) { t.tcp.Finish(grace) }

// closeFrame answers the client's close frame, unless ours went out
// already: with the status it carried (RFC 6455 §5.5.1).
func (t *wsTransport) closeFrame(peer []byte) {
	t.closeOnce.Do(func() {
		status := []byte{0x03, 0xe8} // 1000: normal closure
		if len(peer) >= 2 {
			status = peer[:2]
		}
		t.writeFrame(wsClose, status)
	})
}

// writeFrame writes a control frame from the owner, between the output
// queue's writes.
func (t *wsTransport) writeFrame(opcode byte, payload []byte) error {
	o := &t.s.out
	o.wmu.Lock()
	defer o.wmu.Unlock()
	return t.tcp.Write(appendFrame(nil, opcode, payload), t.s.srv.cfg.C2S.WriteTimeout.D())
}

func (t *wsTransport) Close() { t.tcp.Close() }
