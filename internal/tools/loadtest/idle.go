package loadtest

import (
	"context"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/parleyim/parley/internal/stanza"
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
	if o.SM {
		r.param("sm", true)
	}
	names := holdNames{count: "sessions", failed: "failed_logins", perItem: "bytes_per_session"}
	var enabled atomic.Int64
	handler := ignore
	if o.SM {
		handler = func(s *session, el *stanza.Element) { smIdle(s, el, &enabled) }
	}
	err := measureHold(ctx, &o, &r, names, func(prog *progressState, errs *firstError) []held {
		ss := loginMany(ctx, &o, seq(o.N), "", nil, prog, errs, func(s *session) error {
			if o.SM {
				if err := s.conn.Send([]byte("<enable xmlns='" + nsSM + "' resume='true'/>")); err != nil {
					return err
				}
			}
			return s.conn.Send([]byte(initialPresence))
		}, handler)
		hs := make([]held, len(ss))
		for i, s := range ss {
			if s != nil {
				hs[i] = s
			}
		}
		return hs
	}, func() string { return " (no answer to a ping)" })
	if o.SM {
		r.add("sm_enabled", float64(enabled.Load()), "")
	}
	return r, err
}

// smIdle is an idle session's stream management: it counts the stanzas
// it receives and answers the server's <r/> with them.
func smIdle(s *session, el *stanza.Element, enabled *atomic.Int64) {
	switch {
	case el.Space == nsSM && el.Local == "enabled":
		enabled.Add(1)
	case el.Space == nsSM && el.Local == "r":
		s.conn.Send([]byte("<a xmlns='" + nsSM + "' h='" + strconv.FormatUint(uint64(s.h.Load()), 10) + "'/>"))
	case el.Local == "message" || el.Local == "presence" || el.Local == "iq":
		s.h.Add(1)
	}
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
