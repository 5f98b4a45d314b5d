package c2s

import (
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/limits"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/stream"
	"github.com/parleyim/parley/internal/xmlstream"
)

// Namespaces of BOSH (XEP-0124 §4) and of its XMPP attributes (XEP-0206).
const (
	NSHTTPBind = "http://jabber.org/protocol/httpbind"
	NSXBOSH    = "urn:xmpp:xbosh"
)

// BOSH conditions of a terminal body (XEP-0124 §17.2).
const (
	boshBadRequest    = "bad-request"
	boshItemNotFound  = "item-not-found"
	boshPolicy        = "policy-violation"
	boshRemoteError   = "remote-stream-error"
	boshSystemShuting = "system-shutdown"
)

// BOSH serves XEP-0124 sessions carrying XMPP (XEP-0206) at /http-bind: it
// keeps the table of sessions by sid. Each session is a c2s session whose
// transport is a boshTransport.
type BOSH struct {
	srv *Server
	cfg config.BOSH

	mu       sync.Mutex // guards sessions
	sessions map[string]*boshTransport
}

// NewBOSH returns the BOSH service of srv.
func NewBOSH(srv *Server, cfg config.BOSH) *BOSH {
	return &BOSH{srv: srv, cfg: cfg, sessions: map[string]*boshTransport{}}
}

// boshTransport carries a session over a series of HTTP requests
// (XEP-0124): their bodies' children, taken in rid order, are the peer's
// stream (Next); what the session writes answers the oldest held request
// or waits for the next one (Write). Requests that arrive ahead of their
// turn wait in the window; a repeated rid gets its response again. The
// session's goroutine (run) is the owner.
type boshTransport struct {
	s       *Session
	b       *BOSH
	sid     string
	tls     *tls.ConnectionState
	release func()
	to      string
	wait    time.Duration
	hold    int
	acks    bool
	wake    chan struct{}  // Wake: capacity 1
	bucket  *limits.Bucket // limits.bytes_per_second over the bodies; nil: none

	// mu guards what follows.
	mu         sync.Mutex
	nextRid    int64
	pending    map[int64]*boshRequest // arrived ahead of their turn
	held       []*boshRequest         // in rid order, waiting for a response
	cache      map[int64][]byte       // the last responses, for repeated rids
	in         []boshItem             // for the owner, in order
	out        []byte                 // for the next response
	header     stream.Header          // from AppendOpen: the creation response's attributes
	terminate  bool                   // our closing tag is out
	termCond   string
	closed     bool
	lastActive time.Time
	lastReq    time.Time     // when the last new request arrived (polling)
	changed    chan struct{} // closed and replaced on every change (signalLocked)

	// The owner's.
	wantHeader bool
	draining   bool
	timer      *time.Timer
}

// boshItem is what the owner reads: an element, a stream (re)start or the
// client's terminate.
type boshItem struct {
	el      *stanza.Element
	restart bool
	close   bool
}

// boshRequest is one HTTP request of a session.
type boshRequest struct {
	rid    int64
	body   *stanza.Element
	create bool
	done   chan struct{} // closed once resp is set
	resp   []byte
}

type boshSession struct {
	Session
	bosh boshTransport
}

var (
	_ transport    = (*boshTransport)(nil)
	_ sessionMover = (*boshTransport)(nil)
)

// moveTo makes the BOSH session carry s, the session a resume took over
// (XEP-0198, resume.go); run goes on with it. The owner calls it; the
// request handlers read t.s under mu (kill, Write).
func (t *boshTransport) moveTo(s *Session) {
	t.mu.Lock()
	t.s = s
	t.mu.Unlock()
}

// requests is the most requests a client may have open (XEP-0124 §7.1).
func (t *boshTransport) requests() int { return t.hold + 1 }

// ServeBOSH handles one BOSH request of peer.
func (b *BOSH) ServeBOSH(w http.ResponseWriter, r *http.Request, peer Peer) {
	body, size, err := b.readBody(w, r)
	if err != nil {
		b.srv.log.Debug("bosh: bad request", "peer", peer.Addr, "err", err)
		writeTerminal(w, boshBadRequest)
		return
	}
	sid := body.Attr("sid")
	if sid == "" {
		b.create(w, r, body, peer)
		return
	}
	b.mu.Lock()
	t := b.sessions[sid]
	b.mu.Unlock()
	if t == nil {
		writeTerminal(w, boshItemNotFound)
		return
	}
	t.request(w, r, body, size)
}

// readBody parses the request's <body/> with the session limits (its
// children together at most a stanza and a little) and says how many
// bytes of the request it read.
func (b *BOSH) readBody(w http.ResponseWriter, r *http.Request) (*stanza.Element, int, error) {
	l := b.srv.cfg.Limits
	max := l.MaxStanzaBytes + 16<<10
	body := &countingReader{r: http.MaxBytesReader(w, r.Body, int64(max))}
	src := io.MultiReader(strings.NewReader(syntheticHeader), body)
	dec := xmlstream.NewDecoder(src, xmlstream.Limits{MaxElementBytes: max, MaxDepth: l.MaxDepth + 1, MaxAttrs: l.MaxAttrs, MaxMemory: l.MaxStanzaMemory})
	if _, err := dec.ReadHeader(); err != nil {
		return nil, body.n, err
	}
	el, err := dec.Next()
	if err != nil {
		return nil, body.n, err
	}
	if el.Space != NSHTTPBind || el.Local != "body" {
		return nil, body.n, errors.New("the request is not a <body xmlns='" + NSHTTPBind + "'/>")
	}
	for _, c := range el.ChildElements() {
		clientSpace(c)
	}
	return el, body.n, nil
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// clientSpace puts the elements a client left in the body's namespace
// (no xmlns of their own) into jabber:client.
func clientSpace(el *stanza.Element) {
	if el.Space != NSHTTPBind {
		return
	}
	el.Space = stream.NSClient
	for _, c := range el.ChildElements() {
		clientSpace(c)
	}
}

// create starts a session (XEP-0124 §7.1, XEP-0206 §3).
func (b *BOSH) create(w http.ResponseWriter, r *http.Request, body *stanza.Element, peer Peer) {
	rid, ok := parseRid(body.Attr("rid"))
	if !ok || body.Attr("to") == "" {
		writeTerminal(w, boshBadRequest)
		return
	}
	release, err := b.srv.limiter.Acquire(peer.Addr)
	if err != nil {
		b.srv.log.Info("connection refused", "peer", peer.Addr, "transport", "bosh", "err", err)
		writeTerminal(w, boshPolicy)
		return
	}
	x := &boshSession{}
	sess, t := &x.Session, &x.bosh
	t.s, t.b, t.sid, t.release, t.to = sess, b, newSID(), release, body.Attr("to")
	t.tls = boshSecurity(peer)
	t.wait = clampDuration(body.Attr("wait"), b.cfg.MaxWait.D())
	t.hold = clampInt(body.Attr("hold"), b.cfg.MaxHold)
	t.acks = body.Attr("ack") == "1"
	t.wake = make(chan struct{}, 1)
	t.bucket = limits.NewBucket(b.srv.cfg.Limits.BytesPerSecond, b.srv.cfg.Limits.BurstBytes)
	t.changed = make(chan struct{})
	t.nextRid = rid + 1
	t.pending, t.cache = map[int64]*boshRequest{}, map[int64][]byte{}
	t.in = []boshItem{{restart: true}}
	t.wantHeader = true
	t.lastActive = time.Now()
	t.lastReq = t.lastActive
	req := &boshRequest{rid: rid, create: true, done: make(chan struct{})}
	t.held = []*boshRequest{req}
	if !b.srv.webSession(r.Context(), sess, t, peer.Addr) {
		release()
		writeTerminal(w, boshSystemShuting)
		return
	}
	b.mu.Lock()
	b.sessions[t.sid] = t
	b.mu.Unlock()
	go t.run()
	t.await(w, r, req)
}

// boshSecurity is the session's TLS state: a session spans many
// connections, so none of them can be its channel binding; TLS (or a
// trusted plain connection) still counts as confidential.
func boshSecurity(p Peer) *tls.ConnectionState {
	if p.TLS != nil {
		return &tls.ConnectionState{Version: p.TLS.Version, CipherSuite: p.TLS.CipherSuite, ServerName: p.TLS.ServerName}
	}
	return p.security()
}

func newSID() string {
	var b [18]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// parseRid reads a request id: a positive integer below 2^53 (§7.1).
func parseRid(s string) (int64, bool) {
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && n > 0 && n < 1<<53
}

func clampDuration(s string, max time.Duration) time.Duration {
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 || time.Duration(n)*time.Second > max {
		return max
	}
	return time.Duration(n) * time.Second
}

func clampInt(s string, max int) int {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > max {
		return max
	}
	return n
}

// request handles a request of an existing session (§14: rid window and
// repeats) of size bytes: the session's byte rate holds it back first, as
// TCP's reader holds back a fast sender; a client that polls too often or
// opens too many requests at once is cut off (policy).
func (t *boshTransport) request(w http.ResponseWriter, r *http.Request, body *stanza.Element, size int) {
	rid, ok := parseRid(body.Attr("rid"))
	if !ok {
		writeTerminal(w, boshBadRequest)
		t.kill()
		return
	}
	if !t.throttle(r.Context(), size) {
		return // the client went away while held back
	}
	t.mu.Lock()
	switch {
	case t.closed:
		t.mu.Unlock()
		writeTerminal(w, boshItemNotFound)
	case rid < t.nextRid:
		resp, ok := t.cache[rid]
		if !ok {
			resp = t.replaceHeldLocked(rid)
		}
		t.mu.Unlock()
		if resp == nil {
			// Neither answered recently nor held: not a retransmission.
			writeTerminal(w, boshItemNotFound)
			t.kill()
			return
		}
		writeBody(w, resp)
	case rid >= t.nextRid+int64(t.requests()), t.pending[rid] != nil:
		t.mu.Unlock()
		writeTerminal(w, boshItemNotFound)
		t.kill()
	default:
		if why := t.policyLocked(body, time.Now()); why != "" {
			t.mu.Unlock()
			t.b.srv.log.Info("bosh: policy violation", "sid", t.sid, "why", why)
			writeTerminal(w, boshPolicy)
			t.killWith(boshPolicy)
			return
		}
		req := &boshRequest{rid: rid, body: body, done: make(chan struct{})}
		t.pending[rid] = req
		t.processLocked()
		t.mu.Unlock()
		t.await(w, r, req)
	}
}

// replaceHeldLocked answers a request that is still held and whose rid
// came again (its connection was lost) with an empty body, which the new
// request then gets; nil when the rid is not held.
func (t *boshTransport) replaceHeldLocked(rid int64) []byte {
	for i, h := range t.held {
		if h.rid == rid {
			t.held = append(t.held[:i], t.held[i+1:]...)
			t.answerLocked(h, nil, false)
			return h.resp
		}
	}
	return nil
}

// processLocked accepts the requests that are next in rid order.
func (t *boshTransport) processLocked() {
	for {
		req := t.pending[t.nextRid]
		if req == nil {
			break
		}
		delete(t.pending, t.nextRid)
		t.nextRid++
		t.acceptLocked(req)
	}
	t.signalLocked()
}

// acceptLocked queues a request's payload for the owner and holds the
// request for the answer.
func (t *boshTransport) acceptLocked(req *boshRequest) {
	body := req.body
	for _, c := range body.ChildElements() {
		t.in = append(t.in, boshItem{el: c})
	}
	if restartAttr(body) {
		t.in = append(t.in, boshItem{restart: true})
	}
	if body.Attr("type") == "terminate" {
		t.in = append(t.in, boshItem{close: true})
	}
	t.held = append(t.held, req)
	t.lastActive = time.Now()
	t.dispatchLocked()
}

func restartAttr(body *stanza.Element) bool {
	for _, a := range body.Attrs {
		if a.Space == NSXBOSH && a.Local == "restart" {
			return a.Value == "true" || a.Value == "1"
		}
	}
	return false
}

// dispatchLocked answers held requests: the oldest with what is waiting to
// go out, all of them once the stream is closed, and the oldest ones past
// 'hold' (empty) so the client can send again.
func (t *boshTransport) dispatchLocked() {
	for len(t.held) > 0 && (len(t.out) > 0 || t.terminate) {
		req := t.held[0]
		t.held = t.held[1:]
		t.answerLocked(req, t.out, t.terminate)
		t.out = nil
	}
	for len(t.held) > t.hold && !t.held[0].create {
		req := t.held[0]
		t.held = t.held[1:]
		t.answerLocked(req, nil, false)
	}
	t.signalLocked()
}

// answerLocked sets req's response and remembers it for a repeat.
func (t *boshTransport) answerLocked(req *boshRequest, payload []byte, term bool) {
	var attrs []byte
	if req.create {
		h := t.header
		attrs = stanza.AppendAttr(attrs, "sid", t.sid)
		attrs = stanza.AppendAttr(attrs, "wait", strconv.Itoa(int(t.wait/time.Second)))
		attrs = stanza.AppendAttr(attrs, "hold", strconv.Itoa(t.hold))
		attrs = stanza.AppendAttr(attrs, "requests", strconv.Itoa(t.requests()))
		attrs = stanza.AppendAttr(attrs, "inactivity", strconv.Itoa(int(t.b.cfg.Inactivity.D()/time.Second)))
		attrs = stanza.AppendAttr(attrs, "polling", strconv.Itoa(int(t.b.cfg.Polling.D()/time.Second)))
		attrs = stanza.AppendAttr(attrs, "ver", "1.11")
		attrs = stanza.AppendAttr(attrs, "from", h.From)
		attrs = stanza.AppendAttr(attrs, "authid", h.ID)
		attrs = append(attrs, " xmpp:version='1.0' xmpp:restartlogic='true'"...)
		if t.tls != nil {
			attrs = stanza.AppendAttr(attrs, "secure", "true")
		}
		if t.acks {
			attrs = stanza.AppendAttr(attrs, "ack", strconv.FormatInt(req.rid, 10))
		}
	} else if t.acks && req.rid != t.nextRid-1 {
		attrs = stanza.AppendAttr(attrs, "ack", strconv.FormatInt(t.nextRid-1, 10))
	}
	if term {
		attrs = stanza.AppendAttr(attrs, "type", "terminate")
		attrs = stanza.AppendAttr(attrs, "condition", t.termCond)
	}
	req.resp = bodyXML(attrs, payload)
	close(req.done)
	t.cache[req.rid] = req.resp
	for rid := range t.cache {
		if rid <= t.nextRid-1-int64(t.requests()) {
			delete(t.cache, rid)
		}
	}
	t.lastActive = time.Now()
}

func bodyXML(attrs, payload []byte) []byte {
	b := make([]byte, 0, 160+len(attrs)+len(payload))
	b = append(b, "<body xmlns='"+NSHTTPBind+"' xmlns:xmpp='"+NSXBOSH+"' xmlns:stream='"+stream.NSStream+"'"...)
	b = append(b, attrs...)
	if len(payload) == 0 {
		return append(b, "/>"...)
	}
	b = append(b, '>')
	b = append(b, payload...)
	return append(b, "</body>"...)
}

func (t *boshTransport) signalLocked() {
	close(t.changed)
	t.changed = make(chan struct{})
}

// await holds the HTTP request until it is answered, or answers it empty
// after 'wait'. A request whose client went away stays held (its answer is
// kept for the client's retry) until its 'wait' is over all the same: a
// client that vanished leaves no request held for ever, so its session's
// inactivity counts from then and it ends, or hibernates with stream
// management (XEP-0198), instead of waiting for the next stanza. A request
// that went away before it was accepted (it came ahead of a missing rid)
// is dropped at once: its payload was never read, and a client that is
// still there sends the same rid again (XEP-0124 §14.3).
func (t *boshTransport) await(w http.ResponseWriter, r *http.Request, req *boshRequest) {
	deadline := time.Now().Add(t.wait)
	timer := time.NewTimer(t.wait)
	defer timer.Stop()
	select {
	case <-req.done:
	case <-timer.C:
		t.expire(req)
		select {
		case <-req.done:
		case <-r.Context().Done():
			t.dropPending(req)
			return
		}
	case <-r.Context().Done():
		if !t.dropPending(req) {
			time.AfterFunc(time.Until(deadline), func() { t.expire(req) })
		}
		return
	}
	writeBody(w, req.resp)
}

// dropPending forgets req if it is still waiting for an earlier rid, and
// reports whether it was. The session's inactivity counts from then.
func (t *boshTransport) dropPending(req *boshRequest) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.pending[req.rid] != req {
		return false
	}
	delete(t.pending, req.rid)
	t.lastActive = time.Now()
	t.signalLocked()
	return true
}

// expire answers a held request whose wait is over with an empty body.
func (t *boshTransport) expire(req *boshRequest) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i, h := range t.held {
		if h == req {
			t.held = append(t.held[:i], t.held[i+1:]...)
			t.answerLocked(req, nil, false)
			t.signalLocked()
			return
		}
	}
}

func writeBody(w http.ResponseWriter, b []byte) {
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.Write(b)
}

// writeTerminal answers a request that has no session to go to with a
// terminal binding condition (XEP-0124 §17.2).
func writeTerminal(w http.ResponseWriter, cond string) {
	writeBody(w, bodyXML([]byte(" type='terminate' condition='"+cond+"'"), nil))
}

// run is the session's owner. After a resume (XEP-0198) it runs the
// resumed session; a session that hibernates instead of ending (its client
// went silent past 'inactivity' with resumption enabled) is ended later by
// stream management.
func (t *boshTransport) run() {
	s := t.s
	now := time.Now()
	s.deadline = now.Add(s.srv.cfg.Limits.PreAuthTimeout.D())
	s.lastRead = now
	for {
		s = t.s
		err := s.serve(&s.ctx)
		if errors.Is(err, errResumed) {
			continue
		}
		kept := s.stop(err)
		t.release()
		if !kept {
			s.srv.ended(s)
		}
		return
	}
}

// errInactive ends a session whose client sent no request for
// 'inactivity' (XEP-0124 §7.1): nothing can reach it.
var errInactive = errors.New("c2s: BOSH session inactive")

// item waits for what the owner reads next, the session's wake time, the
// inactivity limit or a close request.
func (t *boshTransport) item() (boshItem, error) {
	s := t.s
	for {
		t.mu.Lock()
		if len(t.in) > 0 {
			it := t.in[0]
			t.in[0] = boshItem{}
			t.in = t.in[1:]
			t.mu.Unlock()
			s.heard()
			return it, nil
		}
		if t.draining || t.closed {
			t.mu.Unlock()
			return boshItem{}, io.EOF
		}
		idle := len(t.held) == 0 && len(t.pending) == 0
		inactiveAt := t.lastActive.Add(t.b.cfg.Inactivity.D())
		ch := t.changed
		t.mu.Unlock()
		if s.closing.Load() {
			return boshItem{}, errClosing
		}
		dl := s.wakeAt()
		if idle && inactiveAt.Before(dl) {
			dl = inactiveAt
		}
		if t.timer == nil {
			t.timer = time.NewTimer(time.Until(dl))
		} else {
			t.timer.Reset(time.Until(dl))
		}
		select {
		case <-ch:
		case <-t.wake:
		case <-t.timer.C:
			if s.closing.Load() {
				return boshItem{}, errClosing
			}
			if idle && !time.Now().Before(inactiveAt) {
				t.forget() // from now on its sid is unknown
				return boshItem{}, errInactive
			}
			if time.Now().Before(s.wakeAt()) || s.pingIdle() {
				continue
			}
			return boshItem{}, os.ErrDeadlineExceeded
		}
		t.timer.Stop()
	}
}

func (t *boshTransport) WantHeader() bool { return t.wantHeader }

// ReadHeader waits for the session's creation or an xmpp:restart
// (XEP-0206 §5) and returns it as a jabber:client stream header.
func (t *boshTransport) ReadHeader() (xmlstream.Header, error) {
	it, err := t.item()
	if err != nil {
		return xmlstream.Header{}, err
	}
	if it.close {
		return xmlstream.Header{}, xmlstream.ErrStreamClosed
	}
	if !it.restart {
		return xmlstream.Header{}, stream.New(stream.NotAuthorized, "restart the stream (xmpp:restart='true', XEP-0206 §5) after authentication")
	}
	t.wantHeader = false
	return xmlstream.Header{Space: stream.NSClient, StreamPrefix: "stream", To: t.to, Version: "1.0"}, nil
}

// Next returns the next element of the request bodies.
func (t *boshTransport) Next() (*stanza.Element, error) {
	it, err := t.item()
	if err != nil {
		return nil, err
	}
	switch {
	case it.close:
		return nil, xmlstream.ErrStreamClosed
	case it.restart:
		return nil, stream.New(stream.PolicyViolation, "xmpp:restart is only for after authentication (XEP-0206 §5)")
	}
	return it.el, nil
}

func (t *boshTransport) Restart(xmlstream.Limits) { t.wantHeader = true }

// AppendOpen writes nothing: the stream's id and domain go into the
// creation response's attributes (XEP-0206 §3).
func (t *boshTransport) AppendOpen(b []byte, h stream.Header) []byte {
	t.mu.Lock()
	t.header = h
	t.mu.Unlock()
	return b
}

// AppendClose marks the end of our stream; Write turns it into a
// terminal body.
func (t *boshTransport) AppendClose(b []byte) []byte { return append(b, stream.Close...) }

// Write gives b to the oldest held request, or keeps it for the next one.
// Past limits.max_outbound_bytes kept it waits (within timeout, or the
// inactivity limit when longer) for a request to take them.
func (t *boshTransport) Write(b []byte, timeout time.Duration) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return errClosed
	}
	if rest, ok := bytes.CutSuffix(b, []byte(stream.Close)); ok {
		b = rest
		t.terminate = true
		if bytes.Contains(b, []byte("<stream:error")) {
			t.termCond = boshRemoteError
		}
	}
	eachElement(b, func(el []byte) { t.out = appendQualified(t.out, el, true) })
	t.dispatchLocked()
	deadline := time.Now().Add(max(timeout, t.b.cfg.Inactivity.D()))
	for max := t.s.srv.cfg.Limits.MaxOutboundBytes; max > 0 && len(t.out) > max && !t.closed; {
		ch := t.changed
		t.mu.Unlock()
		timer := time.NewTimer(time.Until(deadline))
		select {
		case <-ch:
		case <-timer.C:
		}
		timer.Stop()
		t.mu.Lock()
		if time.Now().After(deadline) {
			return os.ErrDeadlineExceeded
		}
	}
	return nil
}

func (t *boshTransport) Writable() bool { return true }

func (t *boshTransport) TLS() (*tls.ConnectionState, bool) { return t.tls, false }

func (t *boshTransport) Wake() {
	select {
	case t.wake <- struct{}{}:
	default:
	}
}

// Finish: nothing comes after the client's terminate or our closing body.
func (t *boshTransport) Finish(time.Duration) { t.draining = true }

// kill ends the session after a binding error (XEP-0124 §17.2): its sid is
// unknown from now on, and the session is asked to close.
func (t *boshTransport) kill() { t.killWith("") }

// killWith is kill whose held requests are answered with the terminal
// condition cond.
func (t *boshTransport) killWith(cond string) {
	t.forget()
	t.mu.Lock()
	s := t.s
	if cond != "" && t.termCond == "" {
		t.termCond = cond
	}
	t.mu.Unlock()
	s.Close("", "")
}

// forget removes the session from the table: its sid is unknown.
func (t *boshTransport) forget() {
	t.b.mu.Lock()
	if t.b.sessions[t.sid] == t {
		delete(t.b.sessions, t.sid)
	}
	t.b.mu.Unlock()
}

// Close ends the session's HTTP side: held and waiting requests are
// answered (terminal), later ones get item-not-found.
func (t *boshTransport) Close() {
	t.forget()
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return
	}
	t.closed, t.terminate = true, true
	for _, req := range t.pending {
		t.held = append(t.held, req)
	}
	clear(t.pending)
	for _, req := range t.held {
		t.answerLocked(req, t.out, true)
		t.out = nil
	}
	t.held = nil
	t.signalLocked()
}
