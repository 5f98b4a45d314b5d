package c2s

import (
	"bytes"
	"context"
	"crypto/tls"
	"net"
	"net/netip"

	"github.com/parleyim/parley/internal/stream"
)

// This file holds what the two HTTP transports (websocket.go, bosh.go)
// share: who the peer is, how a session on one is made and counted, and
// how our serialised output is cut into top-level elements (a WebSocket
// message and a BOSH body carry whole elements, each with its namespace
// declared).

// NSFraming is the namespace of RFC 7395's <open/> and <close/>.
const NSFraming = "urn:ietf:params:xml:ns:xmpp-framing"

// Peer is what the HTTP server knows of the client of a request.
type Peer struct {
	// Addr is the client's address: the connection's, or the one a
	// trusted proxy reported (X-Forwarded-For).
	Addr netip.Addr
	// TLS is the request's TLS state; nil over plain HTTP.
	TLS *tls.ConnectionState
	// Trusted says the plain HTTP connection is as good as TLS for
	// authentication: it comes from loopback or from a trusted proxy that
	// terminates TLS (docs/security.md).
	Trusted bool
}

// rawConn is the connection under TLS, for the poller: a WebSocket on the
// HTTPS listener is handed over as a TLS connection.
func rawConn(c net.Conn) net.Conn {
	if tc, ok := c.(*tls.Conn); ok {
		return tc.NetConn()
	}
	return c
}

// trustedPlain stands for the TLS state of a connection that is trusted
// without TLS: SASL sees a confidential channel (PLAIN is offered) with
// no handshake, so no channel binding is offered on it.
var trustedPlain = &tls.ConnectionState{}

// security is what the session's TLS() reports for p.
func (p Peer) security() *tls.ConnectionState {
	if p.TLS != nil {
		return p.TLS
	}
	if p.Trusted {
		return trustedPlain
	}
	return nil
}

// webSession makes a session on transport tr and counts it among the
// server's connections, like an accepted TCP connection; the caller
// starts it or, when ok is false (shutting down), drops it.
func (s *Server) webSession(ctx context.Context, sess *Session, tr transport, addr netip.Addr) (ok bool) {
	sess.srv, sess.tr, sess.addr, sess.id = s, tr, addr, stream.NewID()
	sess.ctx.parent = ctx
	sess.out.s = sess
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.conns[sess] = struct{}{}
	s.wg.Add(1)
	mConnections.Inc()
	return true
}

// eachElement calls f with each top-level element of b, which holds whole
// elements as the session serialises them (no comments, no CDATA, '<'
// escaped in text, attribute values quoted). Text between elements is
// skipped. It returns the bytes after the last complete element.
func eachElement(b []byte, f func(el []byte)) []byte {
	depth, start := 0, -1
	for i := 0; i < len(b); i++ {
		lt := bytes.IndexByte(b[i:], '<')
		if lt < 0 {
			break
		}
		i += lt
		end := tagEnd(b, i)
		if end < 0 {
			if start < 0 {
				start = i
			}
			return b[start:]
		}
		switch {
		case i+1 < len(b) && (b[i+1] == '?' || b[i+1] == '!'):
			// a declaration: not part of an element
		case i+1 < len(b) && b[i+1] == '/':
			depth--
		case b[end-1] == '/':
			if depth == 0 {
				f(b[i : end+1])
			}
		default:
			if depth == 0 {
				start = i
			}
			depth++
		}
		if depth == 0 && start >= 0 && b[i+1] == '/' {
			f(b[start : end+1])
			start = -1
		}
		i = end
	}
	if start >= 0 {
		return b[start:]
	}
	return nil
}

// tagEnd returns the index of the '>' ending the tag that starts at i,
// skipping quoted attribute values, or -1.
func tagEnd(b []byte, i int) int {
	for j := i + 1; j < len(b); {
		k := bytes.IndexAny(b[j:], "'\">")
		if k < 0 {
			return -1
		}
		j += k
		if b[j] == '>' {
			return j
		}
		q := bytes.IndexByte(b[j+1:], b[j]) // the closing quote
		if q < 0 {
			return -1
		}
		j += q + 2
	}
	return -1
}

// appendQualified appends el with its namespace declared on its start tag
// when the session left it implied: a stanza gets xmlns='jabber:client'
// and a stream-level element (stream:features, stream:error) gets the
// stream prefix, unless streamDeclared.
func appendQualified(dst, el []byte, streamDeclared bool) []byte {
	nameEnd := bytes.IndexAny(el, " />")
	tagClose := tagEnd(el, 0)
	if nameEnd < 0 || tagClose < 0 {
		return append(dst, el...)
	}
	tag := el[:tagClose]
	var decl string
	switch {
	case bytes.HasPrefix(el, []byte("<stream:")):
		if !streamDeclared && !bytes.Contains(tag, []byte("xmlns:stream=")) {
			decl = " xmlns:stream='" + stream.NSStream + "'"
		}
	case bytes.IndexByte(el[:nameEnd], ':') < 0 && !bytes.Contains(tag, []byte(" xmlns=")):
		decl = " xmlns='" + stream.NSClient + "'"
	}
	if decl == "" {
		return append(dst, el...)
	}
	dst = append(dst, el[:nameEnd]...)
	dst = append(dst, decl...)
	return append(dst, el[nameEnd:]...)
}

// tlsFirst is the text of the policy-violation for a client that would
// authenticate without TLS where TLS is required: STARTTLS on a transport
// that offers it, else the HTTPS listener (docs/security.md).
func (s *Session) tlsFirst(starttls string) string {
	if _, ok := s.tr.(tlsStarter); ok {
		return starttls
	}
	return "TLS is required before authentication: connect over HTTPS (wss:// or https://, http.tls_addr); plain HTTP is accepted only from loopback or a trusted proxy"
}
