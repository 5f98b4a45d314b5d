package presence_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/xmpptest"
)

var reciprocal = map[string]string{
	sNone: sNone, sNonePO: sNonePI, sNonePI: sNonePO, sNonePOPI: sNonePOPI,
	sTo: sFrom, sToPI: sFromPO, sFrom: sTo, sFromPO: sToPI, sBoth: sBoth,
}

func inboundRow(typ, start string) (next string, deliver, autoReply bool) {
	for _, r := range inboundTable {
		if r.typ == typ && r.start == start {
			if r.next == "" {
				return start, r.deliver, r.autoReply
			}
			return r.next, r.deliver, r.autoReply
		}
	}
	panic("no row " + typ + " " + start)
}

// TestLocalPairs runs Appendix A.2 for alice and, where it routes, A.3 for
// bob, both on this server: both rosters change in one transaction, and
// each side sees its pushes and stanzas.
func TestLocalPairs(t *testing.T) {
	srv := xmpptest.Start(t)
	srv.AddUser(t, "alice@localhost", pw)
	a := dial(t, srv, "alice@localhost")
	interested(t, a)
	available(t, a, "a")
	barrier(t, a)
	st := openStore(t, srv)
	for i, row := range outboundTable {
		t.Run(fmt.Sprintf("%s in %s", row.typ, row.start), func(t *testing.T) {
			bob := fmt.Sprintf("bob%d@localhost", i)
			srv.AddUser(t, bob, pw)
			b := dial(t, srv, bob)
			interested(t, b)
			available(t, b, "b")
			barrier(t, b) // bob is available before alice sends anything
			for _, step := range setup[row.start] {
				dir, typ, _ := strings.Cut(step, " ")
				// The sender's barrier first: then its stanza was processed.
				if dir == "out" {
					send(t, a, fmt.Sprintf(`<presence type='%s' to='%s'/>`, typ, bob))
					barrier(t, a)
					barrier(t, b)
				} else {
					send(t, b, fmt.Sprintf(`<presence type='%s' to='alice@localhost'/>`, typ))
					barrier(t, b)
					barrier(t, a)
				}
			}
			bobStart := reciprocal[row.start]
			if got := stateOf(t, st, "alice@localhost", bob).String(); got != row.start {
				t.Fatalf("alice reached %q, want %q", got, row.start)
			}
			if got := stateOf(t, st, bob, "alice@localhost").String(); got != bobStart {
				t.Fatalf("bob reached %q, want %q", got, bobStart)
			}
			aliceWant, bobWant := row.next, bobStart
			if aliceWant == "" {
				aliceWant = row.start
			}
			deliver := false
			if row.route {
				var auto bool
				bobWant, deliver, auto = inboundRow(row.typ, bobStart)
				if auto {
					aliceWant, _, _ = inboundRow("subscribed", aliceWant)
				}
			}
			send(t, a, fmt.Sprintf(`<presence type='%s' to='%s'/>`, row.typ, bob))
			gotA, gotB := barrier(t, a), barrier(t, b)
			if got := stateOf(t, st, "alice@localhost", bob).String(); got != aliceWant {
				t.Errorf("alice: %q, want %q", got, aliceWant)
			}
			if got := stateOf(t, st, bob, "alice@localhost").String(); got != bobWant {
				t.Errorf("bob: %q, want %q", got, bobWant)
			}
			if n := presencesFrom(gotB, "alice@localhost", row.typ); (n == 1) != deliver || n > 1 {
				t.Errorf("bob got %d %s, want deliver=%v", n, row.typ, deliver)
			}
			if n := len(pushesFor(gotA, bob)); (n == 1) != (visible(aliceWant) != visible(row.start)) || n > 1 {
				t.Errorf("alice got %d pushes", n)
			}
			if n := len(pushesFor(gotB, "alice@localhost")); (n == 1) != (visible(bobWant) != visible(bobStart)) || n > 1 {
				t.Errorf("bob got %d pushes", n)
			}
		})
	}
}

// barrier waits for c's server to process everything c sent and returns
// what c received meanwhile.
func barrier(t testing.TB, c *xmpptest.Client) []xmpptest.Stanza {
	t.Helper()
	xmpptest.Settle(t, c)
	return c.Drain()
}

func TestPreApproval(t *testing.T) {
	srv := xmpptest.Start(t)
	srv.AddUser(t, "alice@localhost", pw)
	srv.AddUser(t, "bob@localhost", pw)
	a, b := dial(t, srv, "alice@localhost"), dial(t, srv, "bob@localhost")
	interested(t, a)
	interested(t, b)
	available(t, a, "alice here")
	available(t, b, "bob here")
	barrier(t, a)
	barrier(t, b)
	// alice pre-approves bob: a push with approved='true', nothing to bob.
	send(t, a, `<presence type='subscribed' to='bob@localhost'/>`)
	got := barrier(t, a)
	if p := pushesFor(got, "bob@localhost"); len(p) != 1 || !strings.Contains(p[0].Inner, `approved="true"`) {
		t.Fatalf("pre-approval push: %+v", got)
	}
	if got := barrier(t, b); presencesFrom(got, "alice@localhost", "subscribed") != 0 {
		t.Fatalf("pre-approval reached bob: %+v", got)
	}
	// bob's request is approved at once; alice never sees it.
	send(t, b, `<presence type='subscribe' to='alice@localhost'/>`)
	gotB, gotA := barrier(t, b), barrier(t, a)
	if presencesFrom(gotB, "alice@localhost", "subscribed") != 1 || presencesFrom(gotB, "alice@localhost", "") != 1 {
		t.Fatalf("bob should get subscribed and alice's presence: %+v", gotB)
	}
	if presencesFrom(gotA, "bob@localhost", "subscribe") != 0 {
		t.Fatalf("alice saw the pre-approved request: %+v", gotA)
	}
	if p := pushesFor(gotA, "bob@localhost"); len(p) != 1 || !strings.Contains(p[0].Inner, `subscription="from"`) || strings.Contains(p[0].Inner, "approved") {
		t.Fatalf("alice's push after approval: %+v", gotA)
	}
	st := openStore(t, srv)
	if s := stateOf(t, st, "bob@localhost", "alice@localhost").String(); s != sTo {
		t.Fatalf("bob: %s", s)
	}
	// Cancelling a pre-approval: subscribed then unsubscribed to carol.
	send(t, a, `<presence type='subscribed' to='carol@localhost'/>`)
	send(t, a, `<presence type='unsubscribed' to='carol@localhost'/>`)
	barrier(t, a)
	if s := stateOf(t, st, "alice@localhost", "carol@localhost").String(); s != sNone {
		t.Fatalf("after cancelling: %s", s)
	}
}

func TestPendingRequestRedeliveredAtLogin(t *testing.T) {
	srv := xmpptest.Start(t)
	srv.AddUser(t, "alice@localhost", pw)
	srv.AddUser(t, "bob@localhost", pw)
	a := dial(t, srv, "alice@localhost")
	send(t, a, `<presence type='subscribe' to='bob@localhost'><status>let me in</status><nick xmlns='http://jabber.org/protocol/nick'>Al</nick></presence>`)
	barrier(t, a)
	for round := range 2 {
		b := dial(t, srv, "bob@localhost")
		barrier(t, b)
		if len(b.In) != 0 {
			t.Fatalf("round %d: request delivered before initial presence", round)
		}
		available(t, b, "bob")
		req := b.Expect(t, wait, "stored request", isPresence("alice@localhost", "subscribe"))
		if !strings.Contains(req.Inner, "let me in") || !strings.Contains(req.Inner, ">Al</nick>") || req.Attr("from") != "alice@localhost" {
			t.Fatalf("round %d: request lost its content: %s", round, req.Inner)
		}
		if round == 1 {
			send(t, b, `<presence type='subscribed' to='alice@localhost'/>`)
			barrier(t, b)
		}
		b.Close()
	}
	b := dial(t, srv, "bob@localhost")
	available(t, b, "bob")
	got := barrier(t, b)
	if presencesFrom(got, "alice@localhost", "subscribe") != 0 {
		t.Fatalf("answered request delivered again: %+v", got)
	}
}

func TestRemoveItemCancelsBothWays(t *testing.T) {
	srv := xmpptest.Start(t)
	srv.AddUser(t, "alice@localhost", pw)
	srv.AddUser(t, "bob@localhost", pw)
	a, b := dial(t, srv, "alice@localhost"), dial(t, srv, "bob@localhost")
	mutual(t, a, b, "alice@localhost", "bob@localhost")
	if res := iq(t, a, `<iq type='set' id='rm'><query xmlns='jabber:iq:roster'><item jid='bob@localhost' subscription='remove'/></query></iq>`); res.Attr("type") != "result" {
		t.Fatalf("remove: %+v", res)
	}
	gotA, gotB := barrier(t, a), barrier(t, b)
	if p := pushesFor(gotA, "bob@localhost"); len(p) != 1 || !strings.Contains(p[0].Inner, `subscription="remove"`) {
		t.Fatalf("alice's removal push: %+v", gotA)
	}
	for _, typ := range []string{"unsubscribe", "unsubscribed", "unavailable"} {
		if presencesFrom(gotB, "alice@localhost", typ) < 1 {
			t.Errorf("bob did not get %s: %+v", typ, gotB)
		}
	}
	if p := pushesFor(gotB, "alice@localhost"); len(p) == 0 || !strings.Contains(p[len(p)-1].Inner, `subscription="none"`) {
		t.Fatalf("bob's push: %+v", gotB)
	}
	if presencesFrom(gotA, "bob@localhost", "unavailable") < 1 {
		t.Errorf("alice did not get bob's unavailable presence: %+v", gotA)
	}
	st := openStore(t, srv)
	if s, found, _ := st.State(t.Context(), jidOf("alice@localhost"), jidOf("bob@localhost")); found || s.String() != sNone {
		t.Fatalf("alice still has bob: %v %v", s, found)
	}
	if s := stateOf(t, st, "bob@localhost", "alice@localhost").String(); s != sNone {
		t.Fatalf("bob: %s", s)
	}
	// Presence no longer flows.
	send(t, b, `<presence><status>changed</status></presence>`)
	if got := barrier(t, a); presencesFrom(got, "bob@localhost", "") != 0 {
		t.Fatalf("presence after removal: %+v", got)
	}
}

// mutual makes two online users subscribed both ways, interested and
// available, and drains what that produced.
func mutual(t testing.TB, a, b *xmpptest.Client, aj, bj string) {
	t.Helper()
	interested(t, a)
	interested(t, b)
	available(t, a, "a")
	available(t, b, "b")
	barrier(t, a)
	barrier(t, b)
	send(t, a, `<presence type='subscribe' to='`+bj+`'/>`)
	barrier(t, a)
	send(t, b, `<presence type='subscribed' to='`+aj+`'/>`)
	send(t, b, `<presence type='subscribe' to='`+aj+`'/>`)
	barrier(t, b)
	send(t, a, `<presence type='subscribed' to='`+bj+`'/>`)
	barrier(t, a)
	barrier(t, b)
}

func TestSubscriptionToUnknownUserDropped(t *testing.T) {
	srv := xmpptest.Start(t)
	srv.AddUser(t, "alice@localhost", pw)
	a := dial(t, srv, "alice@localhost")
	interested(t, a)
	send(t, a, `<presence type='subscribe' to='ghost@localhost'/>`)
	got := barrier(t, a)
	for _, s := range got {
		if s.Attr("type") == "error" {
			t.Fatalf("error for a request to an unknown user: %+v", s)
		}
	}
	if p := pushesFor(got, "ghost@localhost"); len(p) != 1 || !strings.Contains(p[0].Inner, `ask="subscribe"`) {
		t.Fatalf("outbound processing: %+v", got)
	}
}

func TestSubscriptionFlood(t *testing.T) {
	const max = 100
	srv := xmpptest.Start(t, func(c *config.Config) { c.Roster.MaxItems = max })
	srv.AddUser(t, "alice@localhost", pw)
	srv.AddUser(t, "bob@localhost", pw)
	srv.AddUser(t, "carol@localhost", pw)
	a, b, c := dial(t, srv, "alice@localhost"), dial(t, srv, "bob@localhost"), dial(t, srv, "carol@localhost")
	interested(t, b)
	available(t, b, "b")
	barrier(t, b)
	errors, pushes := 0, 0
	interested(t, a)
	for batch := range 6 {
		for i := range 50 {
			n := batch*50 + i
			send(t, a, fmt.Sprintf(`<presence type='subscribe' to='f%d@localhost'/>`, n))
			send(t, c, `<presence type='subscribe' to='bob@localhost'/>`)
		}
		for _, s := range barrier(t, a) {
			switch {
			case s.XMLName.Local == "presence" && s.Attr("type") == "error" && strings.Contains(s.Inner, "resource-constraint"):
				errors++
			case s.XMLName.Local == "iq" && s.Attr("type") == "set":
				pushes++
			}
		}
		barrier(t, c)
	}
	if pushes != max || errors != 300-max {
		t.Fatalf("%d pushes and %d errors, want %d and %d", pushes, errors, max, 300-max)
	}
	got := barrier(t, b)
	if n := presencesFrom(got, "carol@localhost", "subscribe"); n != 1 {
		t.Fatalf("bob got %d requests from carol's 300, want 1 (then pending)", n)
	}
	res := iq(t, a, `<iq type='get' id='g'><query xmlns='jabber:iq:roster'/></iq>`)
	if n := strings.Count(res.Inner, "<item"); n != max {
		t.Fatalf("alice has %d items, want %d", n, max)
	}
	// Still healthy: a new login works and presence flows.
	d := dial(t, srv, "bob@localhost")
	available(t, d, "second")
	b.Expect(t, wait, "own presence", isPresence(d.JID.String(), ""))
}
