package xmpptest

import (
	"bytes"
	"crypto/tls"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// SMClient is a small XEP-0198 (stream management) client written against
// the XEP in raw XML, for the stream-management tests (mellium v0.22 has
// none). It reads the stream on a goroutine and counts the stanzas it
// receives (its h); it answers the server's <r/> with <a h/> unless
// NoAutoAck is set, and records the server's acks.
type SMClient struct {
	t    testing.TB
	Raw  *Raw
	wmu  sync.Mutex
	in   chan Stanza
	done chan struct{}
	err  error // why reading stopped, once done is closed

	kill func() // drops the connection without a close; nil: a TCP reset

	mu        sync.Mutex
	h         uint32 // stanzas received
	acked     uint32 // the server's last h
	noAutoAck bool

	// ID, Max and Location are from <enabled/>.
	ID, Max, Location string
	// Sent counts the stanzas this client sent since enabling.
	Sent uint32
}

// SMLogin connects user over STARTTLS, authenticates with PLAIN and binds
// resource (binding is skipped when resource is "-": the caller resumes).
func (s *Server) SMLogin(t testing.TB, user, domain, password, resource string) *SMClient {
	t.Helper()
	return SMLoginAt(t, s.Addr("c2s"), s.TLSConfig(t, domain), user, domain, password, resource)
}

// SMLoginAt is SMLogin against any server address.
func SMLoginAt(t testing.TB, addr string, cfg *tls.Config, user, domain, password, resource string) *SMClient {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("xmpptest: dial: %v", err)
	}
	r := &Raw{t: t, Conn: c}
	t.Cleanup(func() { r.Conn.Close() })
	r.Open(domain)
	r.StartTLS(cfg, domain)
	if out := r.Plain("", user, password); !strings.Contains(out, "success") {
		t.Fatalf("xmpptest: login %s failed: %s", user, out)
	}
	r.Open(domain)
	if resource != "-" {
		if out := r.Bind(resource); !strings.Contains(out, "type='result'") && !strings.Contains(out, `type="result"`) {
			t.Fatalf("xmpptest: bind failed: %s", out)
		}
	}
	r.Conn.SetReadDeadline(time.Time{}) // the reader waits as long as the stream lasts
	leftover := bytes.Clone(r.got.Bytes())
	r.got.Reset()
	return newSMClient(t, r, io.MultiReader(bytes.NewReader(leftover), r.Conn), nil)
}

// NewSMClient runs the stream-management client on conn, a stream that
// is past authentication (and binding, unless the caller resumes): every
// Write on conn is one or more whole elements, and reading it yields the
// server's elements one after another (for XMPP over WebSocket or BOSH,
// the frames' or bodies' payloads). kill drops the transport without
// closing the stream (Kill); nil means a TCP reset of conn.
func NewSMClient(t testing.TB, conn net.Conn, kill func()) *SMClient {
	return newSMClient(t, &Raw{t: t, Conn: conn}, conn, kill)
}

func newSMClient(t testing.TB, r *Raw, src io.Reader, kill func()) *SMClient {
	sc := &SMClient{t: t, Raw: r, kill: kill, in: make(chan Stanza, 4096), done: make(chan struct{})}
	go sc.read(src)
	return sc
}

// read decodes top-level elements until the stream ends.
func (c *SMClient) read(src io.Reader) {
	defer close(c.done)
	defer close(c.in)
	dec := xml.NewDecoder(src)
	for {
		tok, err := dec.Token()
		if err != nil {
			c.err = err
			return
		}
		start, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		st, err := readStanza(&prepend{first: start, r: dec})
		if err != nil {
			c.err = err
			return
		}
		c.note(st)
		c.in <- st
	}
}

// prepend is a token reader that yields first, then r's tokens.
type prepend struct {
	first xml.Token
	r     xml.TokenReader
}

func (p *prepend) Token() (xml.Token, error) {
	if p.first != nil {
		t := p.first
		p.first = nil
		return t, nil
	}
	return p.r.Token()
}

// IsStanza reports whether st is a message, presence or iq.
func IsStanza(st Stanza) bool {
	switch st.XMLName.Local {
	case "message", "presence", "iq":
		return st.XMLName.Space == "" || st.XMLName.Space == "jabber:client"
	}
	return false
}

func isSM(st Stanza, local string) bool {
	return st.XMLName.Space == "urn:xmpp:sm:3" && st.XMLName.Local == local
}

// note counts a received stanza and handles acks.
func (c *SMClient) note(st Stanza) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case IsStanza(st):
		c.h++
	case isSM(st, "a"):
		if n, err := strconv.ParseUint(st.Attr("h"), 10, 32); err == nil {
			c.acked = uint32(n)
		}
	case isSM(st, "r"):
		if !c.noAutoAck {
			c.writeLocked(fmt.Sprintf("<a xmlns='urn:xmpp:sm:3' h='%d'/>", c.h))
		}
	}
}

func (c *SMClient) writeLocked(s string) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.Raw.Conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c.Raw.Conn, s) // a write to a closed stream shows in what is read
}

// SetAutoAck sets whether <r/> is answered automatically.
func (c *SMClient) SetAutoAck(on bool) {
	c.mu.Lock()
	c.noAutoAck = !on
	c.mu.Unlock()
}

// H is how many stanzas the client has received.
func (c *SMClient) H() uint32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.h
}

// Acked is the h of the server's last <a/>.
func (c *SMClient) Acked() uint32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.acked
}

// SetH sets the client's count (after a resume, to the h it sent).
func (c *SMClient) SetH(h uint32) {
	c.mu.Lock()
	c.h = h
	c.mu.Unlock()
}

// Write sends raw XML that is not a stanza (a nonza).
func (c *SMClient) Write(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writeLocked(s)
}

// Send sends one stanza and counts it.
func (c *SMClient) Send(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.Sent++
	c.writeLocked(s)
}

// Next returns the next element, or an error when the stream ended or
// nothing came within timeout.
func (c *SMClient) Next(timeout time.Duration) (Stanza, error) {
	select {
	case st, ok := <-c.in:
		if !ok {
			return Stanza{}, fmt.Errorf("stream ended: %w", c.err)
		}
		return st, nil
	case <-time.After(timeout):
		return Stanza{}, errors.New("timed out")
	}
}

// Expect reads elements until one matches and returns it; the others are
// returned in skipped order through skipped (if not nil).
func (c *SMClient) Expect(timeout time.Duration, what string, match func(Stanza) bool) Stanza {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		st, err := c.Next(time.Until(deadline))
		if err != nil {
			c.t.Fatalf("xmpptest: waiting for %s: %v", what, err)
		}
		if match(st) {
			return st
		}
	}
}

// SM matches the stream-management element local.
func SM(local string) func(Stanza) bool {
	return func(st Stanza) bool { return isSM(st, local) }
}

// Enable sends <enable/> (resume, and max when > 0) and returns the
// <enabled/> or <failed/> answer.
func (c *SMClient) Enable(resume bool, max int) Stanza {
	c.t.Helper()
	e := "<enable xmlns='urn:xmpp:sm:3'"
	if resume {
		e += " resume='true'"
	}
	if max > 0 {
		e += fmt.Sprintf(" max='%d'", max)
	}
	c.Write(e + "/>")
	st := c.Expect(30*time.Second, "<enabled/> or <failed/>", func(st Stanza) bool { return isSM(st, "enabled") || isSM(st, "failed") })
	if isSM(st, "enabled") {
		c.ID, c.Max, c.Location = st.Attr("id"), st.Attr("max"), st.Attr("location")
		c.mu.Lock()
		c.h, c.Sent = 0, 0
		c.mu.Unlock()
	}
	return st
}

// Resume sends <resume previd h/> and returns the <resumed/> or <failed/>
// answer. On <resumed/> the client takes over the old one's counts: h (its
// own), and the server's h in the answer.
func (c *SMClient) Resume(previd string, h uint32) Stanza {
	c.t.Helper()
	c.SetH(h)
	c.Write(fmt.Sprintf("<resume xmlns='urn:xmpp:sm:3' previd='%s' h='%d'/>", previd, h))
	st := c.Expect(30*time.Second, "<resumed/> or <failed/>", func(st Stanza) bool { return isSM(st, "resumed") || isSM(st, "failed") })
	if isSM(st, "resumed") {
		c.ID = previd
	}
	return st
}

// RequestAck sends <r/> and returns the h of the next <a/>; stanzas that
// arrive meanwhile are passed to keep (if not nil).
func (c *SMClient) RequestAck(timeout time.Duration, keep func(Stanza)) uint32 {
	c.t.Helper()
	c.Write("<r xmlns='urn:xmpp:sm:3'/>")
	st := c.Expect(timeout, "<a/>", func(st Stanza) bool {
		if isSM(st, "a") {
			return true
		}
		if keep != nil && IsStanza(st) {
			keep(st)
		}
		return false
	})
	n, err := strconv.ParseUint(st.Attr("h"), 10, 32)
	if err != nil {
		c.t.Fatalf("xmpptest: <a/> with h=%q", st.Attr("h"))
	}
	return uint32(n)
}

// Kill drops the connection without closing the stream: a TCP reset, as
// when a phone loses its network.
func (c *SMClient) Kill() {
	if c.kill != nil {
		c.kill()
	} else if tc, ok := underlyingTCP(c.Raw.Conn); ok {
		tc.SetLinger(0)
		tc.Close()
	} else {
		c.Raw.Conn.Close()
	}
	<-c.done
}

// Close closes the stream cleanly and the connection.
func (c *SMClient) Close() {
	c.Write("</stream:stream>")
	select {
	case <-c.done:
	case <-time.After(5 * time.Second):
	}
	c.Raw.Conn.Close()
}

// Done is closed when the client's stream ended.
func (c *SMClient) Done() <-chan struct{} { return c.done }

func underlyingTCP(c net.Conn) (*net.TCPConn, bool) {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	t, ok := c.(*net.TCPConn)
	return t, ok
}
