package c2s

import (
	"context"
	"crypto/tls"
	"strings"

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/sasl"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/stream"
)

// openStream reads the client's stream header, checks it (RFC 6120 §4.7),
// answers with ours and sends the features for the current state.
func (s *Session) openStream() error {
	hdr, err := s.tr.ReadHeader()
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
	s.id = stream.NewID()
	b := s.tr.AppendOpen(nil, stream.Header{ContentNS: stream.NSClient, ID: s.id, From: s.domain, To: to})
	b = s.features().AppendXML(b, stream.NSClient)
	s.headerOut.Store(true)
	return s.out.writeNow(b)
}

// checkHeader checks the header against what the stream layer requires and
// what a client stream adds: a restart keeps the domain, and on direct TLS
// the certificate presented was the domain's.
func (s *Session) checkHeader(space, to, version string) error {
	domain, err := stream.Opening{ContentNS: space, To: to, Version: version}.Check(stream.NSClient, s.srv.serves)
	if err != nil {
		return err
	}
	if s.domain != "" && domain != s.domain {
		return stream.New(stream.HostUnknown, "a restarted stream may not change its domain")
	}
	if err := s.checkCertDomain(domain); err != nil {
		return err
	}
	s.domain = domain
	return nil
}

// checkCertDomain makes sure the certificate we presented, when it was
// chosen by the TLS server name before the stream (direct TLS), is the one
// for the requested domain.
func (s *Session) checkCertDomain(domain string) error {
	st, byName := s.tr.TLS()
	if st == nil || !byName {
		return nil
	}
	sni := strings.ToLower(strings.TrimSuffix(st.ServerName, "."))
	if sni == "" {
		sni = s.srv.cfg.Domains[0]
	}
	if sni != domain {
		return stream.New(stream.HostUnknown, "the TLS server name does not match the stream's domain")
	}
	return nil
}

// features lists what the client may do next.
func (s *Session) features() stream.Features {
	switch s.state {
	case stateConnected:
		return s.preAuthFeatures()
	case stateAuthenticated:
		fs := []*stanza.Element{
			stanza.New(NSBind, "bind"),
			stanza.New(NSSession, "session").Append(stanza.New(NSSession, "optional")),
		}
		if s.srv.cfg.SM.Enabled {
			fs = append(fs, stanza.New(NSSM, "sm"))
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
	if _, ok := s.tr.(tlsStarter); ok && s.secure() == nil {
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
	if s.srv.cfg.SASL2.Enabled {
		fs = append(fs, s.sasl2Feature(opts))
	}
	return append(fs, s.srv.router.Registry().PreAuthFeatures(s.preAuth())...)
}

func (s *Session) saslOptions() sasl.Options {
	o := sasl.Options{
		Lookup:             s.lookupCredentials,
		TLS:                s.secure(),
		AllowInsecurePlain: s.srv.cfg.C2S.InsecurePlaintext,
		Hashes:             s.srv.accounts.Hashes(),

		StrictChannelBinding: s.srv.cfg.Auth.ChannelBindingDowngrade == config.ChannelBindingStrict,
	}
	if o.TLS != nil {
		o.ServerCert = s.srv.certs.LeafDER(s.domain)
	}
	return o
}

// handlePreAuth accepts STARTTLS, SASL and the iqs modules take before
// login (XEP-0077 registration); anything else before login is refused.
func (s *Session) handlePreAuth(ctx context.Context, el *stanza.Element) (bool, error) {
	if h := s.preAuthIQHandler(el); h != nil {
		if s.secure() == nil && s.tlsRequired() {
			return false, stream.New(stream.PolicyViolation, s.tlsFirst("STARTTLS is required first"))
		}
		return false, s.handlePreAuthIQ(ctx, el, h)
	}
	switch {
	case el.Space == NSTLS && el.Local == "starttls":
		return true, s.startTLS()
	case el.Space == NSSASL && (el.Local == "auth" || el.Local == "response" || el.Local == "abort"):
		if s.secure() == nil && s.tlsRequired() {
			return false, stream.New(stream.PolicyViolation, s.tlsFirst("STARTTLS is required before authentication"))
		}
		return s.handleSASL(ctx, el)
	case el.Space == NSSASL2 && s.srv.cfg.SASL2.Enabled:
		if s.secure() == nil && s.tlsRequired() {
			return false, stream.New(stream.PolicyViolation, s.tlsFirst("STARTTLS is required before authentication"))
		}
		return s.handleSASL2(ctx, el)
	case stanza.IsStanza(el):
		return false, stream.New(stream.NotAuthorized, "authenticate first")
	}
	return false, stream.New(stream.UnsupportedStanzaType, "unexpected element before authentication")
}

// startTLS answers <starttls/> with <proceed/> and upgrades the
// connection, on a transport that can.
func (s *Session) startTLS() error {
	ts, ok := s.tr.(tlsStarter)
	if !ok {
		return stream.New(stream.UnsupportedFeature, "STARTTLS is not offered on this transport")
	}
	if s.secure() != nil {
		return stream.New(stream.PolicyViolation, "TLS is already established")
	}
	// White space after <starttls/> (go-sendxmpp sends a newline in the
	// same write) is dropped with the buffer when TLS starts; anything
	// else was sent in plaintext ahead of the handshake and is refused.
	if !ts.BufferedSpace() {
		return stream.New(stream.PolicyViolation, "data sent after <starttls/> before <proceed/>")
	}
	if err := s.out.writeNow([]byte("<proceed xmlns='" + NSTLS + "'/>")); err != nil {
		return err
	}
	return ts.StartTLS(s.srv.tlsConfigFor(s.domain), s.deadline)
}

// secure is the connection's TLS state, or nil.
func (s *Session) secure() *tls.ConnectionState {
	st, _ := s.tr.TLS()
	return st
}
