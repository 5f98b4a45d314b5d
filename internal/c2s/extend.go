package c2s

import (
	"context"
	"errors"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/stream"
)

// This file holds the extension points modules reach c2s through: nonzas
// from bound sessions, the per-stanza scope (module.AfterReply) and iqs
// before authentication (module.PreAuthIQ, for XEP-0077).

// handleNonza passes a top-level element that is not a stanza to the
// module registered for it; an unknown one ends the stream (RFC 6120
// §4.9.3.22).
func (s *Session) handleNonza(ctx context.Context, el *stanza.Element) error {
	if el.Space == NSSM {
		return s.handleSM(ctx, el)
	}
	h := s.srv.router.Registry().LookupNonza(el.Space, el.Local)
	if h == nil {
		return stream.New(stream.UnsupportedStanzaType, "only message, presence and iq are allowed")
	}
	err := h(ctx, s, el)
	if err == nil {
		return nil
	}
	var se *stream.Error
	if errors.As(err, &se) {
		return se
	}
	s.srv.log.Error("nonza handler failed", "jid", s.fullStr, "element", el.Local, "ns", el.Space, "err", err)
	return stream.New(stream.InternalServerError, "")
}

// stanzaContext returns ctx carrying the session's scope. It is made once:
// the reading goroutine always passes the same run context.
func (s *Session) stanzaContext(ctx context.Context) context.Context {
	if s.scopeCtx == nil {
		s.scopeCtx = module.WithScope(ctx, &s.scope)
	}
	return s.scopeCtx
}

func (s *Session) preAuth() module.PreAuth {
	return module.PreAuth{Domain: s.domain, Addr: s.addr, TLS: s.secure() != nil}
}

// preAuthIQHandler returns the module handler for an iq sent before
// authentication, or nil when none takes it: only a get or set addressed
// to the stream's domain (or to nobody) whose payload a module registered
// with module.PreAuthIQ.
func (s *Session) preAuthIQHandler(el *stanza.Element) module.PreAuthIQHandler {
	if el.Space != stanza.NSClient || el.Local != stanza.KindIQ {
		return nil
	}
	typ := el.Attr("type")
	if typ != stanza.Get && typ != stanza.Set {
		return nil
	}
	if to := el.Attr("to"); to != "" {
		if j, err := jid.Parse(to); err != nil || !j.IsDomain() || j.Domain() != s.domain {
			return nil
		}
	}
	p := el.FirstChild()
	if p == nil {
		return nil
	}
	return s.srv.router.Registry().LookupPreAuthIQ(typ, p.Space, p.Local)
}

// handlePreAuthIQ runs h for el and writes the single reply, synchronously
// like the SASL answers it may be followed by.
func (s *Session) handlePreAuthIQ(ctx context.Context, el *stanza.Element, h module.PreAuthIQHandler) error {
	var reply *stanza.Element
	if el.Attr("id") == "" || el.NumChildElements() != 1 {
		reply = stanza.ErrorReply(el, stanza.Errorf(stanza.Modify, stanza.BadRequest, "an iq get/set needs an id and exactly one child"), jid.JID{}, jid.JID{})
	} else {
		iq := stanza.IQ{El: el, ID: el.Attr("id"), Type: el.Attr("type"), Payload: el.FirstChild()}
		payload, err := h(ctx, s.preAuth(), iq)
		reply = s.preAuthReply(el, payload, err)
	}
	return s.out.writeNow(reply.AppendXML(nil, stanza.NSClient))
}

func (s *Session) preAuthReply(el, payload *stanza.Element, err error) *stanza.Element {
	if err == nil {
		return stanza.IQResult(el, payload, jid.JID{}, jid.JID{})
	}
	var se *stanza.Error
	if !errors.As(err, &se) {
		s.srv.log.Error("pre-auth iq handler failed", "peer", s.addr, "ns", el.FirstChild().Space, "err", err)
		se = stanza.NewError(stanza.InternalServerError)
	}
	return stanza.ErrorReply(el, se, jid.JID{}, jid.JID{})
}
