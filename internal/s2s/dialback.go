package s2s

import (
	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/stream"
)

// maxPendingDialback bounds the verifications one stream may have in
// flight (each costs a connection to the claimed domain's server).
const maxPendingDialback = 4

// dialbackResult is the receiving server's side (XEP-0220 §2.1.2): the
// peer claims a domain with a key; we ask that domain's authoritative
// server whether the key is the one it issued for this stream, and
// answer valid (the domain is authenticated on this stream) or invalid
// (the stream ends with not-authorized).
func (in *inbound) dialbackResult(el *stanza.Element) error {
	s := in.srv
	if !s.cfg.Dialback {
		return stream.New(stream.UnsupportedStanzaType, "dialback is disabled here (s2s.dialback)")
	}
	if err := in.requireTLS(); err != nil {
		return err
	}
	from, to, key := el.Attr("from"), el.Attr("to"), el.Text()
	fj, ferr := jid.Parse(from)
	tj, terr := jid.Parse(to)
	switch {
	case ferr != nil || terr != nil || !fj.IsDomain() || !tj.IsDomain() || key == "":
		return stream.New(stream.ImproperAddressing, "db:result needs a 'from' and 'to' domain and a key")
	case !s.serves(tj.Domain()):
		return in.dbError(el, stanza.ItemNotFound, "")
	}
	if s.cfg.RequireValidCertificates && !in.certValidFor(fj.Domain()) {
		in.dbAnswer(el, "invalid")
		return stream.New(stream.NotAuthorized, "the certificate does not verify for "+fj.Domain()+" and this server requires valid certificates")
	}
	if s.serves(fj.Domain()) {
		// A peer claiming to be us: there is nobody to ask but ourselves,
		// and we opened no such stream.
		in.dbAnswer(el, "invalid")
		return stream.New(stream.NotAuthorized, "dialback for a domain this server serves")
	}
	in.mu.Lock()
	if in.pending >= maxPendingDialback {
		in.mu.Unlock()
		return stream.New(stream.PolicyViolation, "too many dialback requests in flight")
	}
	in.pending++
	in.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		in.verifyResult(el, fj.Domain(), tj.Domain(), key)
	}()
	return nil
}

// verifyResult asks the authoritative server and answers the peer.
func (in *inbound) verifyResult(el *stanza.Element, originating, receiving, key string) {
	s := in.srv
	defer func() {
		in.mu.Lock()
		in.pending--
		in.mu.Unlock()
	}()
	ok, err := s.verifyKey(s.ctx, receiving, originating, in.id, key)
	log := s.log.With("peer", in.ip, "domain", originating)
	switch {
	case err != nil:
		log.Info("dialback: cannot reach the authoritative server", "err", err)
		in.dbError(el, stanza.RemoteServerNotFound, "cannot reach the authoritative server of "+originating)
	case ok:
		log.Info("dialback: domain verified")
		in.setAuth(originating, authDialback)
		in.dbAnswer(el, "valid")
	default:
		log.Info("dialback: key refused by the authoritative server")
		in.dbAnswer(el, "invalid")
		in.failWith(stream.New(stream.NotAuthorized, "dialback key refused for "+originating))
		in.c.interrupt() // the owner ends the stream with that error
	}
}

// failWith records the stream error the owner ends the stream with after
// an interrupt.
func (in *inbound) failWith(e *stream.Error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.failure == nil {
		in.failure = e
	}
}

// dbAnswer writes <db:result type=.../> for el (from and to swapped).
func (in *inbound) dbAnswer(el *stanza.Element, typ string) {
	in.c.write(dbElement("result", el.Attr("to"), el.Attr("from"), "", typ, nil))
}

// dbError writes a dialback error (XEP-0220 §2.4) for el and keeps the
// stream.
func (in *inbound) dbError(el *stanza.Element, cond, text string) error {
	e := stanza.Errorf(stanza.Cancel, cond, "%s", text).ElementIn(stream.NSServer)
	return in.c.write(dbElement(el.Local, el.Attr("to"), el.Attr("from"), el.Attr("id"), "error", e))
}

// dialbackVerify is the authoritative server's side (XEP-0220 §2.1.3):
// is key the one we issued, as originating server 'to', for the stream
// with id that the receiving server 'from' gave us?
func (in *inbound) dialbackVerify(el *stanza.Element) error {
	s := in.srv
	if !s.cfg.Dialback {
		return stream.New(stream.UnsupportedStanzaType, "dialback is disabled here (s2s.dialback)")
	}
	if err := in.requireTLS(); err != nil {
		return err
	}
	from, to, id := el.Attr("from"), el.Attr("to"), el.Attr("id")
	if from == "" || to == "" || id == "" {
		return stream.New(stream.ImproperAddressing, "db:verify needs 'from', 'to' and 'id'")
	}
	if !s.serves(to) {
		return in.dbError(el, stanza.ItemNotFound, "")
	}
	typ := "invalid"
	if checkDialbackKey(s.secret, from, to, id, el.Text()) {
		typ = "valid"
	}
	return in.c.write(dbElement("verify", to, from, id, typ, nil))
}

// dbElement serialises a dialback element with the db prefix our header
// declares.
func dbElement(name, from, to, id, typ string, child *stanza.Element) []byte {
	b := append([]byte(nil), "<db:"+name+" from='"...)
	b = stanza.AppendEscapedAttr(b, from)
	b = append(b, "' to='"...)
	b = stanza.AppendEscapedAttr(b, to)
	if id != "" {
		b = append(b, "' id='"...)
		b = stanza.AppendEscapedAttr(b, id)
	}
	b = append(b, "' type='"+typ+"'"...)
	if child == nil {
		return append(b, "/>"...)
	}
	b = append(b, '>')
	b = child.AppendXML(b, stream.NSServer) // unprefixed: the stream's namespace
	return append(b, "</db:"+name+">"...)
}
