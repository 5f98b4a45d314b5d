package loadtest

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/xmlstream"
)

// Namespaces the client speaks.
const (
	nsStream   = "http://etherx.jabber.org/streams"
	nsTLS      = "urn:ietf:params:xml:ns:xmpp-tls"
	nsSASL     = "urn:ietf:params:xml:ns:xmpp-sasl"
	nsBind     = "urn:ietf:params:xml:ns:xmpp-bind"
	nsSession  = "urn:ietf:params:xml:ns:xmpp-session"
	nsPing     = "urn:xmpp:ping"
	nsRegister = "jabber:iq:register"
	nsRoster   = "jabber:iq:roster"
	nsMUC      = "http://jabber.org/protocol/muc"
	nsMUCUser  = "http://jabber.org/protocol/muc#user"
	nsStanzas  = "urn:ietf:params:xml:ns:xmpp-stanzas"
)

// Target says how to reach a server and how to log in.
type Target struct {
	Addr     string // host:port of the client (STARTTLS) listener
	Domain   string // the served domain
	StartTLS bool   // negotiate STARTTLS before authenticating
	// DirectTLS says Addr is a direct TLS listener (XEP-0368): TLS is
	// negotiated before the stream opens, and StartTLS is ignored.
	DirectTLS bool
	TLS       *tls.Config
	// WebSocket, when set, is the URL of an RFC 7395 endpoint
	// (ws://127.0.0.1:5280/xmpp-websocket) to use instead of Addr
	// (websocket.go); TLS then verifies a wss:// server.
	WebSocket string
	// Mechanism is PLAIN, SCRAM-SHA-1 or SCRAM-SHA-256 (default SCRAM-SHA-256).
	Mechanism string
	// Sources are the local addresses connections are made from, in turn
	// (several 127.0.0.x addresses multiply the ephemeral ports available).
	// Empty lets the system choose.
	Sources []netip.Addr
	// Keys caches SCRAM salted passwords; nil computes them every time.
	Keys *KeyCache
	// StepTimeout bounds a login or registration (default 30 s).
	StepTimeout time.Duration

	next atomic.Uint64
}

func (t *Target) timeout() time.Duration {
	if t.StepTimeout > 0 {
		return t.StepTimeout
	}
	return 30 * time.Second
}

func (t *Target) mechanism() string {
	if t.Mechanism == "" {
		return MechSCRAMSHA256
	}
	return t.Mechanism
}

// Conn is one client stream.
type Conn struct {
	t    *Target
	nc   net.Conn // the TCP or, after STARTTLS, TLS connection
	tcp  net.Conn
	dec  *xmlstream.Decoder
	feat *stanza.Element
	ws   bool // XMPP over WebSocket (websocket.go)

	// JID is the full JID bound to the stream ("" before binding).
	JID string

	wmu sync.Mutex // serialises writes
	ids atomic.Uint64

	// mu guards waiting.
	mu      sync.Mutex
	waiting map[string]chan *stanza.Element
}

// connect opens a TCP connection (and, for a DirectTLS target, completes
// the TLS handshake) with the step deadline set, sending no XML.
func (t *Target) connect(ctx context.Context) (*Conn, error) {
	if t.WebSocket != "" {
		return t.connectWS(ctx)
	}
	d := net.Dialer{Timeout: t.timeout()}
	if len(t.Sources) > 0 {
		src := t.Sources[t.next.Add(1)%uint64(len(t.Sources))]
		d.LocalAddr = &net.TCPAddr{IP: src.AsSlice()}
	}
	nc, err := d.DialContext(ctx, "tcp", t.Addr)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", t.Addr, err)
	}
	c := &Conn{t: t, nc: nc, tcp: nc}
	c.dec = xmlstream.NewDecoder(nc, xmlstream.Limits{MaxElementBytes: 1 << 20})
	deadline := time.Now().Add(t.timeout())
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	nc.SetDeadline(deadline)
	if t.DirectTLS {
		if err := c.handshake(); err != nil {
			nc.Close()
			return nil, err
		}
	}
	return c, nil
}

// dial opens a TCP connection and a stream, without authenticating.
func (t *Target) dial(ctx context.Context) (*Conn, error) {
	c, err := t.connect(ctx)
	if err != nil {
		return nil, err
	}
	if err := c.open(); err != nil {
		c.tcp.Close()
		return nil, err
	}
	if t.StartTLS && !t.DirectTLS && !c.ws {
		if err := c.startTLS(); err == nil {
			err = c.open()
		}
		if err != nil {
			c.tcp.Close()
			return nil, err
		}
	}
	return c, nil
}

// Login connects user (a localpart) with password, negotiates STARTTLS if
// the target asks for it, authenticates and binds resource ("" lets the
// server choose). The returned Conn has no deadline set.
func (t *Target) Login(ctx context.Context, user, password, resource string) (*Conn, error) {
	c, err := t.dial(ctx)
	if err != nil {
		return nil, fmt.Errorf("login %s: %w", user, err)
	}
	if err := c.login(user, password, resource); err != nil {
		c.nc.Close()
		return nil, fmt.Errorf("login %s: %w", user, err)
	}
	c.nc.SetDeadline(time.Time{})
	return c, nil
}

func (c *Conn) login(user, password, resource string) error {
	if err := c.authenticate(user, password); err != nil {
		return err
	}
	if !c.ws {
		c.dec.Restart()
	}
	if err := c.open(); err != nil {
		return err
	}
	return c.bind(resource)
}

func streamHeader(domain string) string {
	return "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='" + nsStream +
		"' to='" + domain + "' version='1.0' xml:lang='en'>"
}

// open sends our stream header and reads the server's header and features.
func (c *Conn) open() error {
	if c.ws {
		return c.openWS()
	}
	if err := c.write([]byte(streamHeader(c.t.Domain))); err != nil {
		return err
	}
	if _, err := c.dec.ReadHeader(); err != nil {
		return fmt.Errorf("stream header: %w", err)
	}
	el, err := c.expect(nsStream, "features")
	if err != nil {
		return err
	}
	c.feat = el
	return nil
}

// expect reads the next top-level element and fails unless it is
// {space}local; a stream error is reported as such.
func (c *Conn) expect(space, local string) (*stanza.Element, error) {
	el, err := c.dec.Next()
	if err != nil {
		return nil, fmt.Errorf("waiting for %s: %w", local, err)
	}
	if el.Space == space && el.Local == local {
		return el, nil
	}
	return nil, unexpected(el, local)
}

func unexpected(el *stanza.Element, want string) error {
	if el.Space == nsStream && el.Local == "error" {
		return fmt.Errorf("stream error %s", firstChildName(el))
	}
	return fmt.Errorf("expected %s, got <%s xmlns='%s'> %s", want, el.Local, el.Space, firstChildName(el))
}

func firstChildName(el *stanza.Element) string {
	var names []string
	for _, ch := range el.ChildElements() {
		names = append(names, ch.Local)
	}
	if t := el.ChildText(nsSASL, "text"); t != "" {
		names = append(names, strconv.Quote(t))
	}
	return strings.Join(names, " ")
}

// startTLS asks for STARTTLS (RFC 6120 §5.4.2) and runs the handshake; the
// caller opens the new stream.
func (c *Conn) startTLS() error {
	if c.feat.Child(nsTLS, "starttls") == nil {
		return errors.New("server does not offer STARTTLS")
	}
	if err := c.write([]byte("<starttls xmlns='" + nsTLS + "'/>")); err != nil {
		return err
	}
	if _, err := c.expect(nsTLS, "proceed"); err != nil {
		return err
	}
	return c.handshake()
}

// handshake runs the client TLS handshake on the TCP connection and reads
// from TLS from then on (the caller opens the new stream).
func (c *Conn) handshake() error {
	cfg := c.t.TLS
	if cfg == nil {
		cfg = &tls.Config{ServerName: c.t.Domain}
	}
	tc := tls.Client(c.tcp, cfg)
	if err := tc.Handshake(); err != nil {
		return fmt.Errorf("TLS handshake: %w", err)
	}
	c.nc = tc
	c.dec.Reset(tc)
	return nil
}

func (c *Conn) offers(mech string) bool {
	ms := c.feat.Child(nsSASL, "mechanisms")
	if ms == nil {
		return false
	}
	for _, m := range ms.ChildElements() {
		if m.Local == "mechanism" && m.Text() == mech {
			return true
		}
	}
	return false
}

func saslXML(name, mech string, data []byte) []byte {
	b := []byte("<" + name + " xmlns='" + nsSASL + "'")
	if mech != "" {
		b = append(b, " mechanism='"+mech+"'"...)
	}
	b = append(b, '>')
	if len(data) == 0 {
		b = append(b, '=')
	} else {
		b = base64.StdEncoding.AppendEncode(b, data)
	}
	return append(b, "</"+name+">"...)
}

// authenticate runs SASL with the target's mechanism.
func (c *Conn) authenticate(user, password string) error {
	mech := c.t.mechanism()
	if !c.offers(mech) {
		return fmt.Errorf("server does not offer %s", mech)
	}
	if mech == MechPLAIN {
		if err := c.write(saslXML("auth", mech, []byte("\x00"+user+"\x00"+password))); err != nil {
			return err
		}
		_, err := c.saslResult()
		return err
	}
	sc, err := newSCRAMClient(mech, user, password, c.t.Keys)
	if err != nil {
		return err
	}
	if err := c.write(saslXML("auth", mech, sc.first())); err != nil {
		return err
	}
	el, err := c.expect(nsSASL, "challenge")
	if err != nil {
		return saslFailure(err)
	}
	sf, err := base64.StdEncoding.DecodeString(el.Text())
	if err != nil {
		return fmt.Errorf("scram: challenge encoding: %w", err)
	}
	final, err := sc.final(sf)
	if err != nil {
		return err
	}
	if err := c.write(saslXML("response", "", final)); err != nil {
		return err
	}
	data, err := c.saslResult()
	if err != nil {
		return err
	}
	return sc.verify(data)
}

func saslFailure(err error) error { return fmt.Errorf("authentication failed: %w", err) }

// saslResult reads <success/> (returning its additional data) or fails.
func (c *Conn) saslResult() ([]byte, error) {
	el, err := c.expect(nsSASL, "success")
	if err != nil {
		return nil, saslFailure(err)
	}
	t := el.Text()
	if t == "" || t == "=" {
		return nil, nil
	}
	b, err := base64.StdEncoding.DecodeString(t)
	if err != nil {
		return nil, fmt.Errorf("sasl success encoding: %w", err)
	}
	return b, nil
}

// bind binds a resource and, if the server still requires it, opens the
// legacy session (RFC 3921 §3).
func (c *Conn) bind(resource string) error {
	if c.feat.Child(nsBind, "bind") == nil {
		return errors.New("server does not offer resource binding")
	}
	req := "<iq type='set' id='bind'><bind xmlns='" + nsBind + "'>"
	if resource != "" {
		req += "<resource>" + string(stanza.AppendEscapedText(nil, resource)) + "</resource>"
	}
	req += "</bind></iq>"
	if err := c.write([]byte(req)); err != nil {
		return err
	}
	res, err := c.iqResponse("bind")
	if err != nil {
		return fmt.Errorf("bind: %w", err)
	}
	b := res.Child(nsBind, "bind")
	if b == nil || b.ChildText(nsBind, "jid") == "" {
		return errors.New("bind: result without a JID")
	}
	c.JID = b.ChildText(nsBind, "jid")
	if s := c.feat.Child(nsSession, "session"); s != nil && s.Child(nsSession, "optional") == nil {
		if err := c.write([]byte("<iq type='set' id='sess'><session xmlns='" + nsSession + "'/></iq>")); err != nil {
			return err
		}
		if _, err := c.iqResponse("sess"); err != nil {
			return fmt.Errorf("session: %w", err)
		}
	}
	return nil
}

// iqResponse reads elements until the iq result with id arrives (skipping
// anything else the server sends meanwhile); an iq error fails.
func (c *Conn) iqResponse(id string) (*stanza.Element, error) {
	for {
		el, err := c.dec.Next()
		if err != nil {
			return nil, err
		}
		if el.Space == nsStream && el.Local == "error" {
			return nil, unexpected(el, "iq")
		}
		if el.Local != "iq" || el.Attr("id") != id {
			continue
		}
		if el.Attr("type") == "error" {
			return nil, fmt.Errorf("iq error: %s", stanzaErrorName(el))
		}
		return el, nil
	}
}

func stanzaErrorName(el *stanza.Element) string {
	e := el.Child(el.Space, "error")
	if e == nil {
		return "(no error element)"
	}
	for _, ch := range e.ChildElements() {
		if ch.Space == nsStanzas && ch.Local != "text" {
			return ch.Local
		}
	}
	return "(no condition)"
}

// write sends b in one write.
func (c *Conn) write(b []byte) error {
	c.wmu.Lock()
	_, err := c.nc.Write(b)
	c.wmu.Unlock()
	if err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return nil
}

// Send writes raw XML (one or more complete stanzas) to the stream.
func (c *Conn) Send(b []byte) error { return c.write(b) }

// Close ends the stream politely and closes the connection.
func (c *Conn) Close() error {
	c.nc.SetWriteDeadline(time.Now().Add(time.Second))
	c.write([]byte(c.closeTag()))
	return c.nc.Close()
}

// Abort closes the connection without closing the stream.
func (c *Conn) Abort() error { return c.tcp.Close() }

// Serve reads stanzas until the stream ends, answering the server's pings
// and other requests, routing iq responses to IQ callers, and handing
// everything else to h (which runs on the reading goroutine and must not
// keep el). It returns the error that ended the stream.
func (c *Conn) Serve(h func(el *stanza.Element)) error {
	for {
		el, err := c.dec.Next()
		if err != nil {
			c.failWaiters()
			return err
		}
		switch {
		case el.Local == "iq" && el.Space == stanza.NSClient:
			c.handleIQ(el, h)
		case el.Space == nsStream && el.Local == "error":
			c.failWaiters()
			return unexpected(el, "stanza")
		default:
			if h != nil {
				h(el)
			}
		}
	}
}

func (c *Conn) handleIQ(el *stanza.Element, h func(*stanza.Element)) {
	switch el.Attr("type") {
	case "get", "set":
		c.answerIQ(el, h)
	default:
		c.mu.Lock()
		ch := c.waiting[el.Attr("id")]
		delete(c.waiting, el.Attr("id"))
		c.mu.Unlock()
		if ch != nil {
			ch <- el
		} else if h != nil {
			h(el)
		}
	}
}

// answerIQ answers pings with a result, roster pushes (RFC 6121 §2.1.6)
// with a result after showing them to h, and refuses anything else.
func (c *Conn) answerIQ(el *stanza.Element, h func(*stanza.Element)) {
	payload := el.FirstChild()
	to := ""
	if f := el.Attr("from"); f != "" {
		to = " to='" + string(stanza.AppendEscapedAttr(nil, f)) + "'"
	}
	id := string(stanza.AppendEscapedAttr(nil, el.Attr("id")))
	switch {
	case payload != nil && (payload.Space == nsPing || payload.Space == nsRoster):
		if payload.Space == nsRoster && h != nil {
			h(el)
		}
		c.write([]byte("<iq type='result' id='" + id + "'" + to + "/>"))
	default:
		c.write([]byte("<iq type='error' id='" + id + "'" + to + "><error type='cancel'><service-unavailable xmlns='" + nsStanzas + "'/></error></iq>"))
	}
}

func (c *Conn) failWaiters() {
	c.mu.Lock()
	for id, ch := range c.waiting {
		close(ch)
		delete(c.waiting, id)
	}
	c.mu.Unlock()
}

// IQ sends an iq get or set whose payload is the XML in payload, to 'to'
// ("" for the account itself), and waits for the response. Serve must be
// running. An iq error is returned as an error naming the condition.
func (c *Conn) IQ(ctx context.Context, typ, to, payload string) (*stanza.Element, error) {
	id := "q" + strconv.FormatUint(c.ids.Add(1), 36)
	ch := make(chan *stanza.Element, 1)
	c.mu.Lock()
	if c.waiting == nil {
		c.waiting = map[string]chan *stanza.Element{}
	}
	c.waiting[id] = ch
	c.mu.Unlock()
	req := "<iq type='" + typ + "' id='" + id + "'"
	if to != "" {
		req += " to='" + string(stanza.AppendEscapedAttr(nil, to)) + "'"
	}
	if err := c.write([]byte(req + ">" + payload + "</iq>")); err != nil {
		c.forget(id)
		return nil, err
	}
	select {
	case el, ok := <-ch:
		if !ok {
			return nil, errors.New("stream closed before the iq response")
		}
		if el.Attr("type") == "error" {
			return el, fmt.Errorf("iq error: %s", stanzaErrorName(el))
		}
		return el, nil
	case <-ctx.Done():
		c.forget(id)
		return nil, ctx.Err()
	}
}

func (c *Conn) forget(id string) {
	c.mu.Lock()
	delete(c.waiting, id)
	c.mu.Unlock()
}

// Ping sends a XEP-0199 ping to the server and waits for the answer.
func (c *Conn) Ping(ctx context.Context) error {
	_, err := c.IQ(ctx, "get", c.t.Domain, "<ping xmlns='"+nsPing+"'/>")
	return err
}
