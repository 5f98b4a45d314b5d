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

	// Parking (park.go). parkMu guards parked and parkTimer.
	poll      *netpoll.Handle
	parkMu    sync.Mutex
	parkTimer *time.Timer
	parked    bool

	// The owner's (kept together: an idle connection's size counts).
	directTLS  bool
	tlsPending bool // <proceed/> sent, handshake not done: no stream to write to
	started    bool // setup done: direct TLS handshake, decoder
	draining   bool // our closing tag is out: read what the peer still sends, without timers
	// rdl is the read deadline idleReader last set on c, in Unix
	// nanoseconds (0: not known, set the next one).
	rdl int64
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
	if w, ok := rawConn(c).(writeTimeouter); !ok || w.WriteTimeout() != timeout {
		if err := c.SetWriteDeadline(time.Now().Add(timeout)); err != nil {
			return err
		}
	}
	_, err := c.Write(b)
	return err
}

// writeTimeouter is a connection that bounds each write's wait for room
// itself (sockio.Conn.SetWriteTimeout): a write that fits in the socket
// buffer, nearly every one, then arms no deadline timer.
type writeTimeouter interface{ WriteTimeout() time.Duration }

// withWriteTimeout gives c, when it can bound its writes itself, the
// configured write timeout (see tcpTransport.Write).
func withWriteTimeout(c net.Conn, d time.Duration) net.Conn {
	if w, ok := c.(interface{ SetWriteTimeout(time.Duration) }); ok {
		w.SetWriteTimeout(d)
	}
	return c
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
	t.rdl = 0 // the handshake's deadline is in force
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
	t.rdl = 0
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
		parkAt, dl := time.Time{}, time.Time{}
		if !t.draining {
			dl = s.wakeAt()
			if t.canPark() {
				parkAt = time.Now().Add(s.srv.cfg.C2S.ParkAfter.D())
				if parkAt.Before(dl) {
					dl = parkAt
				}
			}
			if err := t.setReadDeadline(c, dl); err != nil {
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
		if t.timedOutEarly(dl) {
			continue // nothing is due yet: wait until it is
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

// readSlack is how much earlier than wanted idleReader lets the read
// deadline in force fire rather than move it: a busy connection moves its
// deadline a little later with every read, and each move costs a timer
// update in the runtime. A deadline that fires early finds nothing due
// and is moved to the wanted time (timedOutEarly).
const readSlack = 250 * time.Millisecond

// setReadDeadline sets c's read deadline to dl, unless the one idleReader
// set last is at most readSlack earlier.
func (t *tcpTransport) setReadDeadline(c net.Conn, dl time.Time) error {
	n := dl.UnixNano()
	if t.rdl != 0 && n >= t.rdl && n-t.rdl <= int64(readSlack) {
		return nil
	}
	if err := c.SetReadDeadline(dl); err != nil {
		t.rdl = 0
		return err
	}
	t.rdl = n
	return nil
}

// timedOutEarly reports, after a read timed out before closing was
// requested (a Wake sets closing first, then moves the deadline), whether
// it came before want, the deadline wanted: one setReadDeadline left up to
// readSlack early. The next read then sets want itself, so a deadline
// fires early at most once.
func (t *tcpTransport) timedOutEarly(want time.Time) bool {
	if t.rdl == 0 || t.rdl == want.UnixNano() || !time.Now().Before(want) {
		return false
	}
	t.rdl = 0
	return true
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
