package s2s

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/stream"
	"github.com/parleyim/parley/internal/xmlstream"
)

// Namespaces of s2s negotiation.
const (
	nsTLS        = "urn:ietf:params:xml:ns:xmpp-tls"
	nsSASL       = "urn:ietf:params:xml:ns:xmpp-sasl"
	nsDBFeature  = "urn:xmpp:features:dialback" // XEP-0220 §2.4.1
	nsStanzaErrs = "urn:ietf:params:xml:ns:xmpp-stanzas"
)

// conn is one TCP connection carrying a stream in either direction: the
// socket (swapped for the TLS one after STARTTLS), the decoder reading
// the peer's stream, and serialised writes with a deadline. One goroutine
// reads (the stream's owner); any may write.
type conn struct {
	mu sync.Mutex // guards c
	c  net.Conn

	wmu          sync.Mutex // one write at a time
	writeTimeout time.Duration

	dec *xmlstream.Decoder
	tls *tls.ConnectionState
	lim xmlstream.Limits

	// deadline (Unix nanoseconds, 0 for none) bounds every read: the
	// pre-auth and idle timeouts.
	deadline atomic.Int64
	// closing makes reads fail at once (requestClose).
	closing atomic.Bool
}

func newConn(c net.Conn, lim xmlstream.Limits, writeTimeout time.Duration) *conn {
	cn := &conn{c: c, lim: lim, writeTimeout: writeTimeout}
	cn.dec = xmlstream.NewDecoder(deadlineReader{cn}, lim)
	return cn
}

// deadlineReader applies conn.deadline to each read.
type deadlineReader struct{ c *conn }

func (r deadlineReader) Read(p []byte) (int, error) {
	nc := r.c.net()
	var dl time.Time
	if n := r.c.deadline.Load(); n != 0 {
		dl = time.Unix(0, n)
	}
	nc.SetReadDeadline(dl)
	// After our deadline: a close request from now on moves it to the
	// past, one before is seen here.
	if r.c.closing.Load() {
		return 0, errClosing
	}
	return nc.Read(p)
}

// setDeadline bounds reads from now on (zero: no bound).
func (c *conn) setDeadline(t time.Time) {
	if t.IsZero() {
		c.deadline.Store(0)
	} else {
		c.deadline.Store(t.UnixNano())
	}
}

// interrupt makes the reader's current and later reads fail.
func (c *conn) interrupt() {
	c.closing.Store(true)
	c.net().SetReadDeadline(time.Now())
}

func (c *conn) net() net.Conn {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.c
}

// write writes b whole within the write timeout.
func (c *conn) write(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	nc := c.net()
	nc.SetWriteDeadline(time.Now().Add(c.writeTimeout))
	_, err := nc.Write(b)
	return err
}

func (c *conn) writeString(s string) error { return c.write([]byte(s)) }

// fail writes a stream error and the closing tag, then closes.
func (c *conn) fail(e *stream.Error) {
	c.write(append(e.AppendXML(nil), stream.Close...))
	c.close()
}

func (c *conn) close() { c.net().Close() }

// remoteIP is the peer's address without port.
func (c *conn) remoteAddr() string { return c.net().RemoteAddr().String() }

// next reads the next top-level element.
func (c *conn) next() (*stanza.Element, error) { return c.dec.Next() }

// startTLS runs the TLS handshake as client (client true) or server and
// reads the new stream through it (RFC 6120 §5.4.3.3).
func (c *conn) startTLS(cfg *tls.Config, client bool, deadline time.Time) error {
	raw := c.net()
	var tc *tls.Conn
	if client {
		tc = tls.Client(raw, cfg)
	} else {
		tc = tls.Server(raw, cfg)
	}
	raw.SetDeadline(deadline)
	if err := tc.Handshake(); err != nil {
		return fmt.Errorf("TLS handshake: %w", err)
	}
	raw.SetDeadline(time.Time{})
	st := tc.ConnectionState()
	c.mu.Lock()
	c.c, c.tls = tc, &st
	c.mu.Unlock()
	c.dec.Reset(deadlineReader{c})
	return nil
}

// peerCertificates returns the certificate chain the peer presented.
func (c *conn) peerCertificates() []*x509.Certificate {
	if c.tls == nil {
		return nil
	}
	return c.tls.PeerCertificates
}

// readHeader reads the peer's stream header and checks the content
// namespace and, when serves is not nil, the 'to' domain (host-unknown)
// and the version (RFC 6120 §4.7).
func (c *conn) readHeader(contentNS string, serves func(string) bool) (xmlstream.Header, string, error) {
	h, err := c.dec.ReadHeader()
	if err != nil {
		return h, "", err
	}
	if h.Space != contentNS {
		return h, "", stream.New(stream.InvalidNamespace, "the content namespace must be "+contentNS)
	}
	if serves == nil {
		return h, "", nil
	}
	dom, err := stream.Opening{ContentNS: h.Space, To: h.To, Version: h.Version}.Check(contentNS, serves)
	return h, dom, err
}

// readFeatures reads <stream:features/>.
func (c *conn) readFeatures() (*stanza.Element, error) {
	el, err := c.next()
	if err != nil {
		return nil, err
	}
	if el.Space == stream.NSStream && el.Local == "error" {
		return nil, peerStreamError(el)
	}
	if el.Space != stream.NSStream || el.Local != "features" {
		return nil, fmt.Errorf("expected stream features, got <%s xmlns='%s'>", el.Local, el.Space)
	}
	return el, nil
}

// peerStreamError turns a <stream:error/> the peer sent into an error.
func peerStreamError(el *stanza.Element) error {
	cond := "undefined-condition"
	for _, ch := range el.ChildElements() {
		if ch.Space == stream.NSStreams && ch.Local != "text" {
			cond = ch.Local
		}
	}
	return &PeerError{Condition: cond, Text: el.ChildText(stream.NSStreams, "text")}
}

// PeerError is a stream error the peer sent us.
type PeerError struct{ Condition, Text string }

func (e *PeerError) Error() string {
	if e.Text == "" {
		return "peer sent stream error " + e.Condition
	}
	return "peer sent stream error " + e.Condition + ": " + e.Text
}

// isClosed reports whether err is the end of the peer's stream or
// connection.
func isClosed(err error) bool {
	return errors.Is(err, xmlstream.ErrStreamClosed) || errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
