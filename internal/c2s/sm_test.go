package c2s_test

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/c2s"
	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/xmpptest"
)

// The XEP-0198 tests run the raw-XML client of internal/xmpptest
// (SMClient) against a real server over TCP and TLS.

func smServer(t *testing.T, opts ...xmpptest.Option) *xmpptest.Server {
	t.Helper()
	srv := xmpptest.Start(t, opts...)
	for _, u := range []string{"alice", "bob", "carol"} {
		srv.AddUser(t, u+"@localhost", "pw")
	}
	return srv
}

func chat(to, body string) string {
	return `<message to='` + to + `' type='chat' id='` + body + `'><body>` + body + `</body></message>`
}

// bodies collects the bodies of received messages.
type bodies map[string]int

func (b bodies) keep(st xmpptest.Stanza) {
	if st.XMLName.Local != "message" {
		return
	}
	if i := strings.Index(st.Inner, "<body>"); i >= 0 {
		rest := st.Inner[i+len("<body>"):]
		b[rest[:strings.Index(rest, "<")]]++
	}
}

// waitBodies reads c until every body in want arrived (or fails).
func waitBodies(t *testing.T, c *xmpptest.SMClient, got bodies, want []string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !hasAll(got, want) {
		st, err := c.Next(time.Until(deadline))
		if err != nil {
			t.Fatalf("waiting for %v: %v; got %v", want, err, got)
		}
		got.keep(st)
	}
}

func hasAll(got bodies, want []string) bool {
	for _, w := range want {
		if got[w] == 0 {
			return false
		}
	}
	return true
}

// exactlyOnce fails unless got holds each of want once and nothing else.
func exactlyOnce(t *testing.T, got bodies, want []string) {
	t.Helper()
	for _, w := range want {
		if got[w] != 1 {
			t.Errorf("message %q received %d times, want once", w, got[w])
		}
	}
	if len(got) != len(want) {
		var extra []string
		for k := range got {
			extra = append(extra, k)
		}
		sort.Strings(extra)
		t.Errorf("received %d distinct messages %v, want %d", len(got), extra, len(want))
	}
}

func names(prefix string, from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprintf("%s%d", prefix, i))
	}
	return out
}

// pollUntil waits for cond (no sleeping for synchronisation beyond a poll).
func pollUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestSMFeatureAndEnable(t *testing.T) {
	srv := smServer(t, func(c *config.Config) { c.SM.Location = "xmpp.example.net:5222" })
	r := srv.Raw(t)
	r.Open("localhost")
	r.StartTLS(srv.TLSConfig(t, "localhost"), "localhost")
	r.Plain("", "alice", "pw")
	if f := r.Open("localhost"); !strings.Contains(f, "<sm xmlns='urn:xmpp:sm:3'") && !strings.Contains(f, `<sm xmlns="urn:xmpp:sm:3"`) {
		t.Fatalf("no <sm/> in the features after authentication: %s", f)
	}

	// <enable/> before binding is unexpected-request (XEP-0198 §3).
	c := srv.SMLogin(t, "alice", "localhost", "pw", "-")
	if st := c.Enable(true, 0); st.XMLName.Local != "failed" || !strings.Contains(st.Inner, "unexpected-request") {
		t.Fatalf("enable before bind: %s, want <failed><unexpected-request/>", st.Inner)
	}

	c = srv.SMLogin(t, "alice", "localhost", "pw", "phone")
	st := c.Enable(true, 60)
	if st.XMLName.Local != "enabled" || c.ID == "" || st.Attr("resume") != "true" {
		t.Fatalf("enable: %s", st.Inner)
	}
	if c.Max != "60" || c.Location != "xmpp.example.net:5222" {
		t.Errorf("max=%q location=%q, want the client's smaller max 60 and the configured location", c.Max, c.Location)
	}
	if st := c.Enable(true, 0); st.XMLName.Local != "failed" || !strings.Contains(st.Inner, "unexpected-request") {
		t.Fatalf("second enable: %s, want <failed><unexpected-request/>", st.Inner)
	}

	// The server's max is the bound: a larger client max gets it.
	d := srv.SMLogin(t, "alice", "localhost", "pw", "tablet")
	d.Enable(true, 100000)
	if want := fmt.Sprint(int(srv.Config.SM.ResumeWindow.D() / time.Second)); d.Max != want {
		t.Errorf("max=%q for a client asking 100000, want the server's %s", d.Max, want)
	}
}

// TestSMAckCounting: both counters, both ways. The server's h counts the
// client's stanzas; its <r/> comes after sm.request_ack_after stanzas and
// the queue empties as the client acknowledges.
func TestSMAckCounting(t *testing.T) {
	srv := smServer(t)
	alice := srv.SMLogin(t, "alice", "localhost", "pw", "phone")
	alice.SetAutoAck(false)
	alice.Enable(false, 0)
	bob := srv.SMLogin(t, "bob", "localhost", "pw", "desk")
	bob.Enable(false, 0)

	for i := range 3 {
		alice.Send(chat("bob@localhost/desk", fmt.Sprint("a", i)))
	}
	alice.Send(`<iq type='get' id='v1' to='localhost'><query xmlns='jabber:iq:version'/></iq>`)
	if h := alice.RequestAck(5*time.Second, nil); h != 4 {
		t.Fatalf("server's h after 4 stanzas = %d", h)
	}
	got := bodies{}
	waitBodies(t, bob, got, names("a", 0, 3))

	// Server to client: bob sends alice 7 messages; after 5 unacknowledged
	// the server asks (<r/>) once.
	for i := range 7 {
		bob.Send(chat("alice@localhost/phone", fmt.Sprint("b", i)))
	}
	ga := bodies{}
	sawR := 0
	deadline := time.Now().Add(10 * time.Second)
	for len(ga) < 7 {
		st, err := alice.Next(time.Until(deadline))
		if err != nil {
			t.Fatalf("alice: %v (got %v)", err, ga)
		}
		if st.XMLName.Space == c2s.NSSM && st.XMLName.Local == "r" {
			sawR++
		}
		ga.keep(st)
	}
	if sawR != 1 {
		t.Errorf("server sent %d <r/> for 7 stanzas with one request outstanding, want 1", sawR)
	}
	sess := onlySession(t, srv, "alice@localhost")
	// alice has the iq result and 7 messages: 8 stanzas.
	if n := c2s.SMUnacked(sess); n != 8 || alice.H() != 8 {
		t.Fatalf("unacked=%d client h=%d, want 8 and 8", n, alice.H())
	}
	alice.Write("<a xmlns='urn:xmpp:sm:3' h='5'/>")
	pollUntil(t, "ack of 5", func() bool { return c2s.SMUnacked(sess) == 3 })
	alice.Write("<a xmlns='urn:xmpp:sm:3' h='8'/>")
	pollUntil(t, "ack of 8", func() bool { return c2s.SMUnacked(sess) == 0 })
}

// TestSMAckTooHigh: acknowledging more than was sent is the stream error
// undefined-condition with <handled-count-too-high/> (XEP-0198 §4).
func TestSMAckTooHigh(t *testing.T) {
	srv := smServer(t)
	c := srv.SMLogin(t, "alice", "localhost", "pw", "phone")
	c.Enable(false, 0)
	c.Write("<a xmlns='urn:xmpp:sm:3' h='10'/>")
	st := c.Expect(5*time.Second, "stream error", func(st xmpptest.Stanza) bool { return st.XMLName.Local == "error" })
	for _, want := range []string{"undefined-condition", "handled-count-too-high", `h="10"`, `send-count="0"`} {
		if !strings.Contains(st.Inner, want) {
			t.Errorf("stream error %s lacks %s", st.Inner, want)
		}
	}
	select {
	case <-c.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("stream not closed after the error")
	}
}

// TestSMRequestFlood: thousands of <r/> in one burst are answered without
// harm (answers with the same h coalesce while unwritten), and the stream
// still works after.
func TestSMRequestFlood(t *testing.T) {
	srv := smServer(t)
	c := srv.SMLogin(t, "alice", "localhost", "pw", "phone")
	c.Enable(false, 0)
	c.Write(strings.Repeat("<r xmlns='urn:xmpp:sm:3'/>", 20000))
	c.Send(`<iq type='get' id='v1' to='localhost'><query xmlns='jabber:iq:version'/></iq>`)
	c.Expect(10*time.Second, "the iq result", func(st xmpptest.Stanza) bool { return st.Attr("id") == "v1" })
	if h := c.RequestAck(10*time.Second, nil); h != 1 {
		t.Fatalf("h after the flood = %d, want 1", h)
	}
}

// TestSMResumeAfterAbruptClose: messages sent while bob's connection is
// gone (a reset) reach him on resume, and every message arrives exactly
// once; his session is the same one (presence, module state kept).
func TestSMResumeAfterAbruptClose(t *testing.T) {
	srv := smServer(t)
	bob := srv.SMLogin(t, "bob", "localhost", "pw", "phone")
	bob.Enable(true, 0)
	bob.Send("<presence><priority>5</priority></presence>")
	alice := srv.SMLogin(t, "alice", "localhost", "pw", "desk")
	alice.Enable(false, 0)
	before := onlySession(t, srv, "bob@localhost")

	got := bodies{}
	for _, b := range names("m", 0, 10) {
		alice.Send(chat("bob@localhost/phone", b))
	}
	waitBodies(t, bob, got, names("m", 0, 5)) // some arrive, maybe all; the client acks none
	bob.Kill()
	pollUntil(t, "bob's session to hibernate", func() bool { return c2s.SMHibernated(before) })
	for _, b := range names("m", 10, 20) {
		alice.Send(chat("bob@localhost/phone", b))
	}
	if h := alice.RequestAck(5*time.Second, nil); h != 20 {
		t.Fatalf("alice's 20 stanzas acknowledged as %d", h)
	}
	// Drain what bob's old client read before the reset (Kill waited for
	// its reader to stop: Next fails once all is drained).
	for {
		st, err := bob.Next(5 * time.Second)
		if err != nil {
			break
		}
		got.keep(st)
	}
	h := bob.H()

	bob2 := srv.SMLogin(t, "bob", "localhost", "pw", "-")
	st := bob2.Resume(bob.ID, h)
	if st.XMLName.Local != "resumed" || st.Attr("previd") != bob.ID || st.Attr("h") != "1" {
		t.Fatalf("resume: %s (want h=1: bob's presence)", st.Inner)
	}
	waitBodies(t, bob2, got, names("m", 0, 20))
	if after := onlySession(t, srv, "bob@localhost"); after != before {
		t.Fatal("the resumed session is a new session object; module state keyed by it would be lost")
	}
	if avail, prio := before.Presence(); !avail || prio != 5 {
		t.Errorf("presence after resume: available=%v priority=%d, want true 5", avail, prio)
	}
	// The resumed stream works both ways and counts on.
	bob2.Send(chat("alice@localhost/desk", "reply"))
	if h := bob2.RequestAck(5*time.Second, got.keep); h != 2 {
		t.Errorf("server's h after resume and one stanza = %d, want 2", h)
	}
	exactlyOnce(t, got, names("m", 0, 20))
}

// TestSMWindowExpiry: when the resumption window passes, the messages the
// client did not acknowledge go to offline storage (delivered exactly once
// at the next login) and contacts see the resource go unavailable.
func TestSMWindowExpiry(t *testing.T) {
	srv := smServer(t)
	alice := srv.SMLogin(t, "alice", "localhost", "pw", "desk")
	alice.Enable(false, 0)
	alice.Send("<presence/>")
	bob := srv.SMLogin(t, "bob", "localhost", "pw", "phone")
	bob.SetAutoAck(false)
	bob.Enable(true, 1) // a one-second window
	bob.Send("<presence/>")
	bob.Send("<presence to='alice@localhost/desk'/>") // directed: alice gets his unavailable
	alice.Expect(5*time.Second, "bob's presence", func(st xmpptest.Stanza) bool {
		return st.XMLName.Local == "presence" && strings.HasPrefix(st.Attr("from"), "bob@localhost/phone")
	})
	got := bodies{}
	for _, b := range names("w", 0, 3) {
		alice.Send(chat("bob@localhost/phone", b))
	}
	waitBodies(t, bob, got, names("w", 0, 3))
	sess := onlySession(t, srv, "bob@localhost")
	bob.Kill()
	for _, b := range names("w", 3, 6) {
		alice.Send(chat("bob@localhost/phone", b))
	}
	alice.Send(`<iq type='get' id='held-iq' to='bob@localhost/phone'><query xmlns='jabber:iq:version'/></iq>`)
	// The held iq is answered with an error when the window ends (it cannot
	// be stored), before bob's unavailable presence goes out.
	st := alice.Expect(10*time.Second, "an error for the held iq", func(st xmpptest.Stanza) bool { return st.Attr("id") == "held-iq" })
	if st.Attr("type") != "error" || !strings.Contains(st.Inner, "service-unavailable") || st.Attr("from") != "bob@localhost/phone" {
		t.Errorf("held iq answered with %s", st.Inner)
	}
	alice.Expect(10*time.Second, "bob's unavailable presence", func(st xmpptest.Stanza) bool {
		return st.XMLName.Local == "presence" && st.Attr("type") == "unavailable" && st.Attr("from") == "bob@localhost/phone"
	})
	if c2s.SMHibernated(sess) || len(srv.Router().Sessions(jid.MustParse("bob@localhost"))) != 0 {
		t.Fatal("bob's session still there after the window")
	}
	// Resuming now fails: the id expired.
	late := srv.SMLogin(t, "bob", "localhost", "pw", "-")
	if st := late.Resume(bob.ID, bob.H()); st.XMLName.Local != "failed" || !strings.Contains(st.Inner, "item-not-found") {
		t.Fatalf("resume after expiry: %s", st.Inner)
	}
	// Everything unacknowledged (all six: bob acked nothing) is offline.
	fresh := srv.SMLogin(t, "bob", "localhost", "pw", "laptop")
	fresh.Enable(false, 0)
	fresh.Send("<presence/>")
	off := bodies{}
	waitBodies(t, fresh, off, names("w", 0, 6))
	if h := fresh.RequestAck(5*time.Second, off.keep); h != 1 {
		t.Errorf("h=%d", h)
	}
	exactlyOnce(t, off, names("w", 0, 6))
}

// TestSMResumeRefused: unknown, forged, another user's and expired ids all
// get <failed><item-not-found/></failed>, and a refused attempt leaves the
// session resumable by its owner; a stream that resumed cannot resume again.
func TestSMResumeRefused(t *testing.T) {
	srv := smServer(t)
	bob := srv.SMLogin(t, "bob", "localhost", "pw", "phone")
	bob.Enable(true, 0)
	bob.Kill()
	sess := onlySession(t, srv, "bob@localhost")
	pollUntil(t, "hibernation", func() bool { return c2s.SMHibernated(sess) })

	for name, try := range map[string]struct{ user, id string }{
		"unknown":      {"bob", "AAAAAAAAAAAAAAAAAAAAAAAA"},
		"empty":        {"bob", ""},
		"another user": {"carol", bob.ID},
	} {
		c := srv.SMLogin(t, try.user, "localhost", "pw", "-")
		if st := c.Resume(try.id, 0); st.XMLName.Local != "failed" || !strings.Contains(st.Inner, "item-not-found") {
			t.Errorf("%s: %s, want <failed><item-not-found/>", name, st.Inner)
		}
		// The stream goes on: the client may bind instead.
		c.Write("<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>")
		c.Expect(5*time.Second, "bind result", func(st xmpptest.Stanza) bool { return st.Attr("id") == "b" && st.Attr("type") == "result" })
	}
	if !c2s.SMHibernated(sess) {
		t.Fatal("a refused resume disturbed the hibernated session")
	}
	b2 := srv.SMLogin(t, "bob", "localhost", "pw", "-")
	if st := b2.Resume(bob.ID, 0); st.XMLName.Local != "resumed" {
		t.Fatalf("owner's resume: %s", st.Inner)
	}
	// Resume twice on one stream: the second is unexpected.
	b2.Write(fmt.Sprintf("<resume xmlns='urn:xmpp:sm:3' previd='%s' h='0'/>", bob.ID))
	st := b2.Expect(5*time.Second, "failed", xmpptest.SM("failed"))
	if !strings.Contains(st.Inner, "unexpected-request") {
		t.Errorf("second resume on a resumed stream: %s", st.Inner)
	}
	// Acknowledging more than was sent in <resume/> fails it, and ends the
	// old session (its stanzas are routed again).
	b2.Kill()
	pollUntil(t, "hibernation", func() bool { return c2s.SMHibernated(sess) })
	b3 := srv.SMLogin(t, "bob", "localhost", "pw", "-")
	if st := b3.Resume(bob.ID, 7); st.XMLName.Local != "failed" || !strings.Contains(st.Inner, "handled-count-too-high") {
		t.Errorf("resume with h=7 of 0 sent: %s", st.Inner)
	}
	pollUntil(t, "the session to end", func() bool { return srv.Router().Session(jid.MustParse("bob@localhost/phone")) == nil })
}

// TestSMResumeAfterPingTimeout: a client that stops answering (its network
// is gone but no reset reached the server) times out on the server's ping;
// a resumable session then hibernates instead of ending, and resumes.
func TestSMResumeAfterPingTimeout(t *testing.T) {
	srv := smServer(t, func(c *config.Config) {
		c.C2S.PingInterval = config.Duration(300 * time.Millisecond)
		c.C2S.PingTimeout = config.Duration(300 * time.Millisecond)
	})
	bob := srv.SMLogin(t, "bob", "localhost", "pw", "phone")
	bob.Enable(true, 0) // the test client answers no pings
	sess := onlySession(t, srv, "bob@localhost")
	pollUntil(t, "hibernation after the ping timeout", func() bool { return c2s.SMHibernated(sess) })
	b2 := srv.SMLogin(t, "bob", "localhost", "pw", "-")
	if st := b2.Resume(bob.ID, bob.H()); st.XMLName.Local != "resumed" {
		t.Fatalf("resume after a ping timeout: %s", st.Inner)
	}
	if onlySession(t, srv, "bob@localhost") != sess {
		t.Fatal("a new session after resume")
	}
}

// TestSMResumeHalfOpen: the old connection never reported an error (it is
// half-open, the client is gone); a resume from a new connection wins,
// the old connection is closed, nothing is lost or duplicated.
func TestSMResumeHalfOpen(t *testing.T) {
	srv := smServer(t)
	bob := srv.SMLogin(t, "bob", "localhost", "pw", "phone")
	bob.Enable(true, 0)
	alice := srv.SMLogin(t, "alice", "localhost", "pw", "desk")
	alice.Enable(false, 0)
	got := bodies{}
	for _, b := range names("h", 0, 4) {
		alice.Send(chat("bob@localhost/phone", b))
	}
	waitBodies(t, bob, got, names("h", 0, 4))
	bob.Write("<a xmlns='urn:xmpp:sm:3' h='2'/>")
	sess := onlySession(t, srv, "bob@localhost")
	pollUntil(t, "ack", func() bool { return c2s.SMUnacked(sess) == 2 })

	b2 := srv.SMLogin(t, "bob", "localhost", "pw", "-")
	st := b2.Resume(bob.ID, 2) // as if h2 and h3 never arrived
	if st.XMLName.Local != "resumed" {
		t.Fatalf("resume over a live connection: %s", st.Inner)
	}
	select {
	case <-bob.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the old connection was not closed")
	}
	again := bodies{}
	waitBodies(t, b2, again, names("h", 2, 4))
	alice.Send(chat("bob@localhost/phone", "h4"))
	waitBodies(t, b2, again, []string{"h4"})
	exactlyOnce(t, again, names("h", 2, 5))
	if onlySession(t, srv, "bob@localhost") != sess {
		t.Fatal("a new session object after resume")
	}
}

// TestSlixmppStreamManagement: Debian's slixmpp with its XEP-0198 plugin
// and its defaults enables stream management with resumption, loses its
// TCP connection, and resumes; the messages sent into the gap reach it
// once each, and it is the same session on the server.
func TestSlixmppStreamManagement(t *testing.T) {
	xmpptest.RequirePython(t, "slixmpp", "python3-slixmpp")
	srv := smServer(t)
	bob := srv.Dial(t, "bob@localhost", "pw", xmpptest.DialOptions{})
	cafile := filepath.Join(srv.Config.DataDir, "certs", "localhost.crt")
	host, port, _ := strings.Cut(srv.Addr("c2s"), ":")
	gofile := filepath.Join(t.TempDir(), "go")
	const n = 4
	_, script := xmpptest.StartPython(t, bob.In, isChat("hello"), "testdata/slixmpp_sm.py",
		"alice@localhost/slix", "pw", host, port, cafile, bob.JID.String(), gofile, fmt.Sprint(n))
	sess := onlySession(t, srv, "alice@localhost")
	bob.Send(t, `<message to='alice@localhost/slix' type='chat'><body>first</body></message>`)
	bob.Expect(t, 10*time.Second, "dropping", isChat("dropping"))
	pollUntil(t, "alice's session to hibernate", func() bool { return c2s.SMHibernated(sess) })
	for i := range n {
		bob.Send(t, fmt.Sprintf(`<message to='alice@localhost/slix' type='chat'><body>gap %d</body></message>`, i))
	}
	if err := os.WriteFile(gofile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := script.Wait()
	t.Logf("slixmpp:\n%s", out)
	bob.Expect(t, 5*time.Second, "done", isChat("done"))
	if err != nil || !strings.Contains(strings.ToLower(out), "enabled true") || !strings.Contains(out, "RESUMED") || !strings.Contains(out, fmt.Sprintf("OK %d", n)) {
		t.Fatalf("slixmpp: %v\n%s", err, out)
	}
	if ss := srv.Router().Sessions(jid.MustParse("alice@localhost")); len(ss) > 1 || len(ss) == 1 && ss[0] != sess {
		t.Error("the resumed session is not the one that hibernated")
	}
	t.Logf("slixmpp:\n%s", out)
}

// TestSMHeldQueueBound: a hibernated session that is sent more than
// sm.max_unacked stanzas ends as a slow consumer; nothing is dropped:
// what it held and what came after go to offline storage, each once.
func TestSMHeldQueueBound(t *testing.T) {
	srv := smServer(t, func(c *config.Config) { c.SM.MaxUnacked = 5; c.SM.RequestAckAfter = 5 })
	bob := srv.SMLogin(t, "bob", "localhost", "pw", "phone")
	bob.Enable(true, 0)
	sess := onlySession(t, srv, "bob@localhost")
	bob.Kill()
	pollUntil(t, "hibernation", func() bool { return c2s.SMHibernated(sess) })
	alice := srv.SMLogin(t, "alice", "localhost", "pw", "desk")
	alice.Enable(false, 0)
	for _, b := range names("q", 0, 9) {
		alice.Send(chat("bob@localhost/phone", b))
	}
	if h := alice.RequestAck(10*time.Second, nil); h != 9 {
		t.Fatalf("h=%d", h)
	}
	pollUntil(t, "the session to end", func() bool { return srv.Router().Session(jid.MustParse("bob@localhost/phone")) == nil })
	// The next login, with stream management too, gets all nine: the
	// offline queue is paced by its acks (TestSMOfflineFloodPaced).
	fresh := srv.SMLogin(t, "bob", "localhost", "pw", "laptop")
	fresh.Enable(false, 0)
	fresh.Send("<presence/>")
	got := bodies{}
	waitBodies(t, fresh, got, names("q", 0, 9))
	syncIQ(t, fresh, got.keep)
	exactlyOnce(t, got, names("q", 0, 9))
}

// TestSMUnackedRoutedAtClose: a client that closes its stream without
// acknowledging what it received (and without resumption) does not lose
// it: the server treats it as undelivered and stores it offline.
func TestSMUnackedRoutedAtClose(t *testing.T) {
	srv := smServer(t)
	bob := srv.SMLogin(t, "bob", "localhost", "pw", "phone")
	bob.SetAutoAck(false)
	bob.Enable(false, 0)
	bob.Send("<presence/>")
	bob.Expect(5*time.Second, "his own presence", func(st xmpptest.Stanza) bool { return st.XMLName.Local == "presence" })
	alice := srv.SMLogin(t, "alice", "localhost", "pw", "desk")
	alice.Enable(false, 0)
	for _, b := range names("c", 0, 3) {
		alice.Send(chat("bob@localhost", b))
	}
	got := bodies{}
	waitBodies(t, bob, got, names("c", 0, 3))
	bob.Write("<a xmlns='urn:xmpp:sm:3' h='2'/>") // his presence and c0 are acknowledged
	bob.Close()
	pollUntil(t, "the session to end", func() bool { return srv.Router().Session(jid.MustParse("bob@localhost/phone")) == nil })
	fresh := srv.SMLogin(t, "bob", "localhost", "pw", "laptop")
	fresh.Enable(false, 0)
	fresh.Send("<presence/>")
	again := bodies{}
	waitBodies(t, fresh, again, names("c", 1, 3))
	fresh.RequestAck(5*time.Second, again.keep)
	exactlyOnce(t, again, names("c", 1, 3))
}

// syncIQ sends an iq to the server and reads until its answer, passing
// the stanzas before it to keep: what the server queued earlier is read.
func syncIQ(t *testing.T, c *xmpptest.SMClient, keep func(xmpptest.Stanza)) {
	t.Helper()
	c.Send(`<iq type='get' id='sync' to='localhost'><query xmlns='jabber:iq:version'/></iq>`)
	c.Expect(10*time.Second, "the sync iq's answer", func(st xmpptest.Stanza) bool {
		if st.Attr("id") == "sync" {
			return true
		}
		keep(st)
		return false
	})
}

// TestSMBind2Inline: stream management enabled inside a Bind 2 request
// (XEP-0386 with SASL2, one round trip): <enabled/> comes in <bound/>,
// the counters start after <success/>, and the session resumes later on
// the classic path.
func TestSMBind2Inline(t *testing.T) {
	srv := smServer(t)
	r, feats := srv.OpenTLS(t, "alice@localhost", 0)
	if !strings.Contains(feats, `<feature var="urn:xmpp:sm:3"/>`) {
		t.Fatalf("Bind 2 does not offer stream management inline: %s", feats)
	}
	l := xmpptest.SASL2Login{Mechanism: "SCRAM-SHA-256", User: "alice", Password: "pw", Bind: true, Tag: "sm", Count: -1,
		BindInline: "<enable xmlns='urn:xmpp:sm:3' resume='true'/>"}
	res := r.SASL2(l)
	if !res.Success || !strings.Contains(res.Bound, "<enabled") || !strings.Contains(res.Bound, `resume="true"`) {
		t.Fatalf("login: %s", res.Raw)
	}
	id := res.Bound[strings.Index(res.Bound, `id="`)+4:]
	id = id[:strings.Index(id, `"`)]
	r.Write("<iq type='get' id='p1' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq><r xmlns='urn:xmpp:sm:3'/>")
	r.ReadUntil(`<iq id="p1" type="result"`, 5*time.Second)
	r.ReadUntil(`<a xmlns='urn:xmpp:sm:3' h='1'/>`, 5*time.Second)
	sess := onlySession(t, srv, "alice@localhost")
	r.Conn.Close()
	pollUntil(t, "hibernation", func() bool { return c2s.SMHibernated(sess) })
	c := srv.SMLogin(t, "alice", "localhost", "pw", "-")
	// alice received one stanza (the ping's result) and sent one (the ping).
	if st := c.Resume(id, 1); st.XMLName.Local != "resumed" || st.Attr("h") != "1" {
		t.Fatalf("resume of a Bind 2 session: %s, want <resumed h='1'/>", st.Inner)
	}
	if onlySession(t, srv, "alice@localhost") != sess {
		t.Fatal("a new session after resume")
	}
}
