package c2s

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/storage"
	"github.com/parleyim/parley/internal/stream"
	"github.com/parleyim/parley/internal/xmlstream"
)

// This file holds XEP-0198 resumption (§5). A session that enabled it
// with resume='true' outlives a transport that ends without a close (a
// reset, a timeout, a failed write): instead of ending, the owner
// detaches it (smHibernate). It stays bound in the router, keeps its
// presence and every module's state keyed by it (module.Conn: roster,
// carbons, CSI), and holds the stanzas delivered to it. A new connection
// that authenticates as the same user and sends <resume previd h/> takes
// it over (smResume): this very Session gets the new transport, answers
// <resumed/> and writes again everything the client has not
// acknowledged, in order. If the old connection is still half-open, the
// new resume wins: the old transport is closed, the session detaches, and
// the resume proceeds.
//
// When sm.resume_window (or the client's smaller 'max') passes first
// (smExpire), the session ends like any other (endSession, SessionClosed
// once) and what it held is routed again as if it had never existed
// (smRequeue: messages to other resources or offline storage, iqs
// answered with an error, presence dropped). Every end of a session with
// stream management does that, so an unacknowledged stanza is never lost.
//
// Ownership: while hibernated no goroutine owns the session; smState.hmu's
// phase decides who takes it: a resume (→ smResuming, then the resuming
// connection's goroutine is the owner) or the window's end / a Close
// (→ smEnded, ended on that goroutine).

// errResumed is what a resuming connection's handler returns: the
// transport now carries the resumed session and runs it.
var errResumed = errors.New("c2s: connection resumed another session")

// takeoverWait bounds how long a resume waits for a half-open old
// connection's owner to detach the session.
const takeoverWait = 5 * time.Second

// sessionMover is a transport that can carry another session: the one a
// resume takes over. The TCP transport is one; a transport that is not
// cannot resume (the client gets item-not-found and binds anew).
type sessionMover interface {
	moveTo(s *Session)
}

func (t *tcpTransport) moveTo(s *Session) { t.s = s }

// smRegistry maps resumption ids to their sessions.
type smRegistry struct {
	mu  sync.Mutex
	ids map[string]*Session
}

func (srv *Server) smRegister(id string, s *Session) {
	r := &srv.sm
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ids == nil {
		r.ids = map[string]*Session{}
	}
	r.ids[id] = s
}

func (srv *Server) smUnregister(id string, s *Session) {
	r := &srv.sm
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ids[id] == s {
		delete(r.ids, id)
	}
}

func (srv *Server) smLookup(id string) *Session {
	r := &srv.sm
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ids[id]
}

// vanished reports whether the transport ended without the client
// closing the stream: a silent end (reset, EOF, a failed write) or a
// timeout. A clean close, a stream error and a Close request end the
// session.
func vanished(err error, req *closeRequest) bool {
	if errors.Is(err, xmlstream.ErrStreamClosed) {
		return false
	}
	return req.silent || req.err != nil && req.err.Condition == stream.ConnectionTimeout
}

// smHibernate detaches a resumable session whose transport vanished,
// instead of ending it. The owner calls it from stop; true means the
// session lives on without a transport.
func (s *Session) smHibernate(err error, req *closeRequest) bool {
	st := s.sm
	if st == nil || !st.resumable || s.state != stateBound || !vanished(err, req) || s.srv.isClosing() {
		return false
	}
	s.tr.Close() // a write still in progress on it fails now
	s.closeMu.Lock()
	if st.endReq != nil {
		// A Close (conflict, account removal) came while the
		// transport was failing: it ends the session.
		s.closeReq, st.endReq = st.endReq, nil
		s.closeMu.Unlock()
		return false
	}
	s.setTransport(detachedTransport{s})
	o := &s.out
	o.mu.Lock()
	o.gen++ // the running flusher, if any, retires
	o.dropLocked()
	o.stopped, o.closed = false, false
	st.detached, st.rOut, st.aQueued, st.sinceR = true, false, false, 0
	held := len(st.items)
	o.mu.Unlock()
	s.closeReq = nil
	s.closing.Store(false)
	s.closeMu.Unlock()
	// Still this goroutine's: the session is published as hibernated
	// (and may be resumed or ended at once) only below.
	mSMHibernated.Inc()
	s.srv.log.Info("session hibernated", "jid", s.fullStr, "peer", s.addr, "held", held, "window", st.max, "err", err)
	s.notify(module.SessionHibernated)
	st.hmu.Lock()
	st.phase = smHibernated
	st.timer = time.AfterFunc(st.max, s.smExpire)
	if st.hibernated != nil {
		close(st.hibernated)
		st.hibernated = nil
	}
	st.hmu.Unlock()
	if s.closing.Load() {
		go s.smExpire() // a Close came before the phase was published: its Wake found nothing to end
	}
	return true
}

func (s *Session) notify(kind module.HookKind) {
	ev := &module.Event{From: s.full, Session: s.full, Conn: s}
	if err := s.srv.router.Registry().Notify(context.WithoutCancel(&s.ctx), kind, ev); err != nil {
		s.srv.log.Warn("session hooks failed", "jid", s.fullStr, "kind", kind, "err", err)
	}
}

func (srv *Server) isClosing() bool {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	return srv.closing
}

// smExpire ends a hibernated session: its window passed, or it was asked
// to close (detachedTransport.Wake). Whoever takes it from the hibernated
// phase first ends it; otherwise a resume took it and this does nothing.
func (s *Session) smExpire() {
	st := s.sm
	st.hmu.Lock()
	if st.phase != smHibernated {
		st.hmu.Unlock()
		return
	}
	st.phase = smEnded
	st.timer.Stop()
	st.hmu.Unlock()
	mSMHibernated.Dec()
	s.srv.log.Info("hibernated session ended", "jid", s.fullStr, "closing", s.closing.Load())
	s.out.stop()
	s.endSession()
	s.ctx.cancel()
	s.srv.ended(s)
}

// smEnd is stream management's part of any session's end (endSession,
// after the session left the router and before SessionClosed): the id
// stops being resumable, a resume waiting for a takeover gives up, and
// what the client did not acknowledge is routed again.
func (s *Session) smEnd(ctx context.Context) {
	st := s.sm
	if st == nil {
		return
	}
	st.hmu.Lock()
	st.phase = smEnded
	if st.timer != nil {
		st.timer.Stop()
	}
	if st.hibernated != nil {
		close(st.hibernated)
		st.hibernated = nil
	}
	st.hmu.Unlock()
	if st.id != "" {
		s.srv.smUnregister(st.id, s)
	}
	s.smRequeue(ctx)
}

// smRequeue takes the unacknowledged stanzas and routes them as if this
// session did not exist (XEP-0198 §5, RFC 6121 §8.5.3.2.1): messages go
// to another resource or offline storage (or bounce to the sender with an
// error), iq requests are answered with service-unavailable, everything
// else (presence, iq results, carbon copies, group chat, headlines) is
// dropped: it was the session's own business.
func (s *Session) smRequeue(ctx context.Context) {
	o := &s.out
	o.mu.Lock()
	items := s.sm.items
	s.sm.items, s.sm.bytes = nil, 0
	o.stopped = true
	o.mu.Unlock()
	if len(items) == 0 {
		return
	}
	els, err := storage.DecodeElements(bytes.Join(items, nil))
	if err != nil {
		s.srv.log.Error("unacknowledged stanzas could not be read back", "jid", s.fullStr, "count", len(items), "err", err)
		return
	}
	n := 0
	for _, el := range els {
		if s.reroute(ctx, el) {
			n++
		}
	}
	s.srv.log.Info("unacknowledged stanzas routed again", "jid", s.fullStr, "held", len(items), "rerouted", n)
}

// reroute routes one unacknowledged stanza again; it reports whether it
// was a message or iq that went somewhere.
func (s *Session) reroute(ctx context.Context, el *stanza.Element) bool {
	from, _ := jid.Parse(el.Attr("from"))
	r := s.srv.router
	switch el.Local {
	case stanza.KindIQ:
		if t := el.Attr("type"); (t == stanza.Get || t == stanza.Set) && !from.IsZero() && !from.IsDomain() {
			r.Deliver(ctx, from, stanza.ErrorReply(el, stanza.NewError(stanza.ServiceUnavailable), s.full, from))
			return true
		}
		return false
	case stanza.KindMessage:
	default:
		return false
	}
	switch messageType(el) {
	case stanza.MsgGroupchat, stanza.MsgHeadline, stanza.MsgError:
		return false
	}
	if el.Child(nsCarbons, "sent") != nil || el.Child(nsCarbons, "received") != nil {
		return false
	}
	to := s.full
	if t, err := jid.Parse(el.Attr("to")); err == nil && el.Attr("to") != "" {
		to = t
	}
	err := r.Redeliver(ctx, from, to, el)
	var se *stanza.Error
	switch {
	case err == nil:
		return true
	case errors.As(err, &se):
		if !from.IsZero() {
			r.Deliver(ctx, from, stanza.ErrorReply(el, se, to, from))
		}
		return true
	}
	s.srv.log.Error("unacknowledged message could not be routed again", "jid", s.fullStr, "from", from, "err", err)
	return false
}

func messageType(el *stanza.Element) string {
	if t := el.Attr("type"); t != "" {
		return t
	}
	return stanza.MsgNormal
}

// smResume takes over the session whose resumption id is previd for this
// authenticated, unbound stream (XEP-0198 §5): the client acknowledged h
// of the stanzas the old session sent. The answer, <resumed/> or
// <failed/>, goes through wrap (nil: as is), like smEnable's; the
// function does not assume which element asked for it (the <resume/>
// nonza, or SASL2's inline resume, XEP-0388/0386). It returns errResumed
// when this connection now carries the old session: the caller returns it
// up to the transport, which goes on running the old session. A <failed/>
// (nil error) leaves this stream as it was: the client may bind.
func (s *Session) smResume(ctx context.Context, previd string, h uint32, wrap func(*stanza.Element) *stanza.Element) error {
	if wrap == nil {
		wrap = func(e *stanza.Element) *stanza.Element { return e }
	}
	fail := func(f *stanza.Element, result string) error {
		mSMResumes.WithLabelValues(result).Inc()
		return s.writeElement(wrap(f))
	}
	old := s.srv.smLookup(previd)
	mover, canMove := s.tr.(sessionMover)
	if !s.srv.cfg.SM.Enabled || old == nil || old.user != s.user || old.domain != s.domain || !canMove {
		// Unknown, expired, forged or another user's id: all look the same.
		return fail(smFailed(stanza.ItemNotFound, 0, false), "item-not-found")
	}
	st := old.sm
	if !old.smTakeover(st) {
		return fail(smFailed(stanza.ItemNotFound, 0, false), "item-not-found")
	}
	old.out.mu.Lock()
	sent, ok := old.out.smAckLocked(h)
	old.out.mu.Unlock()
	if !ok {
		// The client claims more than was sent: it cannot be resumed
		// consistently; the old session ends and its stanzas are
		// routed again.
		st.hmu.Lock()
		st.phase = smHibernated
		st.hmu.Unlock()
		mSMHibernated.Inc()
		old.smExpire()
		f := smFailed(stanza.UndefinedCondition, old.sm.inH.Load(), true)
		f.Append(handledTooHigh(h, sent).App)
		return fail(f, "handled-count-too-high")
	}
	old.smAttach(s, mover)
	mSMResumes.WithLabelValues("resumed").Inc()
	resumed := stanza.New(NSSM, "resumed").SetAttr("previd", previd).
		SetAttr("h", strconv.FormatUint(uint64(st.inH.Load()), 10))
	resent := old.smReplay(s.resumeAnswer(wrap(resumed)))
	s.srv.log.Info("session resumed", "jid", old.fullStr, "peer", s.addr, "resent", resent)
	old.notify(module.SessionResumed)
	// This stream's own session never bound: it ends here, quietly;
	// its connection goes on as old's.
	s.ctx.cancel()
	s.srv.ended(s)
	return errResumed
}

// smTakeover moves a hibernated session to smResuming for a resume. A
// session still attached (its old connection half-open) is detached
// first: its transport is closed and its owner hibernates it. It reports
// false when the session ended or another resume has it.
func (s *Session) smTakeover(st *smState) bool {
	for range 2 {
		st.hmu.Lock()
		switch st.phase {
		case smHibernated:
			st.phase = smResuming
			st.timer.Stop()
			st.hmu.Unlock()
			mSMHibernated.Dec()
			return true
		case smAttached:
			if st.hibernated == nil {
				st.hibernated = make(chan struct{})
			}
			ch := st.hibernated
			st.hmu.Unlock()
			s.abort() // the old transport goes; its owner hibernates the session
			select {
			case <-ch:
			case <-time.After(takeoverWait):
				return false
			}
		default:
			st.hmu.Unlock()
			return false
		}
	}
	return false
}

// smAttach gives the session the transport of the resuming stream from:
// its stream id, peer address and timers now are that connection's.
func (s *Session) smAttach(from *Session, mover sessionMover) {
	s.closeMu.Lock()
	s.setTransport(from.tr)
	mover.moveTo(s)
	s.id, s.addr = from.id, from.addr
	s.headerOut.Store(true)
	s.heard()
	s.closeMu.Unlock()
}

// smReplay queues the answer to the resume and, after it, every stanza
// the client has not acknowledged, in order, then asks for an ack. It
// returns how many stanzas it resent.
func (s *Session) smReplay(answer []byte) int {
	st := s.sm
	o := &s.out
	s.closeMu.Lock()
	o.mu.Lock()
	o.gen++
	o.flushing = false
	o.closed, o.stopped = false, s.closing.Load()
	st.detached = false
	p := o.pendingLocked()
	*p = append(*p, answer...)
	for _, b := range st.items {
		*p = append(*p, b...)
	}
	n := len(st.items)
	if n > 0 {
		*p = append(*p, rBytes...)
		st.rOut = true
	}
	o.kickLocked()
	o.mu.Unlock()
	s.closeMu.Unlock()
	st.hmu.Lock()
	st.phase = smAttached
	st.hmu.Unlock()
	return n
}

// detachedTransport stands in for the transport of a hibernated session:
// nothing is read or written; a close request (Close, then Wake) ends the
// session.
type detachedTransport struct{ s *Session }

var _ transport = detachedTransport{}

func (d detachedTransport) WantHeader() bool { return false }
func (d detachedTransport) ReadHeader() (xmlstream.Header, error) {
	return xmlstream.Header{}, errClosing
}
func (d detachedTransport) Next() (*stanza.Element, error) { return nil, errClosing }
func (d detachedTransport) Restart(xmlstream.Limits)       {}
func (d detachedTransport) AppendOpen(b []byte, h stream.Header) []byte {
	return h.AppendXML(b)
}
func (d detachedTransport) AppendClose(b []byte) []byte       { return append(b, stream.Close...) }
func (d detachedTransport) Write([]byte, time.Duration) error { return errClosed }
func (d detachedTransport) Writable() bool                    { return false }
func (d detachedTransport) TLS() (*tls.ConnectionState, bool) { return nil, false }
func (d detachedTransport) Wake() {
	// Only a close request ends a hibernated session: an abort left over
	// from the failing old transport (a write error) finds none.
	if d.s.closing.Load() {
		go d.s.smExpire()
	}
}
func (d detachedTransport) Finish(time.Duration) {}
func (d detachedTransport) Close()               {}
