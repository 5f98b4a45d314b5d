package c2s

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/stream"
)

// Namespaces of elements only the server may add to a stanza.
const (
	nsStanzaID   = "urn:xmpp:sid:0"
	nsDelay      = "urn:xmpp:delay"
	nsOccupantID = "urn:xmpp:occupant-id:0"
	nsCarbons    = "urn:xmpp:carbons:2"
)

// handleStanza processes one stanza from a bound client: it checks and
// stamps the sender address, removes elements the client may not forge,
// and hands the stanza to the router. A message that waits for the
// archive's commit, and every stanza after it until that is over, is
// finished by the session's pipeline (pipeline.go) while the reader goes
// on; a stanza counts as handled (smHandled) only once it is finished.
func (s *Session) handleStanza(ctx context.Context, el *stanza.Element) error {
	if !stanza.IsStanza(el) {
		return s.handleNonza(ctx, el)
	}
	ctx = s.stanzaContext(ctx)
	defer s.scope.Run()
	if f := el.Attr("from"); f != "" && f != s.fullStr {
		if fj, err := jid.Parse(f); err != nil || (fj != s.full && fj != s.user) {
			return stream.New(stream.InvalidFrom, "the 'from' address is not yours")
		}
	}
	p := s.pipe(ctx)
	now, err := p.Handle(ctx, el, p.route)
	if !now { // the pipeline finishes it
		return nil
	}
	aerr := s.answer(el, err)
	s.smHandled() // counted once Route returned: see sm.go
	return aerr
}

// routeStanza stamps el and routes it; it returns the stanza's outcome
// (nil, or the error to answer it with).
func (s *Session) routeStanza(ctx context.Context, el *stanza.Element) error {
	start := time.Now()
	el.SetAttr("from", s.fullStr)
	if el.HasAttr("to") && el.Attr("to") == "" {
		// An empty 'to' is not a missing one: "" is no JID (RFC 6120
		// §8.1.1.1, §8.3.3.8), and must not address the user's account.
		return stanza.Errorf(stanza.Modify, stanza.JIDMalformed, "the 'to' address is empty")
	}
	s.stripServerOwned(el)
	if isLegacySession(el) {
		// RFC 3921 session establishment: a no-op kept for old clients
		// (RFC 6121 Appendix E); c2s advertises it, so c2s answers it.
		if err := s.Deliver(stanza.IQResult(el, nil, jid.JID{}, s.full)); err != nil {
			s.srv.log.Debug("session result not queued", "jid", s.fullStr, "err", err)
		}
		return nil
	}
	hist := mHandleIQ
	becameAvailable := false
	switch el.Local {
	case stanza.KindMessage:
		mInMessage.Inc()
		hist = mHandleMsg
	case stanza.KindPresence:
		mInPresence.Inc()
		hist = mHandlePres
		becameAvailable = s.trackPresence(el)
	case stanza.KindIQ:
		mInIQ.Inc()
	}
	err := s.srv.router.Route(ctx, s.full, el)
	hist.Observe(time.Since(start).Seconds())
	if becameAvailable {
		ev := &module.Event{From: s.full, Session: s.full, Stanza: el, Conn: s}
		if nerr := s.srv.router.Registry().Notify(ctx, module.Available, ev); nerr != nil {
			s.srv.log.Warn("available hooks failed", "jid", s.fullStr, "err", nerr)
		}
	}
	return err
}

// answer replies to el with err, its outcome (nothing when nil).
func (s *Session) answer(el *stanza.Element, err error) error {
	if err == nil {
		return nil
	}
	var se *stanza.Error
	if !errors.As(err, &se) {
		s.srv.log.Error("routing failed", "jid", s.fullStr, "err", err)
		se = stanza.NewError(stanza.InternalServerError)
	}
	return s.replyError(el, se)
}

// trackPresence records availability and priority from undirected
// presence (RFC 6121 §4.2, §4.7.2.3). It reports whether this presence is
// the session's initial (or renewed, after unavailable) available presence.
func (s *Session) trackPresence(el *stanza.Element) bool {
	if el.Attr("to") != "" {
		return false
	}
	switch el.Attr("type") {
	case "":
		prio := 0
		if p := el.ChildText("", "priority"); p != "" {
			if n, err := strconv.Atoi(p); err == nil && n >= -128 && n <= 127 {
				prio = n
			}
		}
		s.priority.Store(int32(prio))
		return !s.available.Swap(true)
	case "unavailable":
		s.available.Store(false)
	}
	return false
}

// stripServerOwned removes elements whose authority is the server: a
// stanza-id claiming to be by the user's account or a served domain, a
// delay stamped by a served domain, occupant ids and message carbons
// wrappers (XEP-0359 §3.1, XEP-0203, XEP-0421, XEP-0280 §11: only the
// server sends carbon copies).
func (s *Session) stripServerOwned(el *stanza.Element) {
	if len(el.Children) == 0 {
		return
	}
	el.RemoveChildren(func(c *stanza.Element) bool {
		switch c.Space {
		case nsStanzaID:
			return c.Local == "stanza-id" && s.ownedBy(c.Attr("by"))
		case nsDelay:
			return c.Local == "delay" && s.ownedBy(c.Attr("from"))
		case nsOccupantID:
			return c.Local == "occupant-id"
		case nsCarbons:
			return c.Local == "sent" || c.Local == "received"
		}
		return false
	})
}

// ownedBy reports whether addr is the user's account, a served domain or
// anything on a served domain.
func (s *Session) ownedBy(addr string) bool {
	j, err := jid.Parse(addr)
	if err != nil {
		return true // an unparsable claim is dropped too
	}
	return s.srv.domains[j.Domain()]
}

func isLegacySession(el *stanza.Element) bool {
	if el.Local != stanza.KindIQ || el.Attr("type") != stanza.Set || el.Attr("to") != "" && el.Attr("to") != el.Attr("from") {
		return false
	}
	p := el.FirstChild()
	return p != nil && p.Space == NSSession && p.Local == "session"
}
