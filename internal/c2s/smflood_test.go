package c2s_test

import (
	"testing"
	"time"

	"github.com/parleyim/parley/internal/c2s"
	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/xmpptest"
)

// offlineFlood starts a server whose sm.max_unacked is 6 and queues n
// messages (bodies prefix0…) from alice for bob, who is offline.
func offlineFlood(t *testing.T, prefix string, n int) (*xmpptest.Server, []string) {
	t.Helper()
	srv := smServer(t, func(c *config.Config) { c.SM.MaxUnacked = 6; c.SM.RequestAckAfter = 6 })
	alice := srv.SMLogin(t, "alice", "localhost", "pw", "desk")
	alice.Enable(false, 0)
	want := names(prefix, 0, n)
	for _, b := range want {
		alice.Send(chat("bob@localhost", b))
	}
	if h := alice.RequestAck(60*time.Second, nil); h != uint32(n) {
		t.Fatalf("alice's h=%d, want %d", h, n)
	}
	return srv, want
}

// waitFlood is waitBodies with a deadline for a paced flood: one round
// trip and one storage commit per window of three, slow on a loaded
// machine.
func waitFlood(t *testing.T, c *xmpptest.SMClient, got bodies, want []string) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for !hasAll(got, want) {
		st, err := c.Next(time.Until(deadline))
		if err != nil {
			t.Fatalf("waiting for the flood: %v; got %d of %d", err, len(got), len(want))
		}
		got.keep(st)
	}
}

// TestSMOfflineFloodPaced: an offline queue much longer than
// sm.max_unacked reaches a client with stream management in full, paced
// by its acks: the session is not ended as a slow consumer, nothing is
// lost or doubled, and the queue is empty afterwards.
func TestSMOfflineFloodPaced(t *testing.T) {
	srv, want := offlineFlood(t, "f", 30)
	bob := srv.SMLogin(t, "bob", "localhost", "pw", "phone")
	bob.Enable(true, 0)
	bob.Send("<presence/>")
	sess := onlySession(t, srv, "bob@localhost")
	got := bodies{}
	waitFlood(t, bob, got, want)
	syncIQ(t, bob, got.keep)
	exactlyOnce(t, got, want)
	if s := srv.Router().Session(jid.MustParse("bob@localhost/phone")); s != sess {
		t.Fatal("the session did not survive the offline flood")
	}
	// Nothing is left stored: a second resource logging in gets nothing.
	other := srv.SMLogin(t, "bob", "localhost", "pw", "laptop")
	other.Send("<presence/>")
	again := bodies{}
	syncIQ(t, other, again.keep)
	if len(again) != 0 {
		t.Fatalf("the offline queue still held %v", again)
	}
}

// TestSMOfflineFloodResumed: a client whose connection drops in the middle
// of a paced offline flood resumes and gets the rest, each message once.
func TestSMOfflineFloodResumed(t *testing.T) {
	srv, want := offlineFlood(t, "r", 30)
	bob := srv.SMLogin(t, "bob", "localhost", "pw", "phone")
	en := bob.Enable(true, 0)
	bob.Send("<presence/>")
	got := bodies{}
	waitBodies(t, bob, got, names("r", 0, 3)) // in the middle of the flood
	sess := onlySession(t, srv, "bob@localhost")
	bob.Kill()
	pollUntil(t, "hibernation", func() bool { return c2s.SMHibernated(sess) })
	for { // what the old client read before the reset
		st, err := bob.Next(5 * time.Second)
		if err != nil {
			break
		}
		got.keep(st)
	}
	back := srv.SMLogin(t, "bob", "localhost", "pw", "-")
	if r := back.Resume(en.Attr("id"), bob.H()); r.XMLName.Local != "resumed" {
		t.Fatalf("resume: %+v", r)
	}
	waitFlood(t, back, got, want)
	syncIQ(t, back, got.keep)
	exactlyOnce(t, got, want)
}
