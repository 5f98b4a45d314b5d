package c2s

import (
	"context"
	"testing"

	"github.com/parleyim/parley/internal/metrics"
	"github.com/parleyim/parley/internal/router"
)

// QueuedBytes returns how many bytes wait in the output queue of rs, a
// client session, not yet handed to the socket.
func QueuedBytes(rs router.Session) int {
	o := &rs.(*Session).out
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.pending == nil {
		return 0
	}
	return len(*o.pending)
}

// SessionContext returns the context of rs, a client session.
func SessionContext(rs router.Session) context.Context { return &rs.(*Session).ctx }

// StreamErrorCount reads parley_stream_errors_total for cond.
func StreamErrorCount(t testing.TB, cond string) float64 {
	t.Helper()
	mfs, err := metrics.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if mf.GetName() == "parley_stream_errors_total" && l.GetValue() == cond {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// SMUnacked returns how many stanzas rs holds unacknowledged (stream
// management), or -1 without stream management.
func SMUnacked(rs router.Session) int {
	s := rs.(*Session)
	s.out.mu.Lock()
	defer s.out.mu.Unlock()
	if s.sm == nil {
		return -1
	}
	return len(s.sm.items)
}

// SMHibernated reports whether rs is waiting for a resumption.
func SMHibernated(rs router.Session) bool {
	s := rs.(*Session)
	s.closeMu.Lock()
	st := s.sm
	s.closeMu.Unlock()
	if st == nil {
		return false
	}
	st.hmu.Lock()
	defer st.hmu.Unlock()
	return st.phase == smHibernated
}

// SMInH returns the inbound count (XEP-0198 h) of rs, a client session
// with stream management.
func SMInH(rs router.Session) uint32 { return rs.(*Session).sm.inH.Load() }
