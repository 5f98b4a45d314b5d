package c2s

import (
	"context"
	"strconv"

	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/stream"
)

// This file joins XEP-0198 stream management (sm.go, resume.go) to the
// one-round-trip login: <enable/> inside a Bind 2 request and <resume/>
// inside a SASL2 <authenticate/> (XEP-0198 §"Usage with SASL2 and Bind2",
// XEP-0386, XEP-0388).

// queueBound queues a Bind 2 login's <success/> and the features of the
// bound stream, as the first things the session writes. With an inline
// <enable/> stream management's <enabled/> (or <failed/>) goes into the
// success's <bound/>, and its counters start right after the <success/>.
func (s *Session) queueBound(success, bound, enable *stanza.Element) error {
	features := stream.Features(s.srv.router.Registry().StreamFeatures(s.user)).AppendXML(nil, stream.NSClient)
	if enable == nil {
		return s.out.queueRaw(success.AppendXML(nil, stanza.NSClient), features)
	}
	wrap := func(e *stanza.Element) *stanza.Element {
		bound.Append(e)
		return success
	}
	resume, max, ok := enableArgs(enable)
	if !ok {
		if err := s.writeElement(wrap(smFailed(stanza.BadRequest, 0, false))); err != nil {
			return err
		}
	} else {
		s.smEnable(resume, max, wrap)
	}
	return s.out.queueRaw(features)
}

// enableArgs reads <enable resume=” max=”/> (§3).
func enableArgs(el *stanza.Element) (resume bool, max int, ok bool) {
	resume = el.Attr("resume") == "true" || el.Attr("resume") == "1"
	if v := el.Attr("max"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return false, 0, false
		}
		max = n
	}
	return resume, max, true
}

// sasl2Resume resumes a hibernated session inside the SASL2 login
// (<authenticate><resume previd=” h=”/></authenticate>): the <success/>
// carries <resumed/>, names the resumed session's full JID, and the
// connection goes on as that session (errResumed ends this one). When the
// resumption fails the <success/> carries <failed/> and, if the login also
// asked for Bind 2, the <bound/> of a new session (whose inline stream
// management <enabled/> then follows the features); without Bind 2 the
// stream stays authenticated and unbound, and the client binds next.
func (s *Session) sasl2Resume(ctx context.Context, st *sasl2State, success *stanza.Element) error {
	id := stanza.New(NSSASL2, "authorization-identifier")
	setID := func(v string) { id.Children = nil; id.AppendText(v) }
	setID(s.user.String())
	previd := st.resume.Attr("previd")
	if old := s.srv.smLookup(previd); old != nil && old.user == s.user {
		setID(old.fullStr)
	}
	success.Append(id)
	if tok := s.fastSuccess(ctx, st); tok != nil {
		success.Append(tok)
	}
	resumed, bound := false, false
	orBind := func(failed *stanza.Element) *stanza.Element {
		setID(s.user.String())
		success.Append(failed)
		if st.bind == nil {
			return success
		}
		full, f := s.bind2Target(st)
		if f != nil {
			s.srv.log.Info("bind 2 after a failed resumption", "jid", s.user, "reason", f.Reason)
			return success
		}
		s.full, s.fullStr, s.state, bound = full, full.String(), stateBound, true
		setID(s.fullStr)
		return success.Append(s.bind2Inline(ctx, st))
	}
	var err error
	if h, perr := parseH(st.resume.Attr("h")); perr != nil {
		err = s.writeElement(orBind(smFailed(stanza.BadRequest, 0, false)))
	} else {
		err = s.smResume(ctx, previd, h, func(e *stanza.Element) *stanza.Element {
			if resumed = e.Local == "resumed"; resumed {
				return success.Append(e)
			}
			return orBind(e)
		})
	}
	switch {
	case resumed:
		return err
	case err != nil:
		if bound {
			mSessions.Inc() // endSession counts a bound session out
		}
		return err
	case !bound:
		return s.out.queueRaw(stream.Features(s.features()).AppendXML(nil, stream.NSClient))
	}
	if err := s.out.queueRaw(stream.Features(s.srv.router.Registry().StreamFeatures(s.user)).AppendXML(nil, stream.NSClient)); err != nil {
		mSessions.Inc()
		return err
	}
	if en := st.bind.Child(NSSM, "enable"); en != nil {
		if resume, max, ok := enableArgs(en); ok {
			s.smEnable(resume, max, nil)
		}
	}
	s.enterRouter()
	s.notifyBound(ctx)
	return nil
}

// resumeAnswer serialises the answer to a resumption: <resumed/> itself,
// or a SASL2 <success/> carrying it, which the features of the resumed
// (bound) stream follow (XEP-0388 §"Success").
func (s *Session) resumeAnswer(el *stanza.Element) []byte {
	b := el.AppendXML(nil, stanza.NSClient)
	if el.Space != NSSASL2 {
		return b
	}
	return stream.Features(s.srv.router.Registry().StreamFeatures(s.user)).AppendXML(b, stream.NSClient)
}
