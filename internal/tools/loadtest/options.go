package loadtest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parleyim/parley/internal/stanza"
)

// epoch is the zero of the timestamps the tool puts in messages: every
// stamp is time.Since(epoch), read from the monotonic clock of this one
// process, so sender and receiver agree.
var epoch = time.Now()

func stamp() int64 { return int64(time.Since(epoch)) }

// Options are the parameters of a scenario run.
type Options struct {
	Target *Target
	// Users are named Prefix0, Prefix1, ... with one Password.
	Prefix   string
	Password string
	// N is the number of accounts (register, login, idle, presence).
	N int
	// Concurrency is the number of logins (or registrations) in flight.
	Concurrency int
	// UnauthMode is the state unauth leaves its connections in (one of
	// UnauthModes; default UnauthHeader).
	UnauthMode string
	// Duration is how long idle and unauth hold their connections and
	// chat and muc send.
	Duration time.Duration
	// Rate is the total messages per second chat and muc send; 0 is flat
	// out, limited by Window messages in flight per sender.
	Rate   float64
	Window int
	// Pairs is the number of chatting pairs.
	Pairs int
	// To is how chat addresses its messages: ToBare (the default, as
	// clients mostly do) or ToFull (the peer's bound resource).
	To string
	// Rooms of RoomSize occupants each, on the MUC service MUCService.
	Rooms, RoomSize int
	MUCService      string
	// PersistentRooms configures the rooms muc creates as persistent
	// (muc#roomconfig_persistentroom), which Parley archives (XEP-0313).
	PersistentRooms bool
	// Contacts is the number of mutual contacts each user has (presence).
	Contacts int
	// BodySize pads message bodies to about this many bytes.
	BodySize int
	// Server is the server's process, for CPU and memory; zero PID skips.
	Server Proc
	// Progress prints a status line while running; nil prints nothing.
	Progress *Progress
	// Drain is how long to wait for messages in flight after sending
	// stops (default 10 s).
	Drain time.Duration
	// SM makes idle enable stream management (XEP-0198) with resumption
	// on each session and answer the server's ack requests.
	SM bool
}

func (o *Options) user(i int) string {
	p := o.Prefix
	if p == "" {
		p = "bench"
	}
	return p + strconv.Itoa(i)
}

func (o *Options) password() string {
	if o.Password == "" {
		return "bench-password"
	}
	return o.Password
}

func (o *Options) concurrency() int {
	if o.Concurrency <= 0 {
		return 50
	}
	return o.Concurrency
}

func (o *Options) drain() time.Duration {
	if o.Drain <= 0 {
		return 10 * time.Second
	}
	return o.Drain
}

func (o *Options) bare(i int) string { return o.user(i) + "@" + o.Target.Domain }

func (o *Options) check(need ...string) error {
	if o.Target == nil || o.Target.Addr == "" || o.Target.Domain == "" {
		return errors.New("loadtest: target address and domain are required")
	}
	for _, n := range need {
		var v int
		switch n {
		case "n":
			v = o.N
		case "pairs":
			v = o.Pairs
		case "rooms":
			v = o.Rooms * o.RoomSize
		case "contacts":
			v = o.Contacts
		}
		if v <= 0 {
			return fmt.Errorf("loadtest: %s must be positive", n)
		}
	}
	return nil
}

// firstError remembers the first of many errors and counts them all.
type firstError struct {
	mu    sync.Mutex
	first error
	n     atomic.Int64
}

func (f *firstError) add(err error) {
	f.n.Add(1)
	f.mu.Lock()
	if f.first == nil {
		f.first = err
	}
	f.mu.Unlock()
}

func (f *firstError) err() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.first == nil {
		return nil
	}
	return fmt.Errorf("%d failed, first: %w", f.n.Load(), f.first)
}

// forEach runs fn(i) for i in [0, n) with c workers, stopping early when
// ctx ends.
func forEach(ctx context.Context, n, c int, fn func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(c, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				fn(i)
			}
		}()
	}
	wg.Wait()
}

// session is a logged-in client of a scenario.
type session struct {
	idx  int
	h    atomic.Uint32 // stanzas received that Serve passed on (stream management's h)
	conn *Conn
	done chan struct{} // closed when Serve returns
	err  error         // what ended Serve (read after done)
}

// serve starts reading the session's stream with h.
func (s *session) serve(h func(s *session, el *stanza.Element)) {
	s.done = make(chan struct{})
	go func() {
		defer close(s.done)
		s.err = s.conn.Serve(func(e *stanza.Element) { h(s, e) })
	}()
}

// up reports whether the stream is still being read.
func (s *session) up() bool {
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

// loginMany logs in the users idx[k] with o's concurrency, recording the
// latency of each login (TCP connect to bind result) in h; after binding,
// prelude (if any) runs, then Serve starts with handler. Failed logins are
// counted in errs and leave a nil entry.
func loginMany(ctx context.Context, o *Options, idx []int, resource string, h *Histogram,
	prog *progressState, errs *firstError, prelude func(*session) error,
	handler func(*session, *stanza.Element), before ...func(i int)) []*session {
	out := make([]*session, len(idx))
	forEach(ctx, len(idx), o.concurrency(), func(k int) {
		for _, b := range before {
			b(idx[k])
		}
		t0 := time.Now()
		c, err := o.Target.Login(ctx, o.user(idx[k]), o.password(), resource)
		if err != nil {
			errs.add(err)
			return
		}
		if h != nil {
			h.Record(time.Since(t0))
		}
		s := &session{idx: idx[k], conn: c}
		s.serve(handler)
		if prelude != nil {
			if err := prelude(s); err != nil {
				errs.add(fmt.Errorf("%s: %w", o.user(idx[k]), err))
				c.Abort()
				return
			}
		}
		out[k] = s
		if prog != nil {
			prog.a.Add(1)
		}
	})
	return out
}

// closeAll ends every session's stream and waits for the readers.
func closeAll(ss []*session) {
	forEach(context.Background(), len(ss), 64, func(i int) {
		if s := ss[i]; s != nil {
			s.close()
		}
	})
}

func alive(ss []*session) int {
	n := 0
	for _, s := range ss {
		if s != nil {
			n++
		}
	}
	return n
}

func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

func perSecond(n float64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return n / d.Seconds()
}

func micros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

type countAtomic struct{ v atomic.Int64 }

func (c *countAtomic) add()       { c.v.Add(1) }
func (c *countAtomic) get() int64 { return c.v.Load() }

// quiet waits (up to a minute) until the server has finished the work an
// earlier run gave it, so that no backlog spills into this measurement.
func (o *Options) quiet() { o.Server.Settle(200*time.Millisecond, time.Minute) }
