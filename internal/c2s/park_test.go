package c2s_test

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/metrics"
	"github.com/parleyim/parley/internal/xmpptest"
)

// parkQuickly parks connections after 50 ms of silence.
func parkQuickly(c *config.Config) { c.C2S.ParkAfter = config.Duration(50 * time.Millisecond) }

// parked reads the parked-connections gauge (process-wide: these tests do
// not run in parallel with others of this package).
func parked(t *testing.T) float64 {
	t.Helper()
	mfs, err := metrics.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "parley_c2s_parked_connections" {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatal("no parley_c2s_parked_connections metric")
	return 0
}

// waitParked polls until at least n connections are parked.
func waitParked(t *testing.T, n float64) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for parked(t) < n {
		if time.Now().After(deadline) {
			t.Fatalf("parked connections: %v, want at least %v", parked(t), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestParkedSessionsKeepWorking: idle sessions park, and a parked session
// still receives stanzas, wakes up for what its client sends (also a stanza
// split across the park), and is closed cleanly by a shutdown.
func TestParkedSessionsKeepWorking(t *testing.T) {
	srv := xmpptest.Start(t, parkQuickly)
	srv.AddUser(t, "alice@localhost", "pw")
	srv.AddUser(t, "bob@localhost", "pw")
	before := parked(t)
	alice := srv.Dial(t, "alice@localhost", "pw", xmpptest.DialOptions{})
	bob := srv.Raw(t)
	bob.Login(srv.TLSConfig(t, "localhost"), "bob", "localhost", "pw", "phone")
	waitParked(t, before+2)

	// Delivery to a parked session needs no reading goroutine.
	alice.Send(t, `<message to='bob@localhost/phone' type='chat'><body>to the parked</body></message>`)
	bob.ReadUntil("to the parked", wait)

	// A stanza split by a park: the first half is read, the connection
	// parks with it buffered, the second half wakes it.
	waitParked(t, before+2)
	bob.Write(`<message to='` + alice.JID.String() + `' type='chat'><bo`)
	time.Sleep(200 * time.Millisecond) // well past park_after: the session parks mid-stanza
	waitParked(t, before+2)
	bob.Write(`dy>split across a park</body></message>`)
	alice.Expect(t, wait, "the split message", isChat("split across a park"))

	// Parked again, the client's iq wakes it.
	waitParked(t, before+2)
	bob.Write(`<iq type='get' id='wake1' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`)
	if out := bob.ReadUntil(`"wake1" type="result"`, wait); out == "" {
		t.Fatalf("ping from a parked session: %q", out)
	}
}

// TestParkedShutdown: a server shutting down closes parked sessions with
// system-shutdown and does not wait for them to time out.
func TestParkedShutdown(t *testing.T) {
	srv := xmpptest.Start(t, parkQuickly)
	srv.AddUser(t, "bob@localhost", "pw")
	before := parked(t)
	bob := srv.Raw(t)
	bob.Login(srv.TLSConfig(t, "localhost"), "bob", "localhost", "pw", "phone")
	silent := srv.Raw(t) // connected, never sent a byte: parked since accept
	waitParked(t, before+2)
	done := make(chan error, 1)
	go func() { done <- srv.Shutdown(t.Context()) }()
	if out, closed := bob.ReadToEOF(wait); !strings.Contains(out, "system-shutdown") {
		t.Fatalf("parked bound session at shutdown: closed=%v %q", closed, out)
	}
	if _, closed := silent.ReadToEOF(wait); !closed {
		t.Fatal("a parked silent connection was not closed at shutdown")
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("shutdown: %v", err)
		}
	case <-time.After(wait):
		t.Fatal("shutdown waited for parked sessions")
	}
}

var pingID = regexp.MustCompile(`id=['"]([^'"]+)['"]`)

// TestParkedTimers: the idle timer of a parked connection does what the
// blocked reader used to do: pre-auth timeouts, pings, ping timeouts.
func TestParkedTimers(t *testing.T) {
	srv := xmpptest.Start(t, parkQuickly, func(c *config.Config) {
		c.Limits.PreAuthTimeout = config.Duration(400 * time.Millisecond)
		c.C2S.PingInterval = config.Duration(300 * time.Millisecond)
		c.C2S.PingTimeout = config.Duration(300 * time.Millisecond)
	})
	srv.AddUser(t, "bob@localhost", "pw")
	t.Run("silent connection times out", func(t *testing.T) {
		r := srv.Raw(t)
		if out, closed := r.ReadToEOF(wait); !closed || !strings.Contains(out, "connection-timeout") {
			t.Fatalf("closed=%v %q", closed, out)
		}
	})
	t.Run("silent after the header times out", func(t *testing.T) {
		r := srv.Raw(t)
		r.Open("localhost")
		if out, closed := r.ReadToEOF(wait); !closed || !strings.Contains(out, "connection-timeout") {
			t.Fatalf("closed=%v %q", closed, out)
		}
	})
	t.Run("silent on direct TLS is dropped without a handshake", func(t *testing.T) {
		r := srv.RawAt(t, srv.Addr("c2s-tls"))
		if out, closed := r.ReadToEOF(wait); !closed || out != "" {
			t.Fatalf("closed=%v %q", closed, out)
		}
	})
	t.Run("parked session is pinged and survives by answering", func(t *testing.T) {
		r := srv.Raw(t)
		r.Login(srv.TLSConfig(t, "localhost"), "bob", "localhost", "pw", "idle")
		for i := range 2 {
			out := r.ReadUntil("</iq>", wait)
			if !strings.Contains(out, "urn:xmpp:ping") {
				t.Fatalf("ping %d: %q", i, out)
			}
			m := pingID.FindStringSubmatch(out)
			if m == nil {
				t.Fatalf("ping %d without an id: %q", i, out)
			}
			id := m[1]
			r.Write(`<iq type='result' id='` + id + `' to='localhost'/>`)
		}
		// The third ping goes unanswered: the stream ends.
		if out, closed := r.ReadToEOF(wait); !closed || !strings.Contains(out, "connection-timeout") {
			t.Fatalf("unanswered ping: closed=%v %q", closed, out)
		}
	})
}

// TestParkingOff: with c2s.park_after = 0 nothing parks, and silent
// sessions still get their messages and answer.
func TestParkingOff(t *testing.T) {
	srv := xmpptest.Start(t, func(c *config.Config) { c.C2S.ParkAfter = 0 })
	srv.AddUser(t, "alice@localhost", "pw")
	srv.AddUser(t, "bob@localhost", "pw")
	before := parked(t)
	alice := srv.Dial(t, "alice@localhost", "pw", xmpptest.DialOptions{})
	bob := srv.Raw(t)
	bob.Login(srv.TLSConfig(t, "localhost"), "bob", "localhost", "pw", "phone")
	time.Sleep(300 * time.Millisecond) // silent for a while: nothing may park
	if got := parked(t); got != before {
		t.Fatalf("parked connections went from %v to %v with parking off", before, got)
	}
	alice.Send(t, `<message to='bob@localhost/phone' type='chat'><body>not parked</body></message>`)
	bob.ReadUntil("not parked", wait)
	bob.Write(`<iq type='get' id='off1' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`)
	bob.ReadUntil(`"off1" type="result"`, wait)
}

// TestManyMessagesWithPauses: a sender writes many small messages with
// random pauses, some shorter and some longer than park_after, so that its
// session reads on, parks and wakes in every order; each message arrives,
// in order (no wake-up is lost).
func TestManyMessagesWithPauses(t *testing.T) {
	srv := xmpptest.Start(t, parkQuickly)
	srv.AddUser(t, "alice@localhost", "pw")
	srv.AddUser(t, "bob@localhost", "pw")
	tlsCfg := srv.TLSConfig(t, "localhost")
	alice := srv.Raw(t)
	alice.Login(tlsCfg, "alice", "localhost", "pw", "desk")
	bob := srv.Raw(t)
	bob.Login(tlsCfg, "bob", "localhost", "pw", "phone")
	bob.Write("<presence/>") // available: messages to the bare JID reach it
	bob.ReadUntil("<presence", wait)

	const n = 150
	lastBody := fmt.Sprintf("<body>m%d</body>", n-1)
	done := make(chan string, 1)
	go func() { // bob's client reads everything (Raw's helpers may not fail the test off its goroutine)
		var got strings.Builder
		buf := make([]byte, 4096)
		bob.Conn.SetReadDeadline(time.Now().Add(4 * wait))
		for !strings.Contains(got.String(), lastBody) {
			k, err := bob.Conn.Read(buf)
			got.Write(buf[:k])
			if err != nil {
				break
			}
		}
		done <- got.String()
	}()
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range n {
		alice.Write(fmt.Sprintf(`<message to='bob@localhost' type='chat'><body>m%d</body></message>`, i))
		switch r := rng.IntN(10); {
		case r < 6: // back to back
		case r < 8:
			time.Sleep(time.Duration(rng.IntN(30)) * time.Millisecond) // within park_after
		default:
			time.Sleep(time.Duration(40+rng.IntN(300)) * time.Millisecond) // past park_after
		}
	}
	out := <-done
	last := -1
	for i := range n {
		at := strings.Index(out, fmt.Sprintf("<body>m%d</body>", i))
		if at < 0 {
			t.Fatalf("message m%d never arrived (%d bytes received)", i, len(out))
		}
		if at < last {
			t.Fatalf("message m%d arrived out of order", i)
		}
		last = at
	}
}
