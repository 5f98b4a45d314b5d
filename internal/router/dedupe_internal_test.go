package router

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/jid"
)

var (
	alice = jid.MustParse("alice@localhost")
	bob   = jid.MustParse("bob@localhost")
	carol = jid.MustParse("carol@localhost")
)

// fakeClock is a settable time for the window.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func newTestDedupe() (*dedupe, *fakeClock) {
	d := newDedupe(0)
	c := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	d.now = c.now
	return d, c
}

// route claims and completes one message; it reports whether it was
// routed (not a duplicate).
func route(t *testing.T, d *dedupe, from, to jid.JID, oid string, ok bool) bool {
	t.Helper()
	dup, done := d.claim(context.Background(), from, to, oid)
	if dup {
		return false
	}
	done(ok)
	return true
}

func TestDedupeKey(t *testing.T) {
	d, _ := newTestDedupe()
	if !route(t, d, alice, bob, "x", true) {
		t.Fatal("first copy dropped")
	}
	if route(t, d, alice, bob, "x", true) {
		t.Error("resend routed again")
	}
	for _, c := range []struct {
		from, to jid.JID
		oid      string
	}{{alice, carol, "x"}, {carol, bob, "x"}, {alice, bob, "y"}, {alice, jid.MustParse("bob@localhost/phone"), "x"}} {
		if !route(t, d, c.from, c.to, c.oid, true) {
			t.Errorf("%s → %s %q dropped, but it is another message", c.from, c.to, c.oid)
		}
	}
}

func TestDedupeFailedFirstCopy(t *testing.T) {
	d, _ := newTestDedupe()
	route(t, d, alice, bob, "x", false) // bounced: the resend must go through
	if !route(t, d, alice, bob, "x", true) {
		t.Fatal("the resend of a message that failed was dropped")
	}
	if route(t, d, alice, bob, "x", true) {
		t.Error("a second resend of the delivered copy was routed")
	}
}

func TestDedupeWindow(t *testing.T) {
	d, c := newTestDedupe()
	route(t, d, alice, bob, "x", true)
	c.t = c.t.Add(dedupeMinWindow - time.Second)
	if route(t, d, alice, bob, "x", true) {
		t.Fatal("resend within the window routed")
	}
	c.t = c.t.Add(2 * time.Second)
	if !route(t, d, alice, bob, "x", true) {
		t.Fatal("a message past the window dropped")
	}
	if w := newDedupe(time.Hour).window; w != time.Hour {
		t.Errorf("window %v, want the hour asked for", w)
	}
}

func TestDedupeBounds(t *testing.T) {
	d, _ := newTestDedupe()
	for i := range dedupeSlots + 1 {
		route(t, d, alice, bob, fmt.Sprint(i), true)
	}
	if !route(t, d, alice, bob, "0", true) {
		t.Error("the oldest of more than dedupeSlots ids is still remembered: the ring is not bounded")
	}
	if route(t, d, alice, bob, fmt.Sprint(dedupeSlots), true) {
		t.Error("the newest id was forgotten")
	}
	for i := range dedupeSenders {
		route(t, d, jid.MustParse(fmt.Sprintf("u%d@localhost", i)), bob, "z", true)
	}
	if n := len(d.senders); n != dedupeSenders || d.lru.Len() != n {
		t.Fatalf("%d senders remembered (lru %d), want the bound %d", n, d.lru.Len(), dedupeSenders)
	}
	if _, ok := d.senders[alice]; ok {
		t.Error("the least recently active sender was not forgotten")
	}
}

// TestDedupeConcurrentResend: a resend that arrives while the first copy
// is being routed waits for its outcome: dropped when it went through,
// routed when it failed, routed when the resend's context ends first.
func TestDedupeConcurrentResend(t *testing.T) {
	for _, firstOK := range []bool{true, false} {
		d, _ := newTestDedupe()
		_, done := d.claim(context.Background(), alice, bob, "x")
		res := make(chan bool)
		go func() {
			dup, done2 := d.claim(context.Background(), alice, bob, "x")
			if !dup {
				done2(true)
			}
			res <- dup
		}()
		done(firstOK)
		if dup := <-res; dup != firstOK {
			t.Errorf("first copy ok=%v: resend dropped=%v", firstOK, dup)
		}
	}
	d, _ := newTestDedupe()
	d.claim(context.Background(), alice, bob, "x") // never finishes
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if dup, _ := d.claim(ctx, alice, bob, "x"); dup {
		t.Error("a resend whose context ended was dropped while the first copy's outcome is unknown")
	}
}
