package c2s

import (
	"context"
	"time"

	"github.com/parleyim/parley/internal/stanza"
)

// This file is what BOSH asks of a client's pace (XEP-0124 §11
// "Overactivity", §12 "Polling Sessions") and the byte rate every client
// transport has (limits.bytes_per_second).

// maxThrottle bounds how long one request is held back by the byte rate:
// beyond it the request goes on (a client that is that far over its rate
// is slowed by every later request as well).
const maxThrottle = 30 * time.Second

// throttle charges size bytes to the session's byte rate and holds the
// request back until the debt is paid: the back-pressure TCP gets from a
// reader that stops reading. It reports false if the client went away
// meanwhile.
func (t *boshTransport) throttle(ctx context.Context, size int) bool {
	if t.bucket == nil {
		return true
	}
	d := min(t.bucket.Take(size, time.Now()), maxThrottle)
	if d <= 0 {
		return true
	}
	t.b.srv.log.Debug("bosh: request held back by the byte rate", "sid", t.sid, "bytes", size, "delay", d)
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// policyLocked says why a new request (not a repeat) breaks the pace the
// session announced, or "": more requests open at once than 'requests'
// (hold+1; §11: one more is allowed to pause or terminate), or, in a
// polling session (hold=0), an empty request sooner than 'polling' after
// the previous request (§12). It records the request's arrival.
func (t *boshTransport) policyLocked(body *stanza.Element, now time.Time) string {
	last := t.lastReq
	t.lastReq = now
	ending := body.Attr("type") == "terminate" || body.Attr("pause") != ""
	if ending {
		return ""
	}
	if len(t.held)+len(t.pending) >= t.requests() {
		return "more simultaneous requests than 'requests' allows"
	}
	empty := len(body.ChildElements()) == 0 && !restartAttr(body)
	if t.hold == 0 && empty && !last.IsZero() && now.Sub(last) < t.b.cfg.Polling.D() {
		return "an empty request sooner than 'polling' after the previous one"
	}
	return ""
}
