package c2s

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/stream"
)

// This file holds XEP-0198 stream management on a session: enabling it,
// the two counters and acks (<r/>, <a/>) both ways, and the queue of
// stanzas the client has not acknowledged. Resumption (the session
// outliving its transport) is resume.go. Everything here works on the
// session and its output queue, not on TCP: a WebSocket or BOSH transport
// gets stream management by carrying the elements.
//
// The counters (§4):
//   - inbound, inH: stanzas from the client the server has handled. A
//     stanza counts only once it is finished: router.Route returned for it
//     and, when Route deferred the rest to the session's pipeline (a
//     message waiting for the archive's commit, pipeline.go), once the
//     pipeline finished it, in order. So whatever the handling makes
//     durable (offline storage, the archive's commit) is durable before
//     an <a/> can acknowledge it. Keep it that way: an ack must never
//     precede durability.
//   - outbound: the stanzas in the output queue since <enabled/>; those the
//     client has not acknowledged (h) stay in smState.items, serialised,
//     oldest first. Both counters are modulo 2^32 (uint32 arithmetic).

// NSSM is the stream management namespace (XEP-0198 version 3).
const NSSM = "urn:xmpp:sm:3"

// rBytes is the server's ack request.
var rBytes = []byte("<r xmlns='" + NSSM + "'/>")

// smPhase is where a resumable session is in its life (resume.go).
type smPhase uint8

const (
	smAttached   smPhase = iota // a transport carries it
	smHibernated                // its transport ended; waiting for a resume or the window's end
	smResuming                  // a new transport is taking it over
	smEnded                     // it ended for good
)

// smState is a session's stream management state, allocated at <enable/>
// (a session without stream management holds a nil pointer).
type smState struct {
	id        string        // resumption id, "" when not resumable
	resumable bool          // the client asked for resume and it was granted
	max       time.Duration // the resumption window granted

	// Stanzas from the client handled (see above): the owner's and the
	// session pipeline's (pipeline.go), which counts deferred stanzas.
	inH atomic.Uint32

	// Guarded by output.mu.
	items    [][]byte // unacknowledged stanzas, serialised, oldest first
	bytes    int      // their size
	acked    uint32   // the client's last h
	sinceR   int      // stanzas queued since our last <r/>
	rOut     bool     // an <r/> of ours is unanswered
	aQueued  bool     // an <a/> with aH waits unwritten in the queue (a flood of <r/> costs one)
	aH       uint32
	detached bool   // hibernated: stanzas are kept, nothing is written
	onRoom   func() // a paced burst waiting for acks (pace.go)

	// Guarded by hmu (resume.go).
	hmu        sync.Mutex
	phase      smPhase
	timer      *time.Timer   // the window's end while hibernated
	hibernated chan struct{} // closed when the session next detaches (a takeover waits on it)
	endReq     *closeRequest // a Close that came while the transport was failing: end, do not hibernate (guarded by closeMu)
}

// sent is the outbound count: acknowledged plus held stanzas.
func (m *smState) sent() uint32 { return m.acked + uint32(len(m.items)) }

// smFailed is XEP-0198's <failed/> with a stanza error condition; h (the
// server's inbound count) is included when hasH.
func smFailed(cond string, h uint32, hasH bool) *stanza.Element {
	f := stanza.New(NSSM, "failed")
	if hasH {
		f.SetAttr("h", strconv.FormatUint(uint64(h), 10))
	}
	return f.Append(stanza.New(stanza.NSStanza, cond))
}

// handleSM handles a stream management element from a bound session.
func (s *Session) handleSM(ctx context.Context, el *stanza.Element) error {
	if p := s.pl; p != nil && el.Local != "a" && p.Busy() {
		if el.Local == "r" {
			// Answered once the stanzas before it are handled, so
			// that its h covers them (pipeline.go).
			p.Push(module.PipelineItem{Nonza: func() error { return s.handleR() }})
			return nil
		}
		p.Drain() // s.sm changes only while no deferred stanza counts
	}
	switch el.Local {
	case "enable":
		return s.handleEnable(el)
	case "r":
		return s.handleR()
	case "a":
		return s.handleA(el)
	case "resume":
		// A bound stream cannot take over another session (§5).
		return s.writeElement(smFailed(stanza.UnexpectedRequest, 0, false))
	}
	return stream.New(stream.UnsupportedStanzaType, "unknown stream management element")
}

// handleSMUnbound handles a stream management element after
// authentication and before binding: <resume/>, or an <enable/> that
// comes too early (§3: unexpected-request).
func (s *Session) handleSMUnbound(ctx context.Context, el *stanza.Element) error {
	switch el.Local {
	case "resume":
		h, err := parseH(el.Attr("h"))
		if err != nil {
			return s.writeElement(smFailed(stanza.BadRequest, 0, false))
		}
		return s.smResume(ctx, el.Attr("previd"), h, nil)
	case "enable", "r", "a":
		return s.writeElement(smFailed(stanza.UnexpectedRequest, 0, false))
	}
	return stream.New(stream.UnsupportedStanzaType, "unknown stream management element")
}

func parseH(v string) (uint32, error) {
	n, err := strconv.ParseUint(v, 10, 32)
	return uint32(n), err
}

// handleEnable answers <enable/> (§3).
func (s *Session) handleEnable(el *stanza.Element) error {
	resume := el.Attr("resume") == "true" || el.Attr("resume") == "1"
	max := 0
	if v := el.Attr("max"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return s.writeElement(smFailed(stanza.BadRequest, 0, false))
		}
		max = n
	}
	s.smEnable(resume, max, nil)
	return nil
}

// smEnable enables stream management on this bound session and queues the
// answer: <enabled/> (or <failed/>) passed through wrap, so the counters
// start exactly after it in the output. The caller is the session's owner;
// the function does not assume which element asked for it: the classic
// <enable/> nonza passes wrap nil (the element is written as is), Bind2
// (XEP-0386) passes a wrap that puts it inside its own reply. resume asks
// for resumption; max is the client's preferred window in seconds (0: the
// server's). It reports whether stream management is now enabled.
func (s *Session) smEnable(resume bool, max int, wrap func(*stanza.Element) *stanza.Element) bool {
	cfg := s.srv.cfg.SM
	if wrap == nil {
		wrap = func(e *stanza.Element) *stanza.Element { return e }
	}
	switch {
	case !cfg.Enabled:
		s.writeElement(wrap(smFailed(stanza.ServiceUnavailable, 0, false)))
		return false
	case s.state != stateBound || s.sm != nil:
		s.writeElement(wrap(smFailed(stanza.UnexpectedRequest, 0, false)))
		return false
	}
	st := &smState{resumable: resume}
	en := stanza.New(NSSM, "enabled")
	if resume {
		st.max = cfg.ResumeWindow.D()
		if max > 0 && time.Duration(max)*time.Second < st.max {
			st.max = time.Duration(max) * time.Second
		}
		st.id = newSMID()
		en.SetAttr("id", st.id).SetAttr("resume", "true").
			SetAttr("max", strconv.Itoa(int(st.max/time.Second)))
		if cfg.Location != "" {
			en.SetAttr("location", cfg.Location)
		}
	}
	b := wrap(en).AppendXML(nil, stanza.NSClient)
	s.closeMu.Lock()
	s.out.mu.Lock()
	s.sm = st
	err := s.out.queueLocked(b)
	s.out.mu.Unlock()
	s.closeMu.Unlock()
	s.recordSM(st)
	if err != nil {
		return false
	}
	if resume {
		s.srv.smRegister(st.id, s)
	}
	return true
}

func newSMID() string {
	var b [18]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// handleR answers the client's <r/> with our inbound count. Answers are
// coalesced: while an <a/> with the same h still waits in the queue, a
// flood of <r/> adds nothing.
func (s *Session) handleR() error {
	if s.sm == nil {
		return s.writeElement(smFailed(stanza.UnexpectedRequest, 0, false))
	}
	h := s.sm.inH.Load()
	o := &s.out
	o.mu.Lock()
	defer o.mu.Unlock()
	if s.sm.aQueued && s.sm.aH == h {
		return nil
	}
	b := append([]byte("<a xmlns='"+NSSM+"' h='"), strconv.FormatUint(uint64(h), 10)...)
	if err := o.queueLocked(append(b, "'/>"...)); err != nil {
		return err
	}
	s.sm.aQueued, s.sm.aH = true, h
	return nil
}

// handleA takes the client's ack: the stanzas it acknowledges leave the
// queue. An h above what was sent is a stream error (§4).
func (s *Session) handleA(el *stanza.Element) error {
	if s.sm == nil {
		return s.writeElement(smFailed(stanza.UnexpectedRequest, 0, false))
	}
	h, err := parseH(el.Attr("h"))
	if err != nil {
		return stream.New(stream.InvalidXML, "the 'h' of <a/> is not a number")
	}
	if sent, ok := s.out.smAck(h); !ok {
		return handledTooHigh(h, sent)
	}
	return nil
}

// handledTooHigh is the stream error for an ack of more stanzas than were
// sent (§4: undefined-condition with <handled-count-too-high/>).
func handledTooHigh(h, sent uint32) *stream.Error {
	e := stream.New(stream.UndefinedCondition, "you acknowledged more stanzas than were sent")
	e.App = stanza.New(NSSM, "handled-count-too-high").
		SetAttr("h", strconv.FormatUint(uint64(h), 10)).
		SetAttr("send-count", strconv.FormatUint(uint64(sent), 10))
	return e
}

// smHandled counts one stanza from the client as handled; handleStanza
// defers it, so it runs after router.Route returned (see the top of this
// file).
func (s *Session) smHandled() {
	if s.sm != nil {
		s.sm.inH.Add(1)
	}
}

// smBeforePark asks a client that holds unacknowledged stanzas for an ack
// before its session goes quiet, so the queue empties while it is idle.
func (s *Session) smBeforePark() {
	if s.sm == nil {
		return
	}
	o := &s.out
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(s.sm.items) > 0 && !s.sm.rOut && !s.sm.detached {
		if o.queueLocked(rBytes) == nil {
			s.sm.rOut, s.sm.sinceR = true, 0
		}
	}
}

// writeElement queues a nonza (or a stanza not counted by stream
// management) for the client.
func (s *Session) writeElement(el *stanza.Element) error {
	b := el.AppendXML(nil, stanza.NSClient)
	s.out.mu.Lock()
	defer s.out.mu.Unlock()
	return s.out.queueLocked(b)
}

// deliverSM queues el for a session with stream management: the stanza is
// kept (serialised) until acknowledged and, unless the session is
// hibernating, written. Past sm.max_unacked (or limits.max_outbound_bytes
// of unacknowledged data) the session ends as a slow consumer; the stanza
// is still held, and everything held is routed again when the session
// ends (resume.go), so nothing is dropped. Called with o.mu held; unlocks.
func (o *output) deliverSM(el *stanza.Element) error {
	sm := o.s.sm
	b := el.AppendXML(make([]byte, 0, 256), stanza.NSClient)
	sm.items = append(sm.items, b)
	sm.bytes += len(b)
	cfg := &o.s.srv.cfg
	if len(sm.items) > cfg.SM.MaxUnacked || cfg.Limits.MaxOutboundBytes > 0 && sm.bytes > cfg.Limits.MaxOutboundBytes {
		mSMSlow.Inc()
		o.slowLocked() // unlocks
		return nil
	}
	if sm.detached {
		o.mu.Unlock()
		return nil
	}
	p := o.pendingLocked()
	*p = append(*p, b...)
	sm.sinceR++
	if !sm.rOut && sm.sinceR >= cfg.SM.RequestAckAfter {
		*p = append(*p, rBytes...)
		sm.rOut, sm.sinceR = true, 0
	}
	o.kickLocked()
	o.mu.Unlock()
	return nil
}

// smAck drops the stanzas the client's h acknowledges. It reports false
// (and what was sent) when h acknowledges more than was sent.
func (o *output) smAck(h uint32) (sent uint32, ok bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.smAckLocked(h)
}

func (o *output) smAckLocked(h uint32) (sent uint32, ok bool) {
	sm := o.s.sm
	n := h - sm.acked // modulo 2^32
	if n > uint32(len(sm.items)) {
		return sm.sent(), false
	}
	for i := range n {
		sm.bytes -= len(sm.items[i])
		sm.items[i] = nil
	}
	sm.items = sm.items[n:]
	if len(sm.items) == 0 {
		sm.items = nil // let the array go
	}
	sm.acked = h
	sm.rOut = false
	o.roomAfterAckLocked()
	return sm.sent(), true
}
