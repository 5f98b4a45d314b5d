package loadtest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parleyim/parley/internal/stanza"
)

// presenceUser is one user's view of its contacts.
type presenceUser struct {
	mu         sync.Mutex
	contacts   map[string]bool // bare JIDs of the user's group
	asked      map[string]bool // subscribe sent
	subscribed map[string]bool // 'subscribed' received
	online     map[string]bool // available presence received (measured phase)
	start      time.Time       // measured phase: when this user's login began
	complete   chan struct{}
	once       sync.Once
}

func (u *presenceUser) reset() {
	u.mu.Lock()
	u.online = map[string]bool{}
	u.complete = make(chan struct{})
	u.once = sync.Once{}
	u.mu.Unlock()
}

// Presence gives o.N users (rounded down to groups of o.Contacts+1) o.Contacts
// mutual contacts each: the users of a group subscribe to each other over
// the protocol (RFC 6121 §3: subscribe, subscribed, both ways), which is
// skipped for contacts already in the roster with subscription 'both'.
// Then everyone logs out, and the measured phase logs them all in again
// (roster get, initial presence) at o.Concurrency: it reports the time
// until every user has received the available presence of all its
// contacts, per-user completion times (from the user's own login), the
// presences delivered from contacts and their rate (deliveries ÷ time from
// the first login to the last delivery: the fan-out of presence, logins
// included), and the server's CPU per login.
func Presence(ctx context.Context, o Options) (Result, error) {
	r := Result{Scenario: "presence", Time: time.Now()}
	if err := o.check("n", "contacts"); err != nil {
		return r, err
	}
	o.quiet()
	group := o.Contacts + 1
	n := o.N / group * group
	if n == 0 {
		return r, fmt.Errorf("loadtest: presence needs at least %d users for %d contacts", group, o.Contacts)
	}
	r.param("n", n)
	r.param("contacts", o.Contacts)
	r.param("concurrency", o.concurrency())
	r.transport(o.Target)
	users := make([]*presenceUser, n)
	for i := range users {
		u := &presenceUser{contacts: map[string]bool{}, asked: map[string]bool{}, subscribed: map[string]bool{}}
		for j := i / group * group; j < (i/group+1)*group; j++ {
			if j != i {
				u.contacts[o.bare(j)] = true
			}
		}
		u.reset()
		users[i] = u
	}
	if err := subscribeAll(ctx, &o, users); err != nil {
		return r, fmt.Errorf("loadtest: presence setup: %w", err)
	}
	return measurePresence(ctx, &o, users, r)
}

// subscribeAll logs everyone in and makes every pair in a group mutual
// contacts, unless the rosters already say so.
func subscribeAll(ctx context.Context, o *Options, users []*presenceUser) error {
	var errs firstError
	handler := func(s *session, el *stanza.Element) { setupReceive(o, s, users[s.idx], el) }
	var need []*session
	var mu sync.Mutex
	prelude := func(s *session) error {
		both, err := rosterBoth(ctx, s.conn)
		if err != nil {
			return fmt.Errorf("roster get: %w", err)
		}
		u := users[s.idx]
		u.mu.Lock()
		for c := range u.contacts {
			if both[c] {
				u.subscribed[c], u.asked[c] = true, true
			}
		}
		missing := len(u.subscribed) < len(u.contacts)
		u.mu.Unlock()
		if missing {
			mu.Lock()
			need = append(need, s)
			mu.Unlock()
		}
		return s.conn.Send([]byte(initialPresence))
	}
	prog := o.Progress.start("presence setup", "logged in", "")
	ss := loginMany(ctx, o, seq(len(users)), "bench", nil, prog, &errs, prelude, handler)
	prog.stop()
	defer closeAll(ss)
	if err := errs.err(); err != nil {
		return err
	}
	for _, s := range need {
		if err := askContacts(s, users[s.idx], o); err != nil {
			return err
		}
	}
	return waitSubscribed(ctx, o, users)
}

// rosterBoth returns the roster items with subscription 'both'.
func rosterBoth(ctx context.Context, c *Conn) (map[string]bool, error) {
	res, err := c.IQ(ctx, "get", "", "<query xmlns='"+nsRoster+"'/>")
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	if q := res.Child(nsRoster, "query"); q != nil {
		for _, it := range q.ChildElements() {
			if it.Attr("subscription") == "both" {
				out[it.Attr("jid")] = true
			}
		}
	}
	return out, nil
}

// askContacts adds each contact with a higher index to the roster and
// sends it a subscription request; the contact's handler answers.
func askContacts(s *session, u *presenceUser, o *Options) error {
	me := o.bare(s.idx)
	u.mu.Lock()
	var ask []string
	for c := range u.contacts {
		if !u.asked[c] && c > me {
			u.asked[c] = true
			ask = append(ask, c)
		}
	}
	u.mu.Unlock()
	for _, c := range ask {
		if err := s.conn.Send([]byte("<presence to='" + c + "' type='subscribe'/>")); err != nil {
			return err
		}
	}
	return nil
}

// setupReceive answers subscription requests from contacts (approving
// and asking back) and records approvals.
func setupReceive(o *Options, s *session, u *presenceUser, el *stanza.Element) {
	if el.Local != "presence" {
		return
	}
	from := bareOf(el.Attr("from"))
	u.mu.Lock()
	defer u.mu.Unlock()
	if !u.contacts[from] {
		return
	}
	switch el.Attr("type") {
	case "subscribe":
		out := "<presence to='" + from + "' type='subscribed'/>"
		if !u.asked[from] {
			u.asked[from] = true
			out += "<presence to='" + from + "' type='subscribe'/>"
		}
		s.conn.Send([]byte(out))
	case "subscribed":
		u.subscribed[from] = true
	}
}

func waitSubscribed(ctx context.Context, o *Options, users []*presenceUser) error {
	deadline := time.Now().Add(o.Target.timeout() + time.Duration(len(users))*200*time.Millisecond)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		missing := 0
		for _, u := range users {
			u.mu.Lock()
			missing += len(u.contacts) - len(u.subscribed)
			u.mu.Unlock()
		}
		if missing == 0 {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return errors.New("subscriptions were not all approved in time (does the server keep rosters?)")
}

// measurePresence logs everyone in again and times presence arrival.
func measurePresence(ctx context.Context, o *Options, users []*presenceUser, r Result) (Result, error) {
	o.Server.Settle(100*time.Millisecond, 5*time.Second)
	var per Histogram
	var errs firstError
	var complete, deliveries atomic.Int64
	var last, lastDelivery atomic.Int64
	handler := func(s *session, el *stanza.Element) {
		if el.Local != "presence" {
			return
		}
		fromContact, done := users[s.idx].arrived(bareOf(el.Attr("from")), el.Attr("type"), &per)
		if fromContact {
			deliveries.Add(1)
			lastDelivery.Store(stamp())
		}
		if done {
			complete.Add(1)
			last.Store(stamp())
		}
	}
	prelude := func(s *session) error {
		if _, err := rosterBoth(ctx, s.conn); err != nil {
			return err
		}
		return s.conn.Send([]byte(initialPresence))
	}
	for _, u := range users {
		u.reset()
	}
	prog := o.Progress.start("presence", "logged in", "complete")
	cpu0, t0 := o.Server.CPU(), stamp()
	ss := loginManyStamped(ctx, o, users, prog, &errs, prelude, handler)
	defer closeAll(ss)
	end := time.Now().Add(o.drain())
	for complete.Load() < int64(len(users)) && time.Now().Before(end) && ctx.Err() == nil {
		prog.b.Store(complete.Load())
		time.Sleep(10 * time.Millisecond)
	}
	o.Server.Settle(50*time.Millisecond, 3*time.Second)
	cpu := o.Server.CPU() - cpu0
	prog.b.Store(complete.Load())
	prog.stop()
	r.add("users", float64(len(users)), "")
	r.add("complete", float64(complete.Load()), "")
	r.add("failed_logins", float64(errs.n.Load()), "")
	r.addDur("time_to_all", time.Duration(last.Load()-t0))
	r.add("deliveries", float64(deliveries.Load()), "")
	r.add("delivery_rate", perSecond(float64(deliveries.Load()), time.Duration(lastDelivery.Load()-t0)), "/s")
	r.addDur("p50", per.Quantile(0.5))
	r.addDur("p99", per.Quantile(0.99))
	r.addDur("max", per.Max())
	if n := alive(ss); n > 0 {
		r.add("server_cpu_per_login", micros(cpu)/float64(n), "us")
	}
	if err := errs.err(); err != nil {
		return r, err
	}
	if c := complete.Load(); c < int64(len(users)) {
		return r, fmt.Errorf("loadtest: %d of %d users did not see all their contacts come online", int64(len(users))-c, len(users))
	}
	return r, nil
}

// arrived records a presence: fromContact says it is an available
// presence from a contact (a delivery, counted even when that contact was
// already seen); done is true once, when the last contact arrives, and
// records the user's completion time.
func (u *presenceUser) arrived(from, typ string, per *Histogram) (fromContact, done bool) {
	if typ != "" {
		return false, false
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if !u.contacts[from] {
		return false, false
	}
	if u.online[from] {
		return true, false
	}
	u.online[from] = true
	if len(u.online) < len(u.contacts) {
		return true, false
	}
	per.Record(time.Since(u.start))
	return true, true
}

// loginManyStamped is loginMany recording each user's start time first.
func loginManyStamped(ctx context.Context, o *Options, users []*presenceUser, prog *progressState,
	errs *firstError, prelude func(*session) error, handler func(*session, *stanza.Element)) []*session {
	return loginMany(ctx, o, seq(len(users)), "bench", nil, prog, errs, prelude, handler, func(i int) {
		u := users[i]
		u.mu.Lock()
		u.start = time.Now()
		u.mu.Unlock()
	})
}
