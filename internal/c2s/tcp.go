package c2s

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"sync"
	"time"

	"github.com/parleyim/parley/internal/limits"
	"github.com/parleyim/parley/internal/netpoll"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/stream"
	"github.com/parleyim/parley/internal/xmlstream"
)

// tcpTransport carries a client stream over a TCP connection, plaintext
// with STARTTLS (RFC 6120 §5) or TLS from the first byte (XEP-0368). It
// frames the stream the RFC 6120 way (<stream:stream> … </stream:stream>),
// reads it with an xmlstream decoder through the per-connection byte rate
// and the session's deadlines, and runs the session on its goroutine,
// parking it in netpoll when the connection is silent (park.go).
type tcpTransport struct {
	s    *Session
	slot func() // gives back the connection's per-address slot (limits)

	// mu guards c (replaced by the TLS connection after STARTTLS).
	mu sync.Mutex
	c  net.Conn

	// The owner's.
	dec *xmlstream.Decoder
	tls *tls.ConnectionState

	// Parking (park.go). parkMu guards parked; wakes.mu guards wakeIdx,
	// the connection's place among the parked connections' timers
	// (wake.go).
	poll    *netpoll.Handle
	parkMu  sync.Mutex
	wakeIdx int32
	parked  bool

	// The owner's (kept together: an idle connection's size counts).
	directTLS  bool
	tlsPending bool // <proceed/> sent, handshake not done: no stream to write to
	started    bool // setup done: direct TLS handshake, decoder
	draining   bool // our closing tag is out: read what the peer still sends, without timers
}

var (
	_ transport  = (*tcpTransport)(nil)
	_ tlsStarter = (*tcpTransport)(nil)
)

func (t *tcpTransport) conn() net.Conn {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.c
}

// setup runs the direct TLS handshake (XEP-0368) and makes the decoder.
func (t *tcpTransport) setup() error {
	s := t.s
	if t.directTLS {
		if err := t.handshake(s.srv.directTLS, s.deadline); err != nil {
			s.srv.log.Debug("direct TLS handshake failed", "peer", s.addr, "err", err)
			return err
		}
	}
	t.dec = xmlstream.NewDecoder(t.reader(), s.limitsPreAuth())
	t.started = true
	return nil
}

// reader is what the decoder reads: the connection through the idle
// deadlines and the byte rate.
func (t *tcpTransport) reader() io.Reader {
	return limits.NewRateReader(idleReader{t}, t.s.rate(), t.s.srv.cfg.Limits.BurstBytes)
}

func (t *tcpTransport) WantHeader() bool                      { return t.dec.WantHeader() }
func (t *tcpTransport) ReadHeader() (xmlstream.Header, error) { return t.dec.ReadHeader() }
func (t *tcpTransport) Next() (*stanza.Element, error) {
	if t.dec == nil {
		return nil, io.EOF // closed before the stream started
	}
	return t.dec.Next()
}
func (t *tcpTransport) BufferedSpace() bool { return t.dec.BufferedSpace() }

func (t *tcpTransport) Restart(l xmlstream.Limits) {
	t.dec.SetLimits(l)
	t.dec.Restart()
}

func (t *tcpTransport) AppendOpen(b []byte, h stream.Header) []byte { return h.AppendXML(b) }
func (t *tcpTransport) AppendClose(b []byte) []byte                 { return append(b, stream.Close...) }

func (t *tcpTransport) Write(b []byte, timeout time.Duration) error {
	c := t.conn()
	if err := c.SetWriteDeadline(time.Now().Add(timeout)); err != nil {
		return err
	}
	_, err := c.Write(b)
	return err
}

// Writable: a plaintext connection may be written to from the start (one
// closed before its header still gets a header and the stream error, RFC
// 6120 §4.9.1.1), a direct TLS one only after its handshake, and neither
// during a STARTTLS handshake.
func (t *tcpTransport) Writable() bool { return !t.tlsPending && (t.started || !t.directTLS) }

func (t *tcpTransport) TLS() (*tls.ConnectionState, bool) { return t.tls, t.directTLS }

// StartTLS runs the server handshake after <proceed/> and reads the new
// stream through TLS. Until it is done nothing may be written: a failure
// just closes the connection (no plaintext inside TLS).
func (t *tcpTransport) StartTLS(cfg *tls.Config, deadline time.Time) error {
	t.tlsPending = true
	if err := t.handshake(cfg, deadline); err != nil {
		return err
	}
	t.tlsPending = false
	t.dec.Reset(t.reader())
	return nil
}

// handshake runs the TLS server handshake by deadline and swaps the
// connection for the TLS one.
func (t *tcpTransport) handshake(cfg *tls.Config, deadline time.Time) error {
	raw := t.conn()
	tc := tls.Server(raw, cfg)
	raw.SetDeadline(deadline)
	if err := tc.Handshake(); err != nil {
		return err
	}
	raw.SetWriteDeadline(time.Time{})
	st := tc.ConnectionState()
	t.tls = &st
	t.mu.Lock()
	t.c = tc
	t.mu.Unlock()
	return nil
}

// Wake interrupts a read in progress (the reader then sees the close
// request, idleReader) and runs a parked session.
func (t *tcpTransport) Wake() {
	t.conn().SetReadDeadline(time.Now())
	t.wake()
}

func (t *tcpTransport) Finish(grace time.Duration) {
	c := t.conn()
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
	t.draining = true
	c.SetReadDeadline(time.Now().Add(grace))
}

func (t *tcpTransport) Close() { t.conn().Close() }

// idleReader reads from the connection with deadlines: before login the
// absolute pre-auth deadline; after it, an idle timeout that triggers a
// server-to-client ping (XEP-0199), and a second one that ends the stream.
// A connection that can park stops waiting after park_after of silence and
// returns errPark (park.go). A close request (Close) makes it return
// errClosing, at once even when a read is in progress (Wake); once our
// closing tag is out (draining) it reads until the grace deadline Finish
// set.
type idleReader struct{ t *tcpTransport }

func (r idleReader) Read(p []byte) (int, error) {
	t, s := r.t, r.t.s
	for {
		c := t.conn()
		parkAt := time.Time{}
		if !t.draining {
			dl := s.wakeAt()
			if t.canPark() {
				parkAt = time.Now().Add(s.srv.cfg.C2S.ParkAfter.D())
				if parkAt.Before(dl) {
					dl = parkAt
				}
			}
			if err := c.SetReadDeadline(dl); err != nil {
				return 0, err
			}
			// After our deadline: a Close from now on moves it to the
			// past (Wake), one before is seen here.
			if s.closing.Load() {
				return 0, errClosing
			}
		}
		n, err := c.Read(p)
		if n > 0 {
			s.heard()
			return n, err
		}
		if t.draining || !isTimeout(err) {
			return n, err
		}
		if s.closing.Load() {
			return 0, errClosing
		}
		if !parkAt.IsZero() && time.Now().Before(s.wakeAt()) {
			return 0, errPark
		}
		if s.pingIdle() {
			continue
		}
		return n, err
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
