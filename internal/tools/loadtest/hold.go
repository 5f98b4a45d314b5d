package loadtest

import (
	"context"
	"fmt"
	"time"
)

// held is a connection a memory scenario (idle, unauth) keeps open.
type held interface {
	// upAfterHold reports whether the connection survived the hold: it is
	// still open and, where the protocol allows asking, answers.
	upAfterHold(ctx context.Context, o *Options) bool
	// close ends the connection and waits for its reader.
	close()
}

// holdNames names a memory scenario's metrics.
type holdNames struct {
	count   string // what is held: "sessions", "connections"
	failed  string // opening failures: "failed_logins", "failed"
	perItem string // "bytes_per_session", ...
}

// measureHold is the measurement idle and unauth share: it reads the
// server's resident memory before, opens everything with open, holds it
// for o.Duration, reads the memory again, checks what is still up, closes
// everything and reads the memory after. It adds the metrics to r and
// fails when opening failed or something did not survive the hold
// (describe says why, from the held connections).
func measureHold(ctx context.Context, o *Options, r *Result, names holdNames,
	open func(prog *progressState, errs *firstError) []held, describe func() string) error {
	var errs firstError
	o.Server.Settle(100*time.Millisecond, 2*time.Second)
	before := o.Server.RSS()
	prog := o.Progress.start(r.Scenario, names.count, "")
	hs := open(prog, &errs)
	prog.stop()
	o.Server.Settle(100*time.Millisecond, 5*time.Second)
	select {
	case <-time.After(o.Duration):
	case <-ctx.Done():
	}
	heldRSS := o.Server.RSS()
	up := countUp(ctx, o, hs)
	closeHeld(hs)
	o.Server.Settle(200*time.Millisecond, 10*time.Second)
	after := o.Server.RSS()
	opened := 0
	for _, h := range hs {
		if h != nil {
			opened++
		}
	}
	r.add(names.count, float64(opened), "")
	r.add(names.failed, float64(errs.n.Load()), "")
	r.add("up_after_hold", float64(up), "")
	r.add("rss_before", mib(before), "MiB")
	r.add("rss_held", mib(heldRSS), "MiB")
	r.add("rss_after", mib(after), "MiB")
	if up > 0 && heldRSS > 0 {
		r.add(names.perItem, float64(heldRSS-before)/float64(up), "B")
	}
	if err := errs.err(); err != nil {
		return err
	}
	if up < opened {
		why := ""
		if describe != nil {
			why = describe()
		}
		return fmt.Errorf("loadtest: %d of %d %s did not survive the hold%s", opened-up, opened, names.count, why)
	}
	return nil
}

// countUp asks every held connection whether it survived.
func countUp(ctx context.Context, o *Options, hs []held) int {
	var ok countAtomic
	forEach(ctx, len(hs), o.concurrency(), func(i int) {
		if hs[i] != nil && hs[i].upAfterHold(ctx, o) {
			ok.add()
		}
	})
	return int(ok.get())
}

func closeHeld(hs []held) {
	forEach(context.Background(), len(hs), 64, func(i int) {
		if hs[i] != nil {
			hs[i].close()
		}
	})
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }
