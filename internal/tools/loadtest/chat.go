package loadtest

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/parleyim/parley/internal/stanza"
)

// chatPeer is the per-session state of the chat scenario.
type chatPeer struct {
	jid     string // full JID bound
	peer    int    // index of the session it talks to
	tokens  chan struct{}
	sent    atomic.Int64
	got     atomic.Int64
	lastSeq atomic.Int64 // last sequence number received (from the peer)
}

// msgStats collects what receivers see.
type msgStats struct {
	lat       Histogram
	delivered atomic.Int64
	errors    atomic.Int64
	foreign   atomic.Int64 // messages not sent by the tool, or to/from the wrong party or address
	disorder  atomic.Int64
	last      atomic.Int64 // stamp of the last delivery
}

// appendMessage appends a stamped message stanza: the body is
// "b <stamp-ns> <seq> <padding>".
func appendMessage(b []byte, to, typ string, seq int64, bodySize int) []byte {
	b = append(b, "<message to='"...)
	b = append(b, to...)
	b = append(b, "' type='"...)
	b = append(b, typ...)
	b = append(b, "' id='m"...)
	b = strconv.AppendInt(b, seq, 36)
	b = append(b, "'><body>b "...)
	start := len(b)
	b = strconv.AppendInt(b, stamp(), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, seq, 10)
	b = append(b, ' ')
	for n := len(b) - start; n < bodySize; n++ {
		b = append(b, 'x')
	}
	return append(b, "</body></message>"...)
}

// parseStamp reads the stamp and sequence number from a body the tool
// wrote.
func parseStamp(body string) (ns, seq int64, ok bool) {
	rest, found := strings.CutPrefix(body, "b ")
	if !found {
		return 0, 0, false
	}
	a, rest, found := strings.Cut(rest, " ")
	if !found {
		return 0, 0, false
	}
	b, _, _ := strings.Cut(rest, " ")
	ns, err1 := strconv.ParseInt(a, 10, 64)
	seq, err2 := strconv.ParseInt(b, 10, 64)
	return ns, seq, err1 == nil && err2 == nil && ns > 0
}

func bareOf(j string) string {
	if i := strings.IndexByte(j, '/'); i >= 0 {
		return j[:i]
	}
	return j
}

// Ways chat addresses its messages (Options.To).
const (
	ToBare = "bare" // the peer's bare JID: the server picks the resource
	ToFull = "full" // the peer's full JID
)

// toMode returns o.To, defaulting to ToBare, or an error for an unknown
// value.
func (o *Options) toMode() (string, error) {
	switch o.To {
	case "", ToBare:
		return ToBare, nil
	case ToFull:
		return ToFull, nil
	}
	return "", fmt.Errorf("loadtest: --to is %q; must be %s or %s", o.To, ToBare, ToFull)
}

// address is where a chat message to peer goes under mode.
func (p *chatPeer) address(mode string) string {
	if mode == ToFull {
		return p.jid
	}
	return bareOf(p.jid)
}

func (o *Options) bodySize() int {
	if o.BodySize <= 0 {
		return 64
	}
	return o.BodySize
}

func (o *Options) window() int {
	if o.Window <= 0 {
		return 32
	}
	return o.Window
}

// Chat logs in o.Pairs pairs of users; each user sends chat messages to
// the other of its pair (to its bare JID, or its full JID with o.To =
// ToFull) for o.Duration, at o.Rate
// messages per second in total or, with Rate 0, flat out with o.Window
// messages in flight per sender. It reports messages sent and delivered,
// throughput, delivery latency (p50, p90, p99, max) and the server's CPU
// per delivered message.
func Chat(ctx context.Context, o Options) (Result, error) {
	r := Result{Scenario: "chat", Time: time.Now()}
	if err := o.check("pairs"); err != nil {
		return r, err
	}
	to, err := o.toMode()
	if err != nil {
		return r, err
	}
	o.quiet()
	r.param("pairs", o.Pairs)
	r.param("to", to)
	r.param("rate", o.rateParam())
	r.param("duration", o.Duration)
	r.transport(o.Target)
	n := 2 * o.Pairs
	peers := make([]*chatPeer, n)
	for i := range peers {
		peers[i] = &chatPeer{peer: i ^ 1, tokens: make(chan struct{}, o.window())}
		for range o.window() {
			peers[i].tokens <- struct{}{}
		}
	}
	var st msgStats
	var errs firstError
	handler := func(s *session, el *stanza.Element) {
		if el.Local == "message" {
			chatReceive(&o, peers, s.idx, el, &st)
		}
	}
	ss := loginMany(ctx, &o, seq(n), "bench", nil, nil, &errs,
		func(s *session) error { return s.conn.Send([]byte(initialPresence)) }, handler)
	defer closeAll(ss)
	if err := errs.err(); err != nil {
		return r, err
	}
	for i, s := range ss {
		peers[i].jid = s.conn.JID
	}
	o.Server.Settle(50*time.Millisecond, 3*time.Second)
	res := runSenders(ctx, &o, ss, peers, to, &st)
	r.add("sent", float64(res.sent), "")
	r.add("delivered", float64(st.delivered.Load()), "")
	r.add("lost", float64(res.sent-st.delivered.Load()), "")
	r.add("errors", float64(st.errors.Load()), "")
	r.add("skipped", float64(res.skipped), "")
	r.add("send_rate", perSecond(float64(res.sent), o.Duration), "/s")
	r.add("throughput", perSecond(float64(st.delivered.Load()), res.span), "/s")
	addLatency(&r, &st.lat)
	if d := st.delivered.Load(); d > 0 {
		r.add("server_cpu_per_message", micros(res.cpu)/float64(d), "us")
	}
	r.add("tool_cpu", res.toolBusy, "%")
	if err := deliveryError(res.sent, &st); err != nil {
		return r, err
	}
	return r, behind(res)
}

// behind reports a fixed-rate run the server could not keep up with.
func behind(res sendResult) error {
	if res.skipped == 0 {
		return nil
	}
	return fmt.Errorf("loadtest: the server fell behind the rate: %d send slots skipped (window full), %d sent",
		res.skipped, res.sent)
}

func addLatency(r *Result, h *Histogram) {
	r.addDur("p50", h.Quantile(0.50))
	r.addDur("p90", h.Quantile(0.90))
	r.addDur("p99", h.Quantile(0.99))
	r.addDur("max", h.Max())
}

func deliveryError(sent int64, st *msgStats) error {
	switch {
	case sent == 0:
		return fmt.Errorf("loadtest: no message was sent")
	case st.delivered.Load() < sent:
		return fmt.Errorf("loadtest: %d of %d messages were not delivered (%d errors)",
			sent-st.delivered.Load(), sent, st.errors.Load())
	case st.foreign.Load() > 0 || st.disorder.Load() > 0:
		return fmt.Errorf("loadtest: %d unexpected and %d out-of-order messages", st.foreign.Load(), st.disorder.Load())
	}
	return nil
}

// chatReceive accounts for one message arriving at session idx.
func chatReceive(o *Options, peers []*chatPeer, idx int, el *stanza.Element, st *msgStats) {
	now := stamp()
	if el.Attr("type") == "error" {
		st.errors.Add(1)
		return
	}
	ns, sq, ok := parseStamp(el.ChildText(stanza.NSClient, "body"))
	me := peers[idx]
	from := peers[me.peer]
	mode, _ := o.toMode() // checked by Chat
	if !ok || bareOf(el.Attr("from")) != bareOf(from.jid) || el.Attr("to") != me.address(mode) {
		st.foreign.Add(1)
		return
	}
	if prev := me.lastSeq.Swap(sq); sq <= prev {
		st.disorder.Add(1)
	}
	st.lat.Record(time.Duration(now - ns))
	me.got.Add(1)
	st.delivered.Add(1)
	st.last.Store(now)
	select {
	case from.tokens <- struct{}{}:
	default:
	}
}

type sendResult struct {
	toolBusy float64 // the tool's own CPU use while sending, % of one core
	sent     int64
	skipped  int64         // fixed rate: send slots skipped because the window was full
	span     time.Duration // first send to last delivery
	cpu      time.Duration
}

// runSenders sends for o.Duration from every session, then waits for the
// messages in flight.
func runSenders(ctx context.Context, o *Options, ss []*session, peers []*chatPeer, to string, st *msgStats) sendResult {
	prog := o.Progress.start("chat", "delivered", "sent")
	sctx, cancel := context.WithTimeout(ctx, o.Duration)
	defer cancel()
	cpu0, t0 := o.Server.CPU(), stamp()
	self0 := self.CPU()
	var sent, skipped atomic.Int64
	done := make(chan struct{})
	for i, s := range ss {
		go func() {
			defer func() { done <- struct{}{} }()
			sendLoop(sctx, o, s, peers[i], peers[peers[i].peer].address(to), len(ss), &sent, &skipped, prog)
		}()
	}
	go func() {
		for sctx.Err() == nil {
			prog.a.Store(st.delivered.Load())
			time.Sleep(100 * time.Millisecond)
		}
	}()
	for range ss {
		<-done
	}
	waitDelivered(ctx, o, sent.Load(), st, prog)
	res := sendResult{sent: sent.Load(), skipped: skipped.Load(), span: time.Duration(st.last.Load() - t0)}
	res.toolBusy = busy(self.CPU()-self0, time.Duration(stamp()-t0))
	o.Server.Settle(50*time.Millisecond, 3*time.Second)
	res.cpu = o.Server.CPU() - cpu0
	prog.a.Store(st.delivered.Load())
	prog.stop()
	return res
}

// sendLoop is one sender: paced at its share of o.Rate, or flat out
// within its window.
func sendLoop(ctx context.Context, o *Options, s *session, me *chatPeer, to string, senders int,
	sent, skipped *atomic.Int64, prog *progressState) {
	p := newPacer(o, s.idx, senders)
	var buf []byte
	for seq := int64(1); ; seq++ {
		if !p.next(ctx, me.tokens, skipped) {
			return
		}
		buf = appendMessage(buf[:0], to, "chat", seq, o.bodySize())
		if s.conn.Send(buf) != nil {
			return
		}
		me.sent.Add(1)
		sent.Add(1)
		prog.b.Add(1)
	}
}

// rateParam is how a result names the sending rate.
func (o *Options) rateParam() string {
	if o.Rate > 0 {
		return strconv.FormatFloat(o.Rate, 'f', -1, 64) + "/s"
	}
	return "flat out"
}

// pacer decides when a sender (chat or muc) may send its next message:
// at fixed intervals (its share of o.Rate) when it has room in its window,
// or, with no rate, as soon as the window has room.
type pacer struct {
	interval time.Duration
	at       time.Time
}

func newPacer(o *Options, idx, senders int) *pacer {
	p := &pacer{at: time.Now()}
	if o.Rate > 0 {
		p.interval = time.Duration(float64(senders) / o.Rate * float64(time.Second))
		p.at = p.at.Add(time.Duration(float64(p.interval) * float64(idx%97) / 97)) // spread the senders
	}
	return p
}

// next waits for the next send and takes a token from the window; it
// returns false when ctx ends. At a fixed rate a slot whose window is
// full is skipped (counted in skipped) rather than piling up a backlog on
// a server that fell behind; flat out it waits for a token.
func (p *pacer) next(ctx context.Context, tokens chan struct{}, skipped *atomic.Int64) bool {
	if p.interval == 0 {
		select {
		case <-tokens:
			return ctx.Err() == nil
		case <-ctx.Done():
			return false
		}
	}
	for {
		if d := time.Until(p.at); d > 0 {
			select {
			case <-time.After(d):
			case <-ctx.Done():
				return false
			}
		}
		p.at = p.at.Add(p.interval)
		select {
		case <-tokens:
			return ctx.Err() == nil
		default:
			skipped.Add(1)
		}
	}
}

// waitDelivered polls until everything sent has arrived or o.Drain passes.
func waitDelivered(ctx context.Context, o *Options, want int64, st *msgStats, prog *progressState) {
	end := time.Now().Add(o.drain())
	for st.delivered.Load()+st.errors.Load() < want && time.Now().Before(end) && ctx.Err() == nil {
		prog.a.Store(st.delivered.Load())
		time.Sleep(10 * time.Millisecond)
	}
}
