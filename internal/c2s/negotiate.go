package c2s

import (
	"context"
	"crypto/tls"
	"strconv"
	"strings"
	"time"

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/sasl"
	"github.com/parleyim/parley/internal/stanza"
)

// openStream reads the client's stream header, checks it (RFC 6120 §4.7),
// answers with ours and sends the features for the current state.
func (s *Session) openStream() error {
	hdr, err := s.dec.ReadHeader()
	if err != nil {
		return err
	}
	if err := s.checkHeader(hdr.Space, hdr.To, hdr.Version); err != nil {
		return err
	}
	to := ""
	if f, err := jid.Parse(hdr.From); err == nil && hdr.From != "" {
		to = f.String()
	}
	s.srv.log.Debug("stream opened", "peer", s.addr, "to", hdr.To, "from", hdr.From, "state", s.state)
	s.id = newStreamID()
	b := []byte(streamHeader(s.id, s.domain, to))
	b = append(b, featuresXML(s.features())...)
	s.headerOut.Store(true)
	return s.out.writeNow(b)
}

func (s *Session) checkHeader(space, to, version string) error {
	if space != stanza.NSClient {
		return streamErr("invalid-namespace", "the content namespace must be jabber:client")
	}
	domain := ""
	if to != "" {
		if d, err := jid.Parse(to); err == nil && d.IsDomain() {
			domain = d.Domain()
		}
	}
	if to == "" {
		// No 'to' and an empty one alike name no host (RFC 6120 §4.9.1.3).
		return streamErr("host-unknown", "the stream header's 'to' is missing or empty: name the domain to connect to")
	}
	if domain == "" || !s.srv.domains[domain] {
		return streamErr("host-unknown", "this server does not serve "+strconv.Quote(to))
	}
	if s.domain != "" && domain != s.domain {
		return streamErr("host-unknown", "a restarted stream may not change its domain")
	}
	if err := s.checkCertDomain(domain); err != nil {
		return err
	}
	s.domain = domain
	return checkVersion(version)
}

// checkCertDomain makes sure the certificate we presented on direct TLS is
// the one for the requested domain.
func (s *Session) checkCertDomain(domain string) error {
	if !s.directTLS || s.tls == nil {
		return nil
	}
	sni := strings.ToLower(strings.TrimSuffix(s.tls.ServerName, "."))
	if sni == "" {
		sni = s.srv.cfg.Domains[0]
	}
	if sni != domain {
		return streamErr("host-unknown", "the TLS server name does not match the stream's domain")
	}
	return nil
}

func checkVersion(v string) error {
	major, _, ok := strings.Cut(v, ".")
	if v == "" || !ok {
		return streamErr("unsupported-version", "XMPP version 1.0 is required")
	}
	if n, err := strconv.Atoi(major); err != nil || n != 1 {
		return streamErr("unsupported-version", "XMPP version 1.0 is required")
	}
	return nil
}

// features lists what the client may do next.
func (s *Session) features() []*stanza.Element {
	switch s.state {
	case stateConnected:
		return s.preAuthFeatures()
	case stateAuthenticated:
		fs := []*stanza.Element{
			stanza.New(NSBind, "bind"),
			stanza.New(NSSession, "session").Append(stanza.New(NSSession, "optional")),
		}
		return append(fs, s.srv.router.Registry().StreamFeatures(s.user)...)
	}
	return nil
}

func (s *Session) tlsRequired() bool {
	return s.srv.cfg.C2S.RequireTLS && !s.srv.cfg.C2S.InsecurePlaintext
}

func (s *Session) preAuthFeatures() []*stanza.Element {
	var fs []*stanza.Element
	if s.tls == nil {
		st := stanza.New(NSTLS, "starttls")
		if s.tlsRequired() {
			st.Append(stanza.New(NSTLS, "required"))
			return append(fs, st)
		}
		fs = append(fs, st)
	}
	opts := s.saslOptions()
	mechs := stanza.New(NSSASL, "mechanisms")
	for _, m := range sasl.Mechanisms(opts) {
		mechs.Append(stanza.New(NSSASL, "mechanism").AppendText(m))
	}
	fs = append(fs, mechs)
	if cbs := sasl.ChannelBindingTypes(opts); len(cbs) > 0 {
		cb := stanza.New(NSSASLCB, "sasl-channel-binding")
		for _, t := range cbs {
			cb.Append(stanza.New(NSSASLCB, "channel-binding").SetAttr("type", t))
		}
		fs = append(fs, cb)
	}
	return append(fs, s.srv.router.Registry().PreAuthFeatures(s.preAuth())...)
}

func (s *Session) saslOptions() sasl.Options {
	o := sasl.Options{
		Lookup:             s.lookupCredentials,
		TLS:                s.tls,
		AllowInsecurePlain: s.srv.cfg.C2S.InsecurePlaintext,
		Hashes:             s.srv.accounts.Hashes(),

		StrictChannelBinding: s.srv.cfg.Auth.ChannelBindingDowngrade == config.ChannelBindingStrict,
	}
	if s.tls != nil {
		o.ServerCert = s.srv.certs.LeafDER(s.domain)
	}
	return o
}

// handlePreAuth accepts STARTTLS, SASL and the iqs modules take before
// login (XEP-0077 registration); anything else before login is refused.
func (s *Session) handlePreAuth(ctx context.Context, el *stanza.Element) (bool, error) {
	if h := s.preAuthIQHandler(el); h != nil {
		if s.tls == nil && s.tlsRequired() {
			return false, streamErr("policy-violation", "STARTTLS is required first")
		}
		return false, s.handlePreAuthIQ(ctx, el, h)
	}
	switch {
	case el.Space == NSTLS && el.Local == "starttls":
		return true, s.startTLS()
	case el.Space == NSSASL && (el.Local == "auth" || el.Local == "response" || el.Local == "abort"):
		if s.tls == nil && s.tlsRequired() {
			return false, streamErr("policy-violation", "STARTTLS is required before authentication")
		}
		return s.handleSASL(ctx, el)
	case stanza.IsStanza(el):
		return false, streamErr("not-authorized", "authenticate first")
	}
	return false, streamErr("unsupported-stanza-type", "unexpected element before authentication")
}

// startTLS answers <starttls/> with <proceed/> and upgrades the connection.
func (s *Session) startTLS() error {
	if s.tls != nil {
		return streamErr("policy-violation", "TLS is already established")
	}
	// White space after <starttls/> (go-sendxmpp sends a newline in the
	// same write) is dropped with the buffer by Reset; anything else was
	// sent in plaintext ahead of the handshake and is refused.
	if !s.dec.BufferedSpace() {
		return streamErr("policy-violation", "data sent after <starttls/> before <proceed/>")
	}
	if err := s.out.writeNow([]byte("<proceed xmlns='" + NSTLS + "'/>")); err != nil {
		return err
	}
	if err := s.handshake(s.srv.tlsConfigFor(s.domain)); err != nil {
		return err
	}
	s.dec.Reset(rateReaderFor(s))
	return nil
}

// handshake runs the TLS server handshake within the pre-auth deadline and
// swaps the session's connection for the TLS one. Its failure is a
// *handshakeError: nothing more can be said to the peer.
func (s *Session) handshake(cfg *tls.Config) error {
	raw := s.conn()
	tc := tls.Server(raw, cfg)
	raw.SetDeadline(s.deadline)
	if err := tc.Handshake(); err != nil {
		return &handshakeError{err: err}
	}
	raw.SetWriteDeadline(time.Time{})
	st := tc.ConnectionState()
	s.tls = &st
	s.connMu.Lock()
	s.c = tc
	s.connMu.Unlock()
	return nil
}

// handshakeError is a TLS handshake that failed or timed out. The peer has
// left plaintext XML (after <proceed/>, or on the direct TLS port) and TLS
// did not come up, so no stream error can reach it: the TCP connection is
// just closed (RFC 6120 §5.4.3.2).
type handshakeError struct{ err error }

func (e *handshakeError) Error() string { return "TLS handshake: " + e.err.Error() }
func (e *handshakeError) Unwrap() error { return e.err }
