package s2s

import (
	"context"
	"encoding/base64"
	"errors"
	"net"
	"sync"
	"time"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/stream"
)

// inbound is one stream another server opened to us. Its goroutine (run)
// reads and handles everything; dialback verifications run on their own
// goroutines and report back through the stream's state.
type inbound struct {
	srv   *Server
	c     *conn
	ip    string
	since time.Time
	id    string // the stream id we gave (dialback keys are bound to it)
	local string // the domain the header addressed
	from  string // the domain the header claimed ("" if none)

	tokens float64 // stanza rate bucket (owner's)
	last   time.Time

	// mu guards auth and pending.
	mu      sync.Mutex
	auth    map[string]string // authenticated remote domain → method
	pending int               // dialback verifications in flight
	failure *stream.Error     // set by a verification before it interrupts the owner
	removed bool              // the stream left the server: authenticate nothing more

	pl *inPipeline // made on the first stanza (owner's; see pipeline.go)
}

// serveInbound runs one inbound connection to its end.
func (s *Server) serveInbound(nc net.Conn, directTLS bool) {
	in := &inbound{srv: s, c: newConn(nc, s.lim, s.cfg.ConnectTimeout.D()), since: time.Now(), auth: map[string]string{},
		tokens: float64(s.cfg.StanzaBurst), last: time.Now()}
	in.ip, _, _ = net.SplitHostPort(nc.RemoteAddr().String())
	if !s.addInbound(in) {
		in.c.write(stream.Header{ContentNS: stream.NSServer, ID: stream.NewID()}.AppendXML(nil))
		in.streamError(stream.New(stream.PolicyViolation, "too many streams from your address"))
		return
	}
	defer s.removeInbound(in)
	stop := context.AfterFunc(s.ctx, func() { in.requestClose() })
	defer stop()
	in.c.setDeadline(time.Now().Add(s.cfg.ConnectTimeout.D()))
	err := in.run(directTLS)
	in.drainPipeline() // what the peer sent is finished before the stream goes
	var se *stream.Error
	in.mu.Lock()
	if in.failure != nil {
		err = in.failure
	}
	in.mu.Unlock()
	switch {
	case errors.As(err, &se):
		in.streamError(se)
	case in.c.closing.Load():
		in.streamError(stream.New(stream.SystemShutdown, "")) // or closed by the operator
	case isTimeout(err):
		in.c.writeString(stream.Close) // idle (or too slow to authenticate)
		in.c.close()
	default:
		if err != nil && !isClosed(err) {
			s.log.Debug("inbound s2s stream ended", "peer", in.ip, "err", err)
		}
		in.c.writeString(stream.Close)
		in.c.close()
	}
}

func (in *inbound) streamError(e *stream.Error) {
	streamErrors.WithLabelValues(e.Condition).Inc()
	in.srv.log.Info("s2s stream error sent", "peer", in.ip, "from", in.from, "condition", e.Condition, "text", e.Text)
	in.c.fail(e)
}

// addInbound registers in, refusing it past streams_per_ip.
func (s *Server) addInbound(in *inbound) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.perIP[in.ip] >= s.cfg.StreamsPerIP {
		return false
	}
	s.perIP[in.ip]++
	s.in[in] = struct{}{}
	return true
}

func (s *Server) removeInbound(in *inbound) {
	s.mu.Lock()
	if s.perIP[in.ip]--; s.perIP[in.ip] <= 0 {
		delete(s.perIP, in.ip)
	}
	delete(s.in, in)
	s.mu.Unlock()
	in.mu.Lock()
	defer in.mu.Unlock()
	in.removed = true
	for d := range in.auth {
		streams.WithLabelValues(d, "in").Dec()
	}
}

// requestClose makes the owner's read return and the stream end.
func (in *inbound) requestClose() { in.c.interrupt() }

func (in *inbound) authenticated(domain string) bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.auth[domain] != ""
}

func (in *inbound) setAuth(domain, method string) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.removed {
		return // a verification that finished after the stream ended
	}
	if in.auth[domain] == "" {
		streams.WithLabelValues(domain, "in").Inc()
	}
	in.auth[domain] = method
	// Authenticated: from now on the stream ends after idle_timeout
	// without a stanza.
	in.c.setDeadline(time.Now().Add(in.srv.cfg.IdleTimeout.D()))
}

func (in *inbound) info() []StreamInfo {
	in.mu.Lock()
	defer in.mu.Unlock()
	base := StreamInfo{Direction: "in", Local: in.local, Addr: in.c.remoteAddr(), TLS: in.c.tls != nil, Since: in.since}
	if len(in.auth) == 0 {
		base.Remote = in.from
		return []StreamInfo{base}
	}
	var out []StreamInfo
	for d, m := range in.auth {
		i := base
		i.Remote, i.Auth = d, m
		out = append(out, i)
	}
	return out
}

// run handles the stream: headers, negotiation, dialback, stanzas.
func (in *inbound) run(directTLS bool) error {
	s := in.srv
	if directTLS {
		if err := in.c.startTLS(s.tlsServer, false, time.Now().Add(s.cfg.ConnectTimeout.D())); err != nil {
			return err
		}
	}
	for {
		if in.c.dec.WantHeader() {
			if err := in.open(); err != nil {
				return err
			}
		}
		el, err := in.c.next()
		if err != nil {
			if in.c.closing.Load() {
				return errClosing
			}
			return err
		}
		if err := in.handle(el); err != nil {
			return err
		}
	}
}

var errClosing = errors.New("s2s: stream closing")

// open reads the peer's header, answers with ours and the features.
func (in *inbound) open() error {
	s := in.srv
	h, dom, err := in.c.readHeader(stream.NSServer, s.serves)
	in.id = stream.NewID()
	if err != nil {
		var se *stream.Error
		if errors.As(err, &se) {
			// Our header first, so the error is in a stream (RFC 6120 §4.9.1.1).
			in.c.write(stream.Header{ContentNS: stream.NSServer, ID: in.id, Dialback: true}.AppendXML(nil))
		}
		return err
	}
	if in.local != "" && dom != in.local {
		return stream.New(stream.HostUnknown, "a restarted stream must address the same domain")
	}
	in.local = dom
	if h.From != "" {
		if f, err := jid.Parse(h.From); err == nil && f.IsDomain() {
			in.from = f.Domain()
		} else {
			return stream.New(stream.InvalidFrom, "the stream header's 'from' is not a domain")
		}
	}
	b := stream.Header{ContentNS: stream.NSServer, ID: in.id, From: dom, To: in.from, Dialback: true}.AppendXML(nil)
	b = in.features().AppendXML(b, stream.NSServer)
	return in.c.write(b)
}

// features offers STARTTLS before TLS, and after it (or when TLS is not
// required) SASL EXTERNAL to a peer whose certificate verifies for the
// domain it claims, and dialback.
func (in *inbound) features() stream.Features {
	s := in.srv
	var fs stream.Features
	if in.c.tls == nil {
		tls := stanza.New(nsTLS, "starttls")
		if s.cfg.RequireTLS {
			tls.Append(stanza.New(nsTLS, "required"))
		}
		fs = append(fs, tls)
		if s.cfg.RequireTLS {
			return fs
		}
	}
	if in.externalOK() && !in.authenticated(in.from) {
		mech := stanza.New(nsSASL, "mechanism").AppendText("EXTERNAL")
		fs = append(fs, stanza.New(nsSASL, "mechanisms").Append(mech))
	}
	if s.cfg.Dialback {
		fs = append(fs, stanza.New(nsDBFeature, "dialback").Append(stanza.New(nsDBFeature, "errors")))
	}
	return fs
}

// externalOK reports whether the peer's certificate authenticates the
// domain its header claims.
func (in *inbound) externalOK() bool { return in.from != "" && in.certValidFor(in.from) }

// certValidFor reports whether the peer's certificate authenticates
// domain.
func (in *inbound) certValidFor(domain string) bool {
	return in.c.tls != nil && in.srv.trust.verify(in.c.tls.PeerCertificates, domain) == nil
}

// handle dispatches one top-level element.
func (in *inbound) handle(el *stanza.Element) error {
	s := in.srv
	switch {
	case el.Space == nsTLS && el.Local == "starttls":
		return in.startTLS()
	case el.Space == nsSASL && el.Local == "auth":
		return in.saslExternal(el)
	case el.Space == stream.NSDialback && el.Local == "result":
		return in.dialbackResult(el)
	case el.Space == stream.NSDialback && el.Local == "verify":
		return in.dialbackVerify(el)
	case el.Space == stream.NSStream && el.Local == "error":
		s.log.Info("s2s peer sent a stream error", "peer", in.ip, "from", in.from, "err", peerStreamError(el))
		return errClosingPeer
	case isStanzaIn(el, stream.NSServer):
		return in.stanza(el)
	}
	return stream.New(stream.UnsupportedStanzaType, "unexpected <"+el.Local+"/> in "+el.Space)
}

var errClosingPeer = errors.New("s2s: the peer ended the stream with an error")

func (in *inbound) startTLS() error {
	s := in.srv
	if in.c.tls != nil {
		return stream.New(stream.PolicyViolation, "TLS is already on")
	}
	if !in.c.dec.BufferedSpace() {
		return stream.New(stream.PolicyViolation, "nothing may follow <starttls/> before <proceed/>")
	}
	if err := in.c.writeString("<proceed xmlns='" + nsTLS + "'/>"); err != nil {
		return err
	}
	return in.c.startTLS(s.tlsServer, false, time.Now().Add(s.cfg.ConnectTimeout.D()))
}

// requireTLS refuses authentication before TLS when TLS is required.
func (in *inbound) requireTLS() error {
	if in.c.tls == nil && in.srv.cfg.RequireTLS {
		return stream.New(stream.PolicyViolation, "use STARTTLS first (s2s.require_tls)")
	}
	return nil
}

// saslExternal authenticates the header's domain by the peer's
// certificate (RFC 6120 §6.3.4, §13.7.1.2).
func (in *inbound) saslExternal(el *stanza.Element) error {
	if err := in.requireTLS(); err != nil {
		return err
	}
	fail := func(cond string) error {
		return in.c.writeString("<failure xmlns='" + nsSASL + "'><" + cond + "/></failure>")
	}
	if el.Attr("mechanism") != "EXTERNAL" {
		return fail("invalid-mechanism")
	}
	authz := ""
	if t := el.Text(); t != "" && t != "=" {
		b, err := base64.StdEncoding.DecodeString(t)
		if err != nil {
			return fail("incorrect-encoding")
		}
		authz = string(b)
	}
	if in.from == "" || authz != "" && authz != in.from {
		return fail("invalid-authzid")
	}
	if !in.externalOK() {
		return fail("not-authorized")
	}
	if err := in.c.writeString("<success xmlns='" + nsSASL + "'/>"); err != nil {
		return err
	}
	in.setAuth(in.from, authExternal)
	in.c.dec.Restart()
	return nil
}

// stanza checks the addresses of a stanza from the peer and routes it.
func (in *inbound) stanza(el *stanza.Element) error {
	s := in.srv
	if !in.take() {
		return stream.New(stream.PolicyViolation, "too many stanzas (s2s.stanzas_per_second)")
	}
	from, err := jid.Parse(el.Attr("from"))
	if err != nil || from.IsZero() {
		return stream.New(stream.ImproperAddressing, "a stanza between servers needs a valid 'from'")
	}
	if !in.authenticated(from.Domain()) {
		return stream.New(stream.InvalidFrom, "this stream is not authenticated for "+from.Domain())
	}
	to, err := jid.Parse(el.Attr("to"))
	if err != nil || to.IsZero() {
		return stream.New(stream.ImproperAddressing, "a stanza between servers needs a valid 'to'")
	}
	if !s.serves(to.Domain()) {
		return stream.New(stream.HostUnknown, "this server does not serve "+to.Domain())
	}
	received.Inc()
	in.c.setDeadline(time.Now().Add(s.cfg.IdleTimeout.D()))
	toClient(el, stream.NSServer)
	in.route(from, el)
	return nil
}

// take spends one token of the stanza rate bucket.
func (in *inbound) take() bool {
	cfg := in.srv.cfg
	now := time.Now()
	in.tokens = min(float64(cfg.StanzaBurst), in.tokens+now.Sub(in.last).Seconds()*float64(cfg.StanzasPerSecond))
	in.last = now
	if in.tokens < 1 {
		return false
	}
	in.tokens--
	return true
}
