package s2s

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"net"

	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/stream"
)

// Authentication methods of a stream.
const (
	authExternal = "sasl-external"
	authDialback = "dialback"
)

// dialed is an outbound connection with its stream open: the peer's
// stream id and its latest features.
type dialed struct {
	*conn
	local, remote string
	id            string
	features      *stanza.Element
	verified      bool // the peer's certificate verifies for remote
}

// dial connects to remote for local and opens the stream, with STARTTLS
// when offered: it tries each address resolve gives, in order, until one
// works. A connection whose certificate does not verify is refused when
// require_valid_certificates is on.
func (s *Server) dial(ctx context.Context, local, remote string) (*dialed, error) {
	targets, err := resolve(ctx, s.resolver(), s.cfg.Routes, remote)
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", remote, err)
	}
	var errs []error
	for _, t := range targets {
		d, err := s.dialTarget(ctx, t, local, remote)
		if err == nil {
			return d, nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", t.addr, err))
		if ctx.Err() != nil {
			break
		}
	}
	return nil, errors.Join(errs...)
}

func (s *Server) dialTarget(ctx context.Context, t target, local, remote string) (*dialed, error) {
	var nd net.Dialer
	nc, err := nd.DialContext(ctx, "tcp", t.addr)
	if err != nil {
		return nil, err
	}
	d := &dialed{conn: newConn(nc, s.lim, s.cfg.ConnectTimeout.D()), local: local, remote: remote}
	if dl, ok := ctx.Deadline(); ok {
		d.setDeadline(dl)
	}
	stop := context.AfterFunc(ctx, d.interrupt)
	defer stop()
	if err := s.negotiate(ctx, d, t.directTLS); err != nil {
		d.close()
		return nil, err
	}
	return d, nil
}

// negotiate opens the stream and runs TLS.
func (s *Server) negotiate(ctx context.Context, d *dialed, directTLS bool) error {
	deadline, _ := ctx.Deadline()
	if directTLS {
		if err := d.startTLS(clientTLS(s.certs, d.local, d.remote), true, deadline); err != nil {
			return err
		}
	}
	if err := d.open(); err != nil {
		return err
	}
	if d.tls == nil && d.features.Child(nsTLS, "starttls") != nil {
		if err := d.writeString("<starttls xmlns='" + nsTLS + "'/>"); err != nil {
			return err
		}
		el, err := d.next()
		if err != nil {
			return err
		}
		if el.Space != nsTLS || el.Local != "proceed" {
			return fmt.Errorf("STARTTLS refused (<%s/>)", el.Local)
		}
		if err := d.startTLS(clientTLS(s.certs, d.local, d.remote), true, deadline); err != nil {
			return err
		}
		if err := d.open(); err != nil {
			return err
		}
	}
	if d.tls == nil {
		if s.cfg.RequireTLS {
			return errors.New("the peer offers no TLS and s2s.require_tls is on")
		}
		return nil
	}
	err := s.trust.verify(d.tls.PeerCertificates, d.remote)
	d.verified = err == nil
	if err != nil && s.cfg.RequireValidCertificates {
		return fmt.Errorf("the peer's certificate does not verify and s2s.require_valid_certificates is on: %w", err)
	}
	return nil
}

// open writes our header and reads the peer's header and features.
func (d *dialed) open() error {
	h := stream.Header{ContentNS: stream.NSServer, From: d.local, To: d.remote, Dialback: true}
	if err := d.write(h.AppendXML(nil)); err != nil {
		return err
	}
	ph, _, err := d.readHeader(stream.NSServer, nil)
	if err != nil {
		return err
	}
	if ph.Version == "" {
		return errors.New("the peer speaks pre-RFC 3920 XMPP (no version): not supported")
	}
	d.id = ph.ID
	d.features, err = d.readFeatures()
	return err
}

// authenticate proves our domain to the peer: SASL EXTERNAL when its
// certificate verified and it offers the mechanism, else dialback (the
// originating server's side, XEP-0220 §2.1).
func (s *Server) authenticate(d *dialed) (string, error) {
	if d.verified && offersExternal(d.features) {
		err := s.saslExternal(d)
		if err == nil {
			return authExternal, nil
		}
		if !s.cfg.Dialback {
			return "", err
		}
		s.log.Info("SASL EXTERNAL failed, trying dialback", "local", d.local, "remote", d.remote, "err", err)
	}
	if !s.cfg.Dialback {
		return "", errors.New("the peer's certificate does not allow SASL EXTERNAL and s2s.dialback is off")
	}
	return authDialback, s.dialbackOut(d)
}

func offersExternal(f *stanza.Element) bool {
	mechs := f.Child(nsSASL, "mechanisms")
	if mechs == nil {
		return false
	}
	for _, m := range mechs.ChildElements() {
		if m.Local == "mechanism" && m.Text() == "EXTERNAL" {
			return true
		}
	}
	return false
}

// saslExternal authenticates with our certificate (RFC 6120 §6.3.4): the
// authorization identity is our domain; success restarts the stream.
func (s *Server) saslExternal(d *dialed) error {
	authz := base64.StdEncoding.EncodeToString([]byte(d.local))
	if err := d.writeString("<auth xmlns='" + nsSASL + "' mechanism='EXTERNAL'>" + authz + "</auth>"); err != nil {
		return err
	}
	el, err := d.next()
	if err != nil {
		return err
	}
	switch {
	case el.Space == nsSASL && el.Local == "success":
		d.dec.Restart()
		return d.open()
	case el.Space == nsSASL && el.Local == "failure":
		cond := "failure"
		if c := el.FirstChild(); c != nil {
			cond = c.Local
		}
		return fmt.Errorf("SASL EXTERNAL refused: %s", cond)
	}
	return fmt.Errorf("unexpected <%s/> answering SASL", el.Local)
}

// dialbackOut sends our key and waits for the verdict (XEP-0220 §2.1.1,
// §2.4).
func (s *Server) dialbackOut(d *dialed) error {
	key := DialbackKey(s.secret, d.remote, d.local, d.id)
	b := append([]byte(nil), "<db:result from='"...)
	b = stanza.AppendEscapedAttr(b, d.local)
	b = append(b, "' to='"...)
	b = stanza.AppendEscapedAttr(b, d.remote)
	b = append(b, "'>"+key+"</db:result>"...)
	if err := d.write(b); err != nil {
		return err
	}
	for {
		el, err := d.next()
		if err != nil {
			return err
		}
		if el.Space == stream.NSStream && el.Local == "error" {
			return peerStreamError(el)
		}
		if el.Space != stream.NSDialback || el.Local != "result" {
			continue // nothing else is expected before the verdict
		}
		switch el.Attr("type") {
		case "valid":
			return nil
		case "invalid":
			return errors.New("dialback: the peer found our key invalid")
		default:
			return fmt.Errorf("dialback failed: %s", errorCondition(el))
		}
	}
}

// errorCondition returns the condition of a dialback error element.
func errorCondition(el *stanza.Element) string {
	for _, e := range el.ChildElements() {
		if c := e.FirstChild(); e.Local == "error" && c != nil {
			return c.Local
		}
	}
	return "type " + el.Attr("type")
}

// verifyKey is the receiving server's side of dialback (XEP-0220
// §2.1.2): it asks the authoritative server of originating whether key
// is the one it issued for the stream id, on a connection of its own.
func (s *Server) verifyKey(ctx context.Context, receiving, originating, id, key string) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.ConnectTimeout.D())
	defer cancel()
	d, err := s.dial(ctx, receiving, originating)
	if err != nil {
		return false, err
	}
	defer d.close()
	stop := context.AfterFunc(ctx, d.interrupt)
	defer stop()
	b := append([]byte(nil), "<db:verify from='"...)
	b = stanza.AppendEscapedAttr(b, receiving)
	b = append(b, "' to='"...)
	b = stanza.AppendEscapedAttr(b, originating)
	b = append(b, "' id='"...)
	b = stanza.AppendEscapedAttr(b, id)
	b = append(b, "'>"...)
	b = stanza.AppendEscapedText(b, key)
	b = append(b, "</db:verify>"...)
	if err := d.write(b); err != nil {
		return false, err
	}
	for {
		el, err := d.next()
		if err != nil {
			return false, err
		}
		if el.Space == stream.NSStream && el.Local == "error" {
			return false, peerStreamError(el)
		}
		if el.Space != stream.NSDialback || el.Local != "verify" || el.Attr("id") != id {
			continue
		}
		d.writeString(stream.Close)
		return el.Attr("type") == "valid", nil
	}
}

// tlsVersion names the TLS version of a connection (for logs).
func tlsVersion(st *tls.ConnectionState) string {
	if st == nil {
		return "none"
	}
	return tls.VersionName(st.Version)
}
