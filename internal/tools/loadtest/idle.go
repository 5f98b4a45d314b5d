package loadtest

import (
	"context"
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
	r.transport(o.Target)
	names := holdNames{count: "sessions", failed: "failed_logins", perItem: "bytes_per_session"}
	err := measureHold(ctx, &o, &r, names, func(prog *progressState, errs *firstError) []held {
		ss := loginMany(ctx, &o, seq(o.N), "", nil, prog, errs,
			func(s *session) error { return s.conn.Send([]byte(initialPresence)) }, ignore)
		hs := make([]held, len(ss))
		for i, s := range ss {
			if s != nil {
				hs[i] = s
			}
		}
		return hs
	}, func() string { return " (no answer to a ping)" })
	return r, err
}

// upAfterHold pings the server on the session (XEP-0199).
func (s *session) upAfterHold(ctx context.Context, o *Options) bool {
	if !s.up() {
		return false
	}
	pctx, cancel := context.WithTimeout(ctx, o.Target.timeout())
	defer cancel()
	return s.conn.Ping(pctx) == nil
}

// close ends the session's stream and waits for its reader.
func (s *session) close() {
	s.conn.Close()
	<-s.done
}
