package c2s

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/parleyim/parley/internal/limits"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/stream"
	"github.com/parleyim/parley/internal/xmlstream"
)

// WebSocketProtocol is the WebSocket subprotocol of RFC 7395 §3.1.
const WebSocketProtocol = "xmpp"

// wsTransport carries a client stream over one WebSocket (RFC 7395): each
// message is one element, the stream opens with <open/> and closes with
// <close/>, TLS is below HTTP (no STARTTLS). The HTTP handler's goroutine
// runs the session (the owner); a second goroutine reads messages, so the
// owner can wait for a message, its timers (ping, pre-auth and ping
// deadlines) and a close request at once. Messages are decoded by an
// xmlstream decoder through the byte rate, with the session's limits, as
// on TCP. A WebSocket session does not park (docs/benchmarks.md gives its
// idle cost).
type wsTransport struct {
	s   *Session
	c   *websocket.Conn
	tls *tls.ConnectionState

	msgs chan wsMessage // from readLoop
	wake chan struct{}  // Wake: capacity 1
	done chan struct{}  // closed when the owner is done: readLoop stops handing over
	once sync.Once      // Close

	// The owner's.
	dec        *xmlstream.Decoder
	cur        []byte // the rest of the message being decoded
	fetched    bool   // a message was taken during this element
	wantHeader bool
	draining   bool
	finishAt   time.Time
	timer      *time.Timer
}

// wsMessage is one message from readLoop, or the error that ended it.
type wsMessage struct {
	typ websocket.MessageType
	b   []byte
	err error
}

type wsSession struct {
	Session
	ws wsTransport
}

var _ transport = (*wsTransport)(nil)

// syntheticHeader opens the decoder's stream: a WebSocket stream has no
// <stream:stream>, and its elements are read as children of one with
// jabber:client as the default namespace and the stream prefix declared.
const syntheticHeader = "<stream:stream xmlns='" + stream.NSClient + "' xmlns:stream='" + stream.NSStream + "'>"

// ServeWebSocket runs a client session over the WebSocket of r (RFC 7395)
// until it ends. The caller has checked the origin (CORS); peer says who
// the client is.
func (s *Server) ServeWebSocket(w http.ResponseWriter, r *http.Request, peer Peer) {
	if !offersProtocol(r, WebSocketProtocol) {
		// RFC 7395 §3.1: without the xmpp subprotocol there is no XMPP
		// connection to establish.
		http.Error(w, `the WebSocket subprotocol "xmpp" is required (RFC 7395 §3.1): open the WebSocket with protocols ["xmpp"]`, http.StatusBadRequest)
		return
	}
	release, err := s.limiter.Acquire(peer.Addr)
	if err != nil {
		s.log.Info("connection refused", "peer", peer.Addr, "transport", "websocket", "err", err)
		http.Error(w, "too many connections from your address", http.StatusTooManyRequests)
		return
	}
	defer release()
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		Subprotocols:       []string{WebSocketProtocol},
		InsecureSkipVerify: true, // the origin was checked by the HTTP server (cors_origins)
	})
	if err != nil {
		s.log.Debug("websocket handshake failed", "peer", peer.Addr, "err", err)
		return
	}
	c.SetReadLimit(int64(s.cfg.Limits.MaxStanzaBytes) + 4096)
	x := &wsSession{}
	sess, t := &x.Session, &x.ws
	t.s, t.c, t.tls = sess, c, peer.security()
	t.msgs, t.wake, t.done = make(chan wsMessage), make(chan struct{}, 1), make(chan struct{})
	if !s.webSession(r.Context(), sess, t, peer.Addr) {
		c.Close(websocket.StatusGoingAway, "the server is shutting down")
		return
	}
	t.run()
}

// offersProtocol reports whether the client's handshake lists proto in
// Sec-WebSocket-Protocol.
func offersProtocol(r *http.Request, proto string) bool {
	for _, h := range r.Header.Values("Sec-WebSocket-Protocol") {
		for len(h) > 0 {
			var p string
			p, h, _ = cutComma(h)
			if p == proto {
				return true
			}
		}
	}
	return false
}

func cutComma(s string) (before, after string, found bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == ',' {
			return trimSpace(s[:i]), s[i+1:], true
		}
	}
	return trimSpace(s), "", false
}

func trimSpace(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// run is the owner: it serves the session until it ends.
func (t *wsTransport) run() {
	s := t.s
	now := time.Now()
	s.deadline = now.Add(s.srv.cfg.Limits.PreAuthTimeout.D())
	s.lastRead = now
	go t.readLoop()
	t.setup()
	err := s.serve(&s.ctx)
	s.stop(err)
	close(t.done)
	s.srv.ended(s)
}

// setup makes the decoder and feeds it the synthetic stream header.
func (t *wsTransport) setup() {
	t.cur = []byte(syntheticHeader)
	t.dec = xmlstream.NewDecoder(limits.NewRateReader(wsReader{t}, t.s.rate(), t.s.srv.cfg.Limits.BurstBytes), t.s.limitsPreAuth())
	t.dec.ReadHeader() // cannot fail: it is ours
	t.wantHeader = true
}

// readLoop reads messages and hands them to the owner, until the
// connection is closed (Close) or fails.
func (t *wsTransport) readLoop() {
	for {
		typ, b, err := t.c.Read(context.Background())
		select {
		case t.msgs <- wsMessage{typ, b, err}:
		case <-t.done:
			return
		}
		if err != nil {
			return
		}
	}
}

// wsReader is what the decoder reads: the messages, one at a time. An
// element may not go on into a second message (RFC 7395 §3.3.3).
type wsReader struct{ t *wsTransport }

var errSplit = stream.New(stream.NotWellFormed, "an element must be whole in one WebSocket message (RFC 7395 §3.3.3)")

func (r wsReader) Read(p []byte) (int, error) {
	t := r.t
	for len(t.cur) == 0 {
		if t.fetched {
			return 0, errSplit
		}
		b, err := t.message()
		if err != nil {
			return 0, err
		}
		if len(trimXMLSpace(b)) == 0 {
			continue
		}
		t.cur, t.fetched = b, true
	}
	n := copy(p, t.cur)
	t.cur = t.cur[n:]
	return n, nil
}

func trimXMLSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\r' || b[0] == '\n') {
		b = b[1:]
	}
	return b
}

// message waits for the next message, the session's wake time or a close
// request, like idleReader on TCP: a silent bound session is pinged, a
// deadline that passes ends it.
func (t *wsTransport) message() ([]byte, error) {
	s := t.s
	for {
		if !t.draining && s.closing.Load() {
			return nil, errClosing
		}
		dl := s.wakeAt()
		if t.draining {
			dl = t.finishAt
		}
		if t.timer == nil {
			t.timer = time.NewTimer(time.Until(dl))
		} else {
			t.timer.Reset(time.Until(dl))
		}
		select {
		case m := <-t.msgs:
			t.timer.Stop()
			return t.received(m)
		case <-t.wake:
			t.timer.Stop()
		case <-t.timer.C:
			if t.draining {
				return nil, os.ErrDeadlineExceeded
			}
			if s.closing.Load() {
				return nil, errClosing
			}
			if time.Now().Before(s.wakeAt()) || s.pingIdle() {
				continue
			}
			return nil, os.ErrDeadlineExceeded
		}
	}
}

// received turns a message from readLoop into bytes or the error that
// ends the stream.
func (t *wsTransport) received(m wsMessage) ([]byte, error) {
	if m.err != nil {
		switch websocket.CloseStatus(m.err) {
		case websocket.StatusNormalClosure, websocket.StatusGoingAway:
			return nil, io.EOF
		case websocket.StatusMessageTooBig:
			return nil, stream.New(stream.PolicyViolation, "WebSocket message too big")
		}
		if errors.Is(m.err, websocket.ErrMessageTooBig) {
			return nil, stream.New(stream.PolicyViolation, "WebSocket message too big")
		}
		return nil, io.EOF
	}
	if m.typ != websocket.MessageText {
		return nil, stream.New(stream.BadFormat, "XMPP over WebSocket uses text messages (RFC 7395 §3.2)")
	}
	t.s.heard()
	return m.b, nil
}

func (t *wsTransport) WantHeader() bool { return t.wantHeader }

// ReadHeader reads <open/> (RFC 7395 §3.3.2) and returns it as a stream
// header of the jabber:client namespace.
func (t *wsTransport) ReadHeader() (xmlstream.Header, error) {
	el, err := t.next()
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
	if t.dec == nil {
		return nil, io.EOF
	}
	el, err := t.next()
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

// next decodes the element of one message and makes sure the message
// holds nothing else.
func (t *wsTransport) next() (*stanza.Element, error) {
	t.fetched = false
	el, err := t.dec.Next()
	if err != nil {
		return nil, err
	}
	if len(trimXMLSpace(t.cur)) > 0 || !t.dec.BufferedSpace() {
		return nil, stream.New(stream.NotWellFormed, "one WebSocket message must hold one element (RFC 7395 §3.3.3)")
	}
	t.cur = nil
	return el, nil
}

// Restart expects a new <open/> (after SASL).
func (t *wsTransport) Restart(l xmlstream.Limits) {
	t.dec.SetLimits(l)
	t.wantHeader = true
}

// AppendOpen writes <open/> (RFC 7395 §3.3.2).
func (t *wsTransport) AppendOpen(b []byte, h stream.Header) []byte {
	b = append(b, "<open xmlns='"+NSFraming+"'"...)
	b = appendAttr(b, "id", h.ID)
	b = appendAttr(b, "from", h.From)
	b = appendAttr(b, "to", h.To)
	return append(b, " version='1.0' xml:lang='en'/>"...)
}

// AppendClose writes <close/> (RFC 7395 §3.3.3).
func (t *wsTransport) AppendClose(b []byte) []byte {
	return append(b, "<close xmlns='"+NSFraming+"'/>"...)
}

func appendAttr(b []byte, name, value string) []byte {
	if value == "" {
		return b
	}
	b = append(b, ' ')
	b = append(b, name...)
	b = append(b, "='"...)
	b = stanza.AppendEscapedAttr(b, value)
	return append(b, '\'')
}

// Write sends each element of b as a message of its own, with its
// namespace declared (RFC 7395 §3.3.3).
func (t *wsTransport) Write(b []byte, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	buf := bufPool.Get().(*[]byte)
	defer putBuf(buf)
	var err error
	eachElement(b, func(el []byte) {
		if err != nil {
			return
		}
		*buf = appendQualified((*buf)[:0], el, false)
		err = t.c.Write(ctx, websocket.MessageText, *buf)
	})
	return err
}

func (t *wsTransport) Writable() bool { return true }

func (t *wsTransport) TLS() (*tls.ConnectionState, bool) { return t.tls, false }

func (t *wsTransport) Wake() {
	select {
	case t.wake <- struct{}{}:
	default:
	}
}

// Finish: after our <close/> the peer has grace to answer with its own.
func (t *wsTransport) Finish(grace time.Duration) {
	t.draining = true
	t.finishAt = time.Now().Add(grace)
}

// Close ends the WebSocket with a close frame, in the background (the
// close handshake waits up to five seconds for the peer's); the reader
// then ends.
func (t *wsTransport) Close() {
	t.once.Do(func() {
		go t.c.Close(websocket.StatusNormalClosure, "")
	})
}
