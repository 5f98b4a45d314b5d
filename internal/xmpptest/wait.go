package xmpptest

import (
	"testing"
	"time"

	"github.com/parleyim/parley/internal/jid"
)

// Eventually polls cond until it holds; the test fails when it does not
// within timeout.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, timeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// WaitGone waits until the account user (a bare JID) has no session on
// s; the test fails when one is left after timeout.
func (s *Server) WaitGone(t testing.TB, user string, timeout time.Duration) {
	t.Helper()
	bare := jid.MustParse(user)
	Eventually(t, timeout, user+"'s sessions to end", func() bool { return len(s.Router().Sessions(bare)) == 0 })
}

// Logout closes c and waits until its account has no session left on s
// (the server has seen the stream end), as a test needs before it counts
// on the account being offline.
func (s *Server) Logout(t testing.TB, c *Client, timeout time.Duration) {
	t.Helper()
	c.Close()
	s.WaitGone(t, c.JID.Bare().String(), timeout)
}
