package c2s

import (
	"crypto/tls"
	"time"

	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/stream"
	"github.com/parleyim/parley/internal/xmlstream"
)

// transport carries one client session's stream: it turns the peer's
// bytes into stream headers and elements, frames what the session writes,
// and owns the goroutine that runs the session. The session (session.go)
// is the state: negotiation, the bound address, presence, the output
// queue, the hooks, and the decision to close. A transport is only the
// carrier, so another one plugs in without touching the session:
//
//   - TCP, plaintext with STARTTLS or direct TLS (tcp.go, park.go): today's
//     only transport. A silent connection parks in netpoll.
//   - WebSocket (RFC 7395): each message is one element, the stream opens
//     with <open/> and closes with <close/> (AppendOpen, AppendClose, and
//     ReadHeader reading <open/>), TLS is below HTTP (no tlsStarter).
//   - BOSH (XEP-0124/0206): the session outlives each HTTP request; Next
//     returns the elements of the request bodies in order, Write answers
//     the oldest held request (or holds the bytes until one arrives), and
//     Wake answers a held request so the owner can close.
//   - Stream management resumption (XEP-0198, resume.go): the session
//     survives the end of its transport for a while; a new transport that
//     resumes it takes over as owner and the output queue writes to it. A
//     transport that can carry a resumed session implements sessionMover
//     (moveTo); TCP does, and WebSocket or BOSH need only that.
//
// The owner calls every method except Write (the output queue's flusher,
// one write at a time) and Wake (any goroutine).
type transport interface {
	// WantHeader reports whether a new stream must be opened before the
	// next element (at the start and after a restart).
	WantHeader() bool
	// ReadHeader reads the peer's stream header.
	ReadHeader() (xmlstream.Header, error)
	// Next returns the next top-level element. It returns
	// xmlstream.ErrStreamClosed when the peer closed the stream,
	// errClosing once the session is asked to close, errPark when the
	// connection may park, a timeout when the session's wake time passed
	// (wakeAt), and *stream.Error for what breaks the stream's grammar or
	// limits.
	Next() (*stanza.Element, error)
	// Restart expects a new stream from the peer, read with limits l
	// (after SASL, RFC 6120 §6.4.6).
	Restart(l xmlstream.Limits)

	// AppendOpen and AppendClose frame our side of a stream.
	AppendOpen(b []byte, h stream.Header) []byte
	AppendClose(b []byte) []byte
	// Write writes b, whole framed elements, within timeout.
	Write(b []byte, timeout time.Duration) error
	// Writable reports whether anything may be written: not while TLS
	// is being negotiated, or before it on a TLS-first transport.
	Writable() bool

	// TLS is the connection's TLS state, or nil; byName reports whether
	// the certificate was chosen by the TLS server name before the stream
	// started (rather than by the stream's domain).
	TLS() (st *tls.ConnectionState, byName bool)

	// Wake makes the owner run now, from any goroutine: a blocked read
	// returns, a parked session is run. The owner then sees the close
	// request.
	Wake()
	// Finish ends our direction after our closing tag; Next then returns
	// what the peer still sends until it closes or grace passes.
	Finish(grace time.Duration)
	// Close releases the connection; whatever blocks on it returns.
	Close()
}

// tlsStarter is a transport on which TLS can start inside the stream
// (STARTTLS, RFC 6120 §5). The TCP transport is one; WebSocket and BOSH
// run over HTTPS and offer no STARTTLS.
type tlsStarter interface {
	// BufferedSpace reports whether what the peer sent and was not read
	// yet is only white space (nothing else may follow <starttls/>
	// before our <proceed/>).
	BufferedSpace() bool
	// StartTLS runs the server handshake with cfg, done by deadline.
	StartTLS(cfg *tls.Config, deadline time.Time) error
}
