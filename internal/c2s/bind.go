package c2s

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"strings"
	"time"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/router"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/stream"
)

// handleBind accepts resource binding (RFC 6120 §7) and the legacy
// session establishment (RFC 3921 §3, kept optional by RFC 6121).
func (s *Session) handleBind(ctx context.Context, el *stanza.Element) error {
	if el.Space != stanza.NSClient || el.Local != stanza.KindIQ {
		return stream.New(stream.NotAuthorized, "bind a resource first")
	}
	bind := el.Child(NSBind, "bind")
	if el.Attr("type") != stanza.Set || bind == nil {
		return s.replyError(el, stanza.Errorf(stanza.Cancel, stanza.NotAllowed, "bind a resource first"))
	}
	// A clone: a substring would keep the whole bind stanza's text alive
	// for the session's life.
	full, err := s.user.WithResource(strings.Clone(bind.ChildText(NSBind, "resource")))
	if err != nil {
		return s.replyError(el, stanza.Errorf(stanza.Modify, stanza.BadRequest, "resource not allowed: %v", err))
	}
	if full.IsBare() {
		if full, err = s.user.WithResource(randomResource()); err != nil {
			return s.replyError(el, stanza.NewError(stanza.InternalServerError))
		}
	}
	if s.tooManySessions() {
		return s.replyError(el, stanza.Errorf(stanza.Wait, stanza.ResourceConstraint, "too many sessions for this account"))
	}
	s.bindAs(full)
	result := stanza.New(NSBind, "bind").Append(stanza.New(NSBind, "jid").AppendText(s.fullStr))
	if err := s.Deliver(stanza.IQResult(el, result, jid.JID{}, s.full)); err != nil {
		return err
	}
	s.notifyBound(ctx)
	return nil
}

// tooManySessions reports whether the account has limits.max_sessions_per_user.
func (s *Session) tooManySessions() bool {
	max := s.srv.cfg.Limits.MaxSessionsPerUser
	return max > 0 && len(s.srv.router.Sessions(s.user)) >= max
}

// bindAs binds the session to full in the router, replacing a session
// with the same resource (RFC 6120 §7.7.2.2).
func (s *Session) bindAs(full jid.JID) {
	s.full, s.fullStr = full, full.String()
	s.state = stateBound
	s.enterRouter()
}

// enterRouter makes the bound session routable.
func (s *Session) enterRouter() {
	s.recordInfo()
	if old := s.srv.router.Bind(s); old != nil {
		replace(old)
	}
	mSessions.Inc()
	s.srv.log.Info("session bound", "jid", s.fullStr, "peer", s.addr)
}

// notifyBound runs the SessionBound hooks.
func (s *Session) notifyBound(ctx context.Context) {
	ev := &module.Event{From: s.full, Session: s.full, Conn: s}
	if err := s.srv.router.Registry().Notify(ctx, module.SessionBound, ev); err != nil {
		s.srv.log.Warn("session-bound hooks failed", "jid", s.fullStr, "err", err)
	}
}

func randomResource() string {
	var b [9]byte
	rand.Read(b[:])
	return "parley-" + base64.RawURLEncoding.EncodeToString(b[:])
}

// replyError sends a stanza error to this session for el (before or after
// binding), unless el is itself an error. The reply comes from the address
// el was sent to.
func (s *Session) replyError(el *stanza.Element, e *stanza.Error) error {
	if el.Attr("type") == stanza.TypeError {
		return nil
	}
	r := stanza.ErrorReply(el, e, jid.JID{}, s.full)
	if to := el.Attr("to"); to != "" {
		r.SetAttr("from", to)
	}
	return s.Deliver(r)
}

// replaceWait bounds how long a new session waits for the session it
// replaces to end its state.
const replaceWait = 2 * time.Second

// replace closes the session old, whose resource a new session took
// (conflict, RFC 6120 §7.7.2.2), and waits until its state has ended
// (router, SessionClosed hooks), so that the old resource's unavailable
// presence goes out before the new one can send any. It does not wait for
// the old socket: the old owner ends the state before it writes anything.
func replace(old router.Session) {
	old.Close(stream.Conflict, "replaced by a new connection with the same resource")
	if o, ok := old.(*Session); ok {
		select {
		case <-o.ctx.Done():
		case <-time.After(replaceWait):
		}
	}
}
