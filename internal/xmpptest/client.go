package xmpptest

import (
	"context"
	"crypto/tls"
	"encoding/xml"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"mellium.im/sasl"
	"mellium.im/xmlstream"
	"mellium.im/xmpp"
	mjid "mellium.im/xmpp/jid"
)

// Stanza is an incoming stanza as the test client saw it: its name and
// attributes, and in Inner the whole element re-encoded (so tests can look
// for text and child elements in it).
type Stanza struct {
	XMLName xml.Name
	Attrs   []xml.Attr
	Inner   string
}

// readStanza consumes one element from r (starting with its start token).
func readStanza(r xml.TokenReader) (Stanza, error) {
	var st Stanza
	var b strings.Builder
	enc := xml.NewEncoder(&b)
	depth := 0
	for {
		tok, err := r.Token()
		if err == io.EOF && depth == 1 {
			// mellium's iq response reader stops before the end tag.
			tok, err = xml.EndElement{Name: st.XMLName}, nil
		}
		if err != nil {
			return st, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				st.XMLName, st.Attrs = t.Name, t.Attr
			}
			depth++
		case xml.EndElement:
			depth--
		}
		if err := enc.EncodeToken(xml.CopyToken(tok)); err != nil {
			return st, err
		}
		if depth == 0 {
			enc.Flush()
			st.Inner = b.String()
			return st, nil
		}
	}
}

// Attr returns an attribute value.
func (s Stanza) Attr(name string) string {
	for _, a := range s.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// Client is a mellium client connected to the test server.
type Client struct {
	S      *xmpp.Session
	JID    mjid.JID
	In     chan Stanza
	served chan error
	answer func(Stanza) string
}

// DialOptions say how a client connects.
type DialOptions struct {
	Mechanisms []sasl.Mechanism // default SCRAM-SHA-256
	TLS        *tls.Config      // default: verify the server's cert, TLS 1.3
	// NoServe leaves the session unserved (the test reads itself).
	NoServe bool
	// TeeOut, if set, gets a copy of everything the client writes (its
	// XML, SASL included, before TLS encrypts it).
	TeeOut io.Writer
	// Answer, if set, is asked for the reply (raw XML) to each iq get or
	// set the client receives; "" leaves it to mellium, which answers
	// service-unavailable. The stanza still arrives on In.
	Answer func(Stanza) string
}

// Dial connects user (a bare JID string) with password over STARTTLS and
// binds a resource; incoming stanzas arrive on Client.In. mellium v0.22
// does not request a resource, so the server generates one: use Client.JID.
// Tests that need a chosen resource use Raw.
func (s *Server) Dial(t testing.TB, user, password string, o DialOptions) *Client {
	t.Helper()
	c, err := s.DialErr(t, user, password, o)
	if err != nil {
		t.Fatalf("xmpptest: dial %s: %v", user, err)
	}
	return c
}

// DialErr is Dial that returns the error instead of failing the test.
func (s *Server) DialErr(t testing.TB, user, password string, o DialOptions) (*Client, error) {
	t.Helper()
	if o.TLS == nil {
		origin, err := mjid.Parse(user)
		if err != nil {
			return nil, err
		}
		o.TLS = s.TLSConfig(t, origin.Domainpart())
	}
	return DialAddr(t, s.Addr("c2s"), user, password, o)
}

// DialAddr is DialErr for a server at addr (STARTTLS) that this process
// did not start; o.TLS must say how to verify its certificate.
func DialAddr(t testing.TB, addr, user, password string, o DialOptions) (*Client, error) {
	t.Helper()
	origin, err := mjid.Parse(user)
	if err != nil {
		return nil, err
	}
	if len(o.Mechanisms) == 0 {
		o.Mechanisms = []sasl.Mechanism{sasl.ScramSha256}
	}
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	// mellium arms a goroutine per call that, once the call's context ends,
	// can set the connection's deadline in the past: a cancelled context
	// racing a later write breaks the TLS connection for good. So calls get
	// a context that never ends, and the timeout closes the socket instead.
	stop := time.AfterFunc(10*time.Second, func() { conn.Close() })
	features := []xmpp.StreamFeature{xmpp.StartTLS(o.TLS), xmpp.SASL("", password, o.Mechanisms...), xmpp.BindResource()}
	sess, err := xmpp.NewSession(context.Background(), origin.Domain(), origin, conn, 0,
		xmpp.NewNegotiator(func(*xmpp.Session, *xmpp.StreamConfig) xmpp.StreamConfig {
			return xmpp.StreamConfig{Features: features, TeeOut: o.TeeOut}
		}))
	stop.Stop()
	if err != nil {
		conn.Close()
		return nil, err
	}
	c := &Client{S: sess, JID: sess.LocalAddr(), In: make(chan Stanza, 256), served: make(chan error, 1), answer: o.Answer}
	t.Cleanup(func() { c.Close() })
	if !o.NoServe {
		go func() { c.served <- sess.Serve(xmpp.HandlerFunc(c.handle)) }()
	}
	return c, nil
}

func (c *Client) handle(t xmlstream.TokenReadEncoder, start *xml.StartElement) error {
	st, err := readStanza(xmlstream.MultiReader(xmlstream.Token(*start), t))
	if err != nil {
		return err
	}
	if typ := st.Attr("type"); c.answer != nil && st.XMLName.Local == "iq" && (typ == "get" || typ == "set") {
		if reply := c.answer(st); reply != "" {
			if _, err := xmlstream.Copy(t, xml.NewDecoder(strings.NewReader(reply))); err != nil {
				return err
			}
		}
	}
	select {
	case c.In <- st:
	default:
	}
	return nil
}

// Close ends the session.
func (c *Client) Close() {
	c.S.Close()
	c.S.Conn().Close()
}

// Done returns the error Serve ended with (after the server closed the
// stream), or times out.
func (c *Client) Done(t testing.TB, timeout time.Duration) error {
	t.Helper()
	select {
	case err := <-c.served:
		return err
	case <-time.After(timeout):
		t.Fatalf("xmpptest: session of %s still open after %v", c.JID, timeout)
		return nil
	}
}

// Send transmits raw XML (one stanza).
func (c *Client) Send(t testing.TB, raw string) {
	t.Helper()
	err := withTimeout(5*time.Second, func() error {
		return c.S.Send(context.Background(), xml.NewDecoder(strings.NewReader(raw)))
	})
	if err != nil {
		t.Fatalf("xmpptest: send: %v", err)
	}
}

// IQ sends an iq (raw XML with an id) and returns the response.
func (c *Client) IQ(t testing.TB, raw string) Stanza {
	t.Helper()
	var st Stanza
	err := withTimeout(10*time.Second, func() error {
		resp, err := c.S.SendIQ(context.Background(), xml.NewDecoder(strings.NewReader(raw)))
		if err != nil {
			return err
		}
		defer resp.Close()
		st, err = readStanza(resp)
		return err
	})
	if err != nil {
		t.Fatalf("xmpptest: decode iq response: %v", err)
	}
	return st
}

// Expect waits for a stanza matching match, discarding others.
func (c *Client) Expect(t testing.TB, timeout time.Duration, what string, match func(Stanza) bool) Stanza {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case st := <-c.In:
			if match(st) {
				return st
			}
		case <-deadline:
			t.Fatalf("xmpptest: %s: no %s within %v", c.JID, what, timeout)
			return Stanza{}
		}
	}
}

// ExpectNone fails if a stanza matching match arrives within wait.
func (c *Client) ExpectNone(t testing.TB, wait time.Duration, what string, match func(Stanza) bool) {
	t.Helper()
	deadline := time.After(wait)
	for {
		select {
		case st := <-c.In:
			if match(st) {
				t.Fatalf("xmpptest: %s: unexpected %s: %+v", c.JID, what, st)
			}
		case <-deadline:
			return
		}
	}
}

// ErrClosed reports whether err says the stream ended.
func ErrClosed(err error) bool { return err == nil || errors.Is(err, net.ErrClosed) }

// errTimeout is returned by withTimeout when f did not finish in time.
var errTimeout = errors.New("xmpptest: timed out")

// withTimeout runs f and gives up waiting after d (f keeps running; the
// test fails anyway). See DialErr for why contexts are not cancelled.
func withTimeout(d time.Duration, f func() error) error {
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		return errTimeout
	}
}

// Settle returns once the server has handled everything each client sent
// before and what it queued for the client meanwhile is in its In: the
// answer to a ping of the client's server comes after both on its stream.
func Settle(t testing.TB, cs ...*Client) {
	t.Helper()
	for _, c := range cs {
		if res := c.IQ(t, `<iq type='get' id='settle' to='`+c.JID.Domainpart()+`'><ping xmlns='urn:xmpp:ping'/></iq>`); res.Attr("type") != "result" {
			t.Fatalf("xmpptest: settle %s: %+v", c.JID, res)
		}
	}
}

// Drain returns the stanzas already in c.In, without waiting.
func (c *Client) Drain() []Stanza {
	var out []Stanza
	for {
		select {
		case st := <-c.In:
			out = append(out, st)
		default:
			return out
		}
	}
}
