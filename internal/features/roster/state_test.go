package roster_test

import (
	"testing"

	"github.com/parleyim/parley/internal/features/roster"
)

// TestStateMachineInvariants checks, over every reachable state and
// type, that the transitions never produce an impossible state (From with
// Pending In, To with Pending Out) and that the pre-approval flag only
// lives without 'from'.
func TestStateMachineInvariants(t *testing.T) {
	types := []string{roster.TypeSubscribe, roster.TypeSubscribed, roster.TypeUnsubscribe, roster.TypeUnsubscribed}
	seen := map[roster.State]bool{{}: true}
	queue := []roster.State{{}}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		for _, typ := range types {
			o, _ := roster.Outbound(s, typ)
			i, _, _ := roster.Inbound(s, typ)
			for _, n := range []roster.State{o, i} {
				if n.Sub.HasFrom() && (n.PendingIn || n.Approved) {
					t.Errorf("%s %s → %s: from with pending in or pre-approval", s, typ, n)
				}
				if n.Sub.HasTo() && n.PendingOut {
					t.Errorf("%s %s → %s: to with pending out", s, typ, n)
				}
				if !seen[n] {
					seen[n] = true
					queue = append(queue, n)
				}
			}
		}
	}
	// 9 states of Appendix A.1, plus pre-approval on the 3 without from
	// or pending in that outbound 'subscribed' reaches (None, None +
	// Pending Out, To).
	if len(seen) != 12 {
		t.Errorf("%d reachable states: %v", len(seen), seen)
	}
}

func TestSubStrings(t *testing.T) {
	for _, tc := range []struct {
		s    string
		want roster.Sub
		ok   bool
	}{{"none", roster.SubNone, true}, {"to", roster.SubTo, true}, {"from", roster.SubFrom, true}, {"both", roster.SubBoth, true}, {"remove", 0, false}} {
		got, ok := roster.ParseSub(tc.s)
		if got != tc.want || ok != tc.ok || (ok && got.String() != tc.s) {
			t.Errorf("ParseSub(%q) = %v, %v", tc.s, got, ok)
		}
	}
}
