package xmpptest

import (
	"bytes"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/s2s"
)

// Raw is a bare socket to the server for scripted and hostile streams.
type Raw struct {
	t    testing.TB
	Conn net.Conn
	got  bytes.Buffer // everything read and not yet consumed by ReadUntil
}

// Raw connects to the STARTTLS port.
func (s *Server) Raw(t testing.TB) *Raw {
	return s.RawAt(t, s.Addr("c2s"))
}

// RawAt connects to addr.
func (s *Server) RawAt(t testing.TB, addr string) *Raw {
	t.Helper()
	return RawDial(t, addr)
}

// RawDial connects to addr, a server not started by this package (a
// `parley serve` process, another server); closed when the test ends.
func RawDial(t testing.TB, addr string) *Raw {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("xmpptest: raw dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return &Raw{t: t, Conn: c}
}

// Write sends s; a write error fails the test unless the server may have
// closed the connection already (allowClosed).
func (r *Raw) Write(s string) {
	r.t.Helper()
	r.Conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(r.Conn, s); err != nil {
		r.t.Fatalf("xmpptest: raw write: %v", err)
	}
}

// TryWrite sends s and returns the error (the server may have hung up).
func (r *Raw) TryWrite(b []byte) error {
	r.Conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	_, err := r.Conn.Write(b)
	return err
}

// ReadUntil reads until the accumulated input contains substr and returns
// everything up to and including it.
func (r *Raw) ReadUntil(substr string, timeout time.Duration) string {
	r.t.Helper()
	out, err := r.readUntil(substr, timeout)
	if err != nil {
		r.t.Fatalf("xmpptest: waiting for %q: %v; got %q", substr, err, out)
	}
	return out
}

func (r *Raw) readUntil(substr string, timeout time.Duration) (string, error) {
	deadline := time.Now().Add(timeout)
	buf := make([]byte, 4096)
	for {
		if i := strings.Index(r.got.String(), substr); i >= 0 {
			out := string(r.got.Next(i + len(substr)))
			return out, nil
		}
		r.Conn.SetReadDeadline(deadline)
		n, err := r.Conn.Read(buf)
		r.got.Write(buf[:n])
		if err != nil {
			return r.got.String(), err
		}
	}
}

// ReadToEOF reads until the server closes the connection (or timeout) and
// returns everything received. closed reports whether EOF was seen.
func (r *Raw) ReadToEOF(timeout time.Duration) (out string, closed bool) {
	deadline := time.Now().Add(timeout)
	buf := make([]byte, 4096)
	for {
		r.Conn.SetReadDeadline(deadline)
		n, err := r.Conn.Read(buf)
		r.got.Write(buf[:n])
		if err != nil {
			s := r.got.String()
			r.got.Reset()
			timedOut := errors.Is(err, os.ErrDeadlineExceeded)
			return s, !timedOut
		}
	}
}

// Header is a client stream header for domain.
func Header(domain string) string {
	return "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='" + domain + "' version='1.0'>"
}

// Open sends a stream header and reads through the features.
func (r *Raw) Open(domain string) string {
	r.t.Helper()
	r.Write(Header(domain))
	return r.ReadUntil("</stream:features>", 5*time.Second)
}

// StartTLS negotiates STARTTLS and swaps the connection; it returns the
// features of the restarted stream.
func (r *Raw) StartTLS(cfg *tls.Config, domain string) string {
	r.t.Helper()
	r.Write("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
	r.ReadUntil("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>", 5*time.Second)
	tc := tls.Client(r.Conn, cfg)
	tc.SetDeadline(time.Now().Add(5 * time.Second))
	if err := tc.Handshake(); err != nil {
		r.t.Fatalf("xmpptest: TLS handshake: %v", err)
	}
	tc.SetDeadline(time.Time{})
	r.Conn = tc
	r.got.Reset()
	return r.Open(domain)
}

// Plain sends a SASL PLAIN auth and returns the server's answer
// (<success/> or <failure/>).
func (r *Raw) Plain(authzid, user, password string) string {
	r.t.Helper()
	msg := base64.StdEncoding.EncodeToString([]byte(authzid + "\x00" + user + "\x00" + password))
	r.Write("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>" + msg + "</auth>")
	out, err := r.ReadUntilAny([]string{"</success>", "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>", "</failure>"}, 5*time.Second)
	if err != nil {
		r.t.Fatalf("xmpptest: PLAIN: %v; got %q", err, out)
	}
	return out
}

// ReadUntilAny is ReadUntil for the first of several markers.
func (r *Raw) ReadUntilAny(subs []string, timeout time.Duration) (string, error) {
	deadline := time.Now().Add(timeout)
	buf := make([]byte, 4096)
	for {
		s := r.got.String()
		best := -1
		for _, sub := range subs {
			if i := strings.Index(s, sub); i >= 0 && (best < 0 || i+len(sub) < best) {
				best = i + len(sub)
			}
		}
		if best >= 0 {
			return string(r.got.Next(best)), nil
		}
		r.Conn.SetReadDeadline(deadline)
		n, err := r.Conn.Read(buf)
		r.got.Write(buf[:n])
		if err != nil {
			return r.got.String(), err
		}
	}
}

// Bind binds resource (after a successful login and restart) and returns
// the bind result.
func (r *Raw) Bind(resource string) string {
	r.t.Helper()
	res := ""
	if resource != "" {
		res = "<resource>" + resource + "</resource>"
	}
	r.Write("<iq type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>" + res + "</bind></iq>")
	return r.ReadUntil("</iq>", 5*time.Second)
}

// Login runs STARTTLS, PLAIN and bind for user@domain.
func (r *Raw) Login(cfg *tls.Config, user, domain, password, resource string) {
	r.t.Helper()
	r.Open(domain)
	r.StartTLS(cfg, domain)
	if out := r.Plain("", user, password); !strings.Contains(out, "success") {
		r.t.Fatalf("xmpptest: login %s failed: %s", user, out)
	}
	r.Open(domain)
	if out := r.Bind(resource); !strings.Contains(out, "type='result'") && !strings.Contains(out, `type="result"`) {
		r.t.Fatalf("xmpptest: bind failed: %s", out)
	}
}

var componentID = regexp.MustCompile(`<stream:stream[^>]* id=['"]([^'"]+)['"]`)

// Component connects an external component (XEP-0114) for domain to the
// server's components.addr and sends the handshake made with secret. It
// returns the connection and what the server answered (<handshake/> on
// success, else a stream error and the end of the stream).
func (s *Server) Component(t testing.TB, domain, secret string) (*Raw, string) {
	t.Helper()
	r := s.RawAt(t, s.Addr("components"))
	r.Write("<stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams' to='" + domain + "'>")
	head := r.ReadUntil("<stream:stream", 10*time.Second)
	head += r.ReadUntil(">", 10*time.Second)
	m := componentID.FindStringSubmatch(head)
	if m == nil {
		out, _ := r.ReadToEOF(10 * time.Second)
		return r, head + out
	}
	r.Write("<handshake>" + s2s.ComponentHandshake(m[1], secret) + "</handshake>")
	got, err := r.ReadUntilAny([]string{"<handshake/>", "</stream:stream>"}, 10*time.Second)
	if err != nil {
		t.Fatalf("xmpptest: component handshake answer: %v (%q)", err, got)
	}
	return r, got
}
