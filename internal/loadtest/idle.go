package loadtest

import (
	"context"
	"fmt"
	"time"
)

// Idle logs in o.N sessions (with initial presence), holds them for
// o.Duration, then pings each one through the server. It reports how many
// stayed up, the server's resident memory before, while holding and after
// closing, and the memory per session.
func Idle(ctx context.Context, o Options) (Result, error) {
	r := Result{Scenario: "idle", Time: time.Now()}
	if err := o.check("n"); err != nil {
		return r, err
	}
	o.quiet()
	r.param("n", o.N)
	r.param("hold", o.Duration)
	r.param("starttls", o.Target.StartTLS)
	var errs firstError
	o.Server.Settle(100*time.Millisecond, 2*time.Second)
	before := o.Server.RSS()
	prog := o.Progress.start("idle", "sessions", "")
	ss := loginMany(ctx, &o, seq(o.N), "", nil, prog, &errs,
		func(s *session) error { return s.conn.Send([]byte(initialPresence)) }, ignore)
	prog.stop()
	o.Server.Settle(100*time.Millisecond, 5*time.Second)
	select {
	case <-time.After(o.Duration):
	case <-ctx.Done():
	}
	held := o.Server.RSS()
	up := pingAll(ctx, &o, ss)
	closeAll(ss)
	o.Server.Settle(200*time.Millisecond, 10*time.Second)
	after := o.Server.RSS()
	r.add("sessions", float64(alive(ss)), "")
	r.add("failed_logins", float64(errs.n.Load()), "")
	r.add("up_after_hold", float64(up), "")
	r.add("rss_before", mib(before), "MiB")
	r.add("rss_held", mib(held), "MiB")
	r.add("rss_after", mib(after), "MiB")
	if up > 0 && held > 0 {
		r.add("bytes_per_session", float64(held-before)/float64(up), "B")
	}
	if err := errs.err(); err != nil {
		return r, err
	}
	if up < alive(ss) {
		return r, fmt.Errorf("loadtest: %d of %d sessions did not answer a ping after the hold", alive(ss)-up, alive(ss))
	}
	return r, nil
}

// pingAll pings the server on every live session and counts the answers.
func pingAll(ctx context.Context, o *Options, ss []*session) int {
	var ok countAtomic
	forEach(ctx, len(ss), o.concurrency(), func(i int) {
		s := ss[i]
		if s == nil || !s.up() {
			return
		}
		pctx, cancel := context.WithTimeout(ctx, o.Target.timeout())
		defer cancel()
		if s.conn.Ping(pctx) == nil {
			ok.add()
		}
	})
	return int(ok.get())
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }
