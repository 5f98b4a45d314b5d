package httpd_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/c2s"
	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/xmpptest"
)

// smTransport logs a user in over one transport and returns its
// stream-management client.
type smTransport struct {
	name  string
	login func(t *testing.T, srv *xmpptest.Server, user, password, resource string) *xmpptest.SMClient
}

var smTransports = []smTransport{
	{"tcp", func(t *testing.T, srv *xmpptest.Server, user, password, resource string) *xmpptest.SMClient {
		return srv.SMLogin(t, user, "localhost", password, resource)
	}},
	{"websocket", smOverWebSocket},
	{"bosh", smOverBOSH},
}

// TestSMResumeAcrossTransports: a session with stream management that
// loses its transport abruptly (a TCP reset, a WebSocket whose TCP
// connection drops, a BOSH client that stops sending requests) is resumed
// by a new connection over any transport (XEP-0198 §5 over RFC 7395 and
// XEP-0206). Messages sent before, during the gap and after arrive
// exactly once and in order, and the session is the same one.
func TestSMResumeAcrossTransports(t *testing.T) {
	eachPair(t, func(t *testing.T, from, to smTransport) { resumeAcross(t, from, to) }) // tcp→tcp: c2s's TestSMResumeAfterAbruptClose
}

// eachPair runs test in parallel for every pair of transports but TCP to
// TCP (c2s's tests).
func eachPair(t *testing.T, test func(t *testing.T, from, to smTransport)) {
	for _, from := range smTransports {
		for _, to := range smTransports {
			if from.name == "tcp" && to.name == "tcp" {
				continue
			}
			t.Run(from.name+"→"+to.name, func(t *testing.T) {
				t.Parallel()
				test(t, from, to)
			})
		}
	}
}

// TestSMResumeChain: one session hops transport after transport, each
// hop an abrupt loss and a resume, with messages in every gap.
func TestSMResumeChain(t *testing.T) {
	tcp, ws, bosh := smTransports[0], smTransports[1], smTransports[2]
	resumeAcross(t, bosh, ws, bosh, tcp, ws, tcp)
}

// resumeAcross logs bob in over the first hop with resumable stream
// management, then for each further hop drops his transport while
// messages are on their way, sends more in the gap and resumes over the
// hop's transport; alice's messages must reach bob exactly once, in order,
// and bob's session must stay the same one.
func resumeAcross(t *testing.T, hops ...smTransport) {
	srv := xmpptest.Start(t, func(c *config.Config) { c.HTTP.BOSH.Inactivity = config.Duration(time.Second) })
	srv.AddUser(t, "alice@localhost", "pw")
	srv.AddUser(t, "bob@localhost", "pw")
	alice := srv.SMLogin(t, "alice", "localhost", "pw", "desk")
	alice.Enable(false, 0)
	bob := hops[0].login(t, srv, "bob", "pw", "phone")
	if st := bob.Enable(true, 0); st.XMLName.Local != "enabled" || bob.ID == "" {
		t.Fatalf("enable over %s: %s %s", hops[0].name, st.XMLName.Local, st.Inner)
	}
	bob.Send("<presence/>")
	sessions := srv.Router().Sessions(mustBare("bob@localhost"))
	if len(sessions) != 1 {
		t.Fatalf("bob has %d sessions", len(sessions))
	}

	var got []string
	n := 0
	send := func(k int) {
		for range k {
			alice.Send(fmt.Sprintf("<message to='bob@localhost/phone' type='chat'><body>m%d</body></message>", n))
			n++
		}
	}
	for i, to := range hops[1:] {
		send(10)
		got = readBodies(t, bob, got, n-5) // some arrive, maybe all; the rest is on its way
		bob.Kill()
		xmpptest.Eventually(t, wait, fmt.Sprintf("bob's session to hibernate after losing its %s (hop %d)", hops[i].name, i+1), func() bool {
			return sessions[0].(*c2s.Session).Info().SM == "hibernated"
		})
		send(10) // in the gap
		if h := alice.RequestAck(wait, nil); h != uint32(n) {
			t.Fatalf("alice's %d stanzas acknowledged as %d", n, h)
		}
		got = drain(bob, got)

		bob2 := to.login(t, srv, "bob", "pw", "-")
		st := bob2.Resume(bob.ID, bob.H())
		if st.XMLName.Local != "resumed" || st.Attr("h") != "1" {
			t.Fatalf("resume over %s: %s h=%s %s (want resumed, h=1: bob's presence)", to.name, st.XMLName.Local, st.Attr("h"), st.Inner)
		}
		bob = bob2
		got = readBodies(t, bob, got, n)
	}
	send(5) // after the last resume
	got = readBodies(t, bob, got, n)
	if h := bob.RequestAck(wait, func(st xmpptest.Stanza) { got = appendBody(got, st) }); h != 1 {
		t.Errorf("server's h after the resumes = %d, want 1", h)
	}
	inOrderOnce(t, got, n)
	if after := srv.Router().Sessions(mustBare("bob@localhost")); len(after) != 1 || after[0] != sessions[0] {
		t.Errorf("after the resumes bob has %d sessions, the same one: %v", len(after), len(after) == 1 && after[0] == sessions[0])
	}
}

// readBodies reads c until got holds n message bodies.
func readBodies(t *testing.T, c *xmpptest.SMClient, got []string, n int) []string {
	t.Helper()
	deadline := time.Now().Add(wait)
	for len(got) < n {
		st, err := c.Next(time.Until(deadline))
		if err != nil {
			t.Fatalf("waiting for %d messages: %v; got %v", n, err, got)
		}
		got = appendBody(got, st)
	}
	return got
}

// drain reads what a killed client received before its end.
func drain(c *xmpptest.SMClient, got []string) []string {
	for {
		st, err := c.Next(wait)
		if err != nil {
			return got
		}
		got = appendBody(got, st)
	}
}

func appendBody(got []string, st xmpptest.Stanza) []string {
	if st.XMLName.Local != "message" {
		return got
	}
	_, rest, ok := strings.Cut(st.Inner, "<body")
	if _, rest, ok = strings.Cut(rest, ">"); !ok {
		return got
	}
	body, _, _ := strings.Cut(rest, "<")
	return append(got, body)
}

// inOrderOnce fails unless got is m0 … m(n-1), each once, in order.
func inOrderOnce(t *testing.T, got []string, n int) {
	t.Helper()
	ok := len(got) == n
	for i := 0; ok && i < n; i++ {
		ok = got[i] == fmt.Sprintf("m%d", i)
	}
	if !ok {
		t.Errorf("messages received %v, want m0 … m%d each once in order", got, n-1)
	}
}

// TestSMResumeHalfOpenAcrossTransports: a client resumes over a new
// transport while the server still holds its old one open (a phone that
// changed networks): the old transport is closed (a BOSH session's
// requests answered with a terminal body), and the resumed stream gets
// what the client had not acknowledged, then new messages, once each.
func TestSMResumeHalfOpenAcrossTransports(t *testing.T) {
	eachPair(t, resumeHalfOpen) // tcp→tcp: c2s's TestSMResumeHalfOpen
}

func resumeHalfOpen(t *testing.T, from, to smTransport) {
	srv := xmpptest.Start(t)
	srv.AddUser(t, "alice@localhost", "pw")
	srv.AddUser(t, "bob@localhost", "pw")
	alice := srv.SMLogin(t, "alice", "localhost", "pw", "desk")
	bob := from.login(t, srv, "bob", "pw", "phone")
	bob.SetAutoAck(false)
	if st := bob.Enable(true, 0); st.XMLName.Local != "enabled" {
		t.Fatalf("enable over %s: %s", from.name, st.Inner)
	}
	for i := range 4 {
		alice.Send(fmt.Sprintf("<message to='bob@localhost/phone' type='chat'><body>m%d</body></message>", i))
	}
	readBodies(t, bob, nil, 4)

	bob2 := to.login(t, srv, "bob", "pw", "-")
	if st := bob2.Resume(bob.ID, 2); st.XMLName.Local != "resumed" { // as if m2 and m3 never arrived
		t.Fatalf("resume over %s of a live %s session: %s", to.name, from.name, st.Inner)
	}
	select {
	case <-bob.Done():
	case <-time.After(wait):
		t.Fatalf("the old %s transport was not closed", from.name)
	}
	got := readBodies(t, bob2, []string{"m0", "m1"}, 4)
	alice.Send("<message to='bob@localhost/phone' type='chat'><body>m4</body></message>")
	got = readBodies(t, bob2, got, 5)
	bob2.RequestAck(wait, func(st xmpptest.Stanza) { got = appendBody(got, st) })
	inOrderOnce(t, got, 5)
}
