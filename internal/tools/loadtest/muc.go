package loadtest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parleyim/parley/internal/stanza"
)

// mucMember is one occupant's state.
type mucMember struct {
	room     string // room@service
	nick     string
	joined   chan struct{}
	tokens   chan struct{} // the sender's window: taken per message, returned by its echo
	persist  bool          // configure a room this member creates as persistent
	joinOnce sync.Once
	joinErr  atomic.Pointer[error]
}

func (m *mucMember) markJoined(err error) {
	m.joinOnce.Do(func() {
		if err != nil {
			m.joinErr.Store(&err)
		}
		close(m.joined)
	})
}

// MUC joins o.Rooms rooms of o.RoomSize occupants each on o.MUCService
// (XEP-0045 §7.2, creating instant rooms as needed, §10.1.2), then every
// occupant sends groupchat messages for o.Duration: at its share of
// o.Rate or, with Rate 0, flat out with o.Window messages in flight per
// sender (a message is in flight until the room reflects it back to its
// sender, XEP-0045 §7.4). It reports messages sent, deliveries (each
// message reaches every occupant, the sender included), deliveries per
// second, latency and the server's CPU per delivery.
func MUC(ctx context.Context, o Options) (Result, error) {
	r := Result{Scenario: "muc", Time: time.Now()}
	if err := o.check("rooms"); err != nil {
		return r, err
	}
	o.quiet()
	if o.MUCService == "" {
		o.MUCService = "conference." + o.Target.Domain
	}
	r.param("rooms", o.Rooms)
	r.param("room_size", o.RoomSize)
	r.param("rate", o.rateParam())
	r.param("duration", o.Duration)
	if o.PersistentRooms {
		r.param("persistent", "true")
	}
	r.transport(o.Target)
	n := o.Rooms * o.RoomSize
	members := make([]*mucMember, n)
	for i := range members {
		members[i] = &mucMember{room: "bench" + strconv.Itoa(i/o.RoomSize) + "@" + o.MUCService,
			nick: o.user(i), joined: make(chan struct{}), tokens: make(chan struct{}, o.window()), persist: o.PersistentRooms}
		for range o.window() {
			members[i].tokens <- struct{}{}
		}
	}
	var st msgStats
	var errs firstError
	handler := func(s *session, el *stanza.Element) { mucReceive(s, members[s.idx], el, &st) }
	join := func(s *session) error { return mucJoin(ctx, &o, s, members[s.idx]) }
	// The first occupant of each room creates (and unlocks) it before the
	// others join: a room being created is locked (XEP-0045 §10.1.1).
	var first, rest []int
	for i := range n {
		if i%o.RoomSize == 0 {
			first = append(first, i)
		} else {
			rest = append(rest, i)
		}
	}
	ss := append(loginMany(ctx, &o, first, "bench", nil, nil, &errs, join, handler),
		loginMany(ctx, &o, rest, "bench", nil, nil, &errs, join, handler)...)
	defer closeAll(ss)
	slices.SortFunc(ss, func(a, b *session) int { return cmpIdx(a) - cmpIdx(b) })
	if err := errs.err(); err != nil {
		return r, err
	}
	o.Server.Settle(50*time.Millisecond, 3*time.Second)
	res := runMUCSenders(ctx, &o, ss, members, &st)
	want := res.sent * int64(o.RoomSize)
	r.add("sent", float64(res.sent), "")
	r.add("deliveries", float64(st.delivered.Load()), "")
	r.add("lost", float64(want-st.delivered.Load()), "")
	r.add("errors", float64(st.errors.Load()), "")
	r.add("skipped", float64(res.skipped), "")
	r.add("delivery_rate", perSecond(float64(st.delivered.Load()), res.span), "/s")
	addLatency(&r, &st.lat)
	if d := st.delivered.Load(); d > 0 {
		r.add("server_cpu_per_delivery", micros(res.cpu)/float64(d), "us")
	}
	r.add("tool_cpu", res.toolBusy, "%")
	if st.delivered.Load() < want {
		return r, fmt.Errorf("loadtest: %d of %d room deliveries missing", want-st.delivered.Load(), want)
	}
	if res.sent == 0 {
		return r, errors.New("loadtest: no message was sent")
	}
	return r, behind(res)
}

// mucJoin sends initial presence and joins the member's room, waiting for
// the room's presence for our own nickname (XEP-0045 §7.2.3).
func mucJoin(ctx context.Context, o *Options, s *session, m *mucMember) error {
	req := initialPresence + "<presence to='" + m.room + "/" + m.nick + "'><x xmlns='" + nsMUC +
		"'><history maxstanzas='0'/></x></presence>"
	if err := s.conn.Send([]byte(req)); err != nil {
		return err
	}
	select {
	case <-m.joined:
		if p := m.joinErr.Load(); p != nil {
			return *p
		}
		return nil
	case <-s.done:
		return errors.New("stream closed while joining")
	case <-time.After(o.Target.timeout()):
		return fmt.Errorf("no answer to joining %s", m.room)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// mucReceive handles what arrives at an occupant: the join answer, the
// room-created status (answered with an instant room configuration) and
// the tool's own groupchat messages.
func mucReceive(s *session, m *mucMember, el *stanza.Element, st *msgStats) {
	switch el.Local {
	case "presence":
		if el.Attr("from") != m.room+"/"+m.nick {
			return
		}
		if el.Attr("type") == "error" {
			m.markJoined(fmt.Errorf("join %s: %s", m.room, stanzaErrorName(el)))
			return
		}
		if hasStatus(el, "201") {
			go unlockRoom(s.conn, m, m.persist)
			return
		}
		m.markJoined(nil)
	case "message":
		mucMessage(el, m, st)
	}
}

func hasStatus(el *stanza.Element, code string) bool {
	x := el.Child(nsMUCUser, "x")
	if x == nil {
		return false
	}
	for _, c := range x.ChildElements() {
		if c.Local == "status" && c.Attr("code") == code {
			return true
		}
	}
	return false
}

// unlockRoom accepts the default configuration of a room we created
// (XEP-0045 §10.1.2, instant room), made persistent when asked (§10.2).
func unlockRoom(c *Conn, m *mucMember, persistent bool) {
	ctx, cancel := context.WithTimeout(context.Background(), c.t.timeout())
	defer cancel()
	form := "<x xmlns='jabber:x:data' type='submit'/>"
	if persistent {
		form = "<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#roomconfig</value></field>" +
			"<field var='muc#roomconfig_persistentroom'><value>1</value></field></x>"
	}
	_, err := c.IQ(ctx, "set", m.room, "<query xmlns='http://jabber.org/protocol/muc#owner'>"+form+"</query>")
	m.markJoined(err)
}

func mucMessage(el *stanza.Element, m *mucMember, st *msgStats) {
	now := stamp()
	if el.Attr("type") == "error" {
		st.errors.Add(1)
		return
	}
	if el.Attr("type") != "groupchat" || bareOf(el.Attr("from")) != m.room {
		return
	}
	ns, _, ok := parseStamp(el.ChildText(stanza.NSClient, "body"))
	if !ok {
		return // the subject, or history
	}
	st.lat.Record(time.Duration(now - ns))
	st.delivered.Add(1)
	st.last.Store(now)
	if el.Attr("from") == m.room+"/"+m.nick {
		select {
		case m.tokens <- struct{}{}:
		default:
		}
	}
}

func runMUCSenders(ctx context.Context, o *Options, ss []*session, members []*mucMember, st *msgStats) sendResult {
	prog := o.Progress.start("muc", "deliveries", "sent")
	sctx, cancel := context.WithTimeout(ctx, o.Duration)
	defer cancel()
	cpu0, t0 := o.Server.CPU(), stamp()
	self0 := self.CPU()
	var sent, skipped atomic.Int64
	var wg sync.WaitGroup
	for _, s := range ss {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mucSendLoop(sctx, o, s, members[s.idx], len(ss), &sent, &skipped, prog)
		}()
	}
	wg.Wait()
	want := sent.Load() * int64(o.RoomSize)
	end := time.Now().Add(o.drain())
	for st.delivered.Load()+st.errors.Load() < want && time.Now().Before(end) && ctx.Err() == nil {
		prog.a.Store(st.delivered.Load())
		time.Sleep(10 * time.Millisecond)
	}
	res := sendResult{sent: sent.Load(), skipped: skipped.Load(), span: time.Duration(st.last.Load() - t0)}
	res.toolBusy = busy(self.CPU()-self0, time.Duration(stamp()-t0))
	o.Server.Settle(50*time.Millisecond, 3*time.Second)
	res.cpu = o.Server.CPU() - cpu0
	prog.a.Store(st.delivered.Load())
	prog.stop()
	return res
}

// mucSendLoop is one occupant sending: paced at its share of o.Rate, or
// flat out within its window.
func mucSendLoop(ctx context.Context, o *Options, s *session, m *mucMember, senders int, sent, skipped *atomic.Int64, prog *progressState) {
	p := newPacer(o, s.idx, senders)
	var buf []byte
	for seq := int64(1); ; seq++ {
		if !p.next(ctx, m.tokens, skipped) {
			return
		}
		buf = appendMessage(buf[:0], m.room, "groupchat", seq, o.bodySize())
		if s.conn.Send(buf) != nil {
			return
		}
		sent.Add(1)
		prog.b.Add(1)
	}
}

// cmpIdx orders sessions by user index, failed logins (nil) last.
func cmpIdx(s *session) int {
	if s == nil {
		return int(^uint(0) >> 1)
	}
	return s.idx
}
