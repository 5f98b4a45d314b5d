package offline_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/xmpptest"
)

const wait = 10 * time.Second

func messages(sts []xmpptest.Stanza) []xmpptest.Stanza {
	var out []xmpptest.Stanza
	for _, st := range sts {
		if st.XMLName.Local == "message" {
			out = append(out, st)
		}
	}
	return out
}

// errorsByID maps the ids of error stanzas to their content.
func errorsByID(sts []xmpptest.Stanza) map[string]string {
	out := map[string]string{}
	for _, st := range sts {
		if st.Attr("type") == "error" {
			out[st.Attr("id")] = st.Inner
		}
	}
	return out
}

func TestStoredAndDeliveredInOrder(t *testing.T) {
	srv := xmpptest.Start(t)
	srv.AddUser(t, "alice@localhost", "pw")
	srv.AddUser(t, "bob@localhost", "pw")
	alice := srv.Dial(t, "alice@localhost", "pw", xmpptest.DialOptions{})

	sent := []struct {
		id, xml string
		stored  bool
		bounced bool // service-unavailable back to alice
	}{
		{"m1", `<message id='m1' to='bob@localhost' type='chat'><body>first</body></message>`, true, false},
		{"m2", `<message id='m2' to='bob@localhost'><body>second, normal</body></message>`, true, false},
		{"h1", `<message id='h1' to='bob@localhost' type='headline'><body>headline</body></message>`, false, false},
		{"g1", `<message id='g1' to='bob@localhost' type='groupchat'><body>groupchat</body></message>`, false, true}, // RFC 6121 §8.5.2.2.1
		{"c1", `<message id='c1' to='bob@localhost' type='chat'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>`, false, true},
		{"n1", `<message id='n1' to='bob@localhost' type='chat'><body>no-store</body><no-store xmlns='urn:xmpp:hints'/></message>`, false, true},
		{"s1", `<message id='s1' to='bob@localhost' type='chat'><gone xmlns='http://jabber.org/protocol/chatstates'/><store xmlns='urn:xmpp:hints'/></message>`, true, false},
		{"m3", `<message id='m3' to='bob@localhost/gone' type='chat'><body>third, to an absent resource</body></message>`, true, false},
		{"r1", `<message id='r1' to='bob@localhost'><received xmlns='urn:xmpp:receipts' id='x'/></message>`, true, false},
	}
	for _, m := range sent {
		alice.Send(t, m.xml)
	}
	xmpptest.Settle(t, alice)
	errs := errorsByID(alice.Drain())
	for _, m := range sent {
		e, bounced := errs[m.id]
		if bounced != m.bounced || (bounced && !strings.Contains(e, "service-unavailable")) {
			t.Errorf("%s: bounced=%v (%s), want bounced=%v", m.id, bounced, e, m.bounced)
		}
	}

	bob := srv.Dial(t, "bob@localhost", "pw", xmpptest.DialOptions{})
	xmpptest.Settle(t, bob)
	if got := messages(bob.Drain()); len(got) != 0 {
		t.Fatalf("delivered before initial presence: %+v", got)
	}
	bob.Send(t, `<presence/>`)
	xmpptest.Settle(t, bob)
	got := messages(bob.Drain())
	var want []string
	for _, m := range sent {
		if m.stored {
			want = append(want, m.id)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("bob got %d messages, want %d (%v): %+v", len(got), len(want), want, got)
	}
	for i, st := range got {
		if st.Attr("id") != want[i] {
			t.Errorf("message %d is %s, want %s", i, st.Attr("id"), want[i])
		}
		if st.Attr("from") != alice.JID.String() {
			t.Errorf("%s from %q", st.Attr("id"), st.Attr("from"))
		}
		if !strings.Contains(st.Inner, `xmlns="urn:xmpp:delay" from="localhost" stamp="20`) || !strings.Contains(st.Inner, "Offline Storage") {
			t.Errorf("%s has no delay stamp from the server: %s", st.Attr("id"), st.Inner)
		}
	}

	// Delivered messages are gone: the next login gets nothing.
	bob2 := srv.Dial(t, "bob@localhost", "pw", xmpptest.DialOptions{})
	bob2.Send(t, `<presence/>`)
	xmpptest.Settle(t, bob2)
	if again := messages(bob2.Drain()); len(again) != 0 {
		t.Fatalf("delivered twice: %+v", again)
	}
}

func TestOnlyNonNegativePriorityGetsThem(t *testing.T) {
	srv := xmpptest.Start(t)
	srv.AddUser(t, "alice@localhost", "pw")
	srv.AddUser(t, "bob@localhost", "pw")
	alice := srv.Dial(t, "alice@localhost", "pw", xmpptest.DialOptions{})
	alice.Send(t, `<message id='m1' to='bob@localhost' type='chat'><body>waiting</body></message>`)
	xmpptest.Settle(t, alice)

	low := srv.Dial(t, "bob@localhost", "pw", xmpptest.DialOptions{})
	low.Send(t, `<presence><priority>-1</priority></presence>`)
	xmpptest.Settle(t, low)
	// With only a negative-priority resource, bob is still "offline" for
	// bare-JID messages (RFC 6121 §8.5.2.1.1): this one is stored too.
	alice.Send(t, `<message id='m2' to='bob@localhost' type='chat'><body>still waiting</body></message>`)
	xmpptest.Settle(t, alice)
	if e := errorsByID(alice.Drain()); len(e) != 0 {
		t.Fatalf("errors: %v", e)
	}
	xmpptest.Settle(t, low)
	if got := messages(low.Drain()); len(got) != 0 {
		t.Fatalf("negative priority resource got %+v", got)
	}

	high := srv.Dial(t, "bob@localhost", "pw", xmpptest.DialOptions{})
	high.Send(t, `<presence><priority>5</priority></presence>`)
	xmpptest.Settle(t, high)
	got := messages(high.Drain())
	if len(got) != 2 || got[0].Attr("id") != "m1" || got[1].Attr("id") != "m2" {
		t.Fatalf("priority 5 resource got %+v", got)
	}
}

func TestQuota(t *testing.T) {
	const quota = 5
	srv := xmpptest.Start(t, func(c *config.Config) { c.Offline.MaxMessagesPerUser = quota })
	srv.AddUser(t, "alice@localhost", "pw")
	srv.AddUser(t, "bob@localhost", "pw")
	alice := srv.Dial(t, "alice@localhost", "pw", xmpptest.DialOptions{})
	for i := range quota + 3 {
		alice.Send(t, fmt.Sprintf(`<message id='m%d' to='bob@localhost' type='chat'><body>n%d</body></message>`, i, i))
	}
	xmpptest.Settle(t, alice)
	errs := errorsByID(alice.Drain())
	for i := range quota + 3 {
		e, bounced := errs[fmt.Sprintf("m%d", i)]
		if want := i >= quota; bounced != want || (bounced && !strings.Contains(e, "service-unavailable")) {
			t.Errorf("m%d: bounced=%v %s; want bounced=%v with service-unavailable", i, bounced, e, want)
		}
	}
	bob := srv.Dial(t, "bob@localhost", "pw", xmpptest.DialOptions{})
	bob.Send(t, `<presence/>`)
	xmpptest.Settle(t, bob)
	if got := messages(bob.Drain()); len(got) != quota || got[quota-1].Attr("id") != fmt.Sprintf("m%d", quota-1) {
		t.Fatalf("bob got %d messages: %+v", len(got), got)
	}
	// Delivery made room again.
	bob.Close()
	bob.Done(t, wait)
	waitOffline(t, srv, "bob@localhost")
	alice.Send(t, `<message id='again' to='bob@localhost' type='chat'><body>room again</body></message>`)
	xmpptest.Settle(t, alice)
	if e := errorsByID(alice.Drain()); len(e) != 0 {
		t.Fatalf("after delivery: %v", e)
	}
}

// waitOffline polls until user has no session left.
func waitOffline(t *testing.T, srv *xmpptest.Server, user string) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for len(srv.Router().Sessions(jidOf(t, user))) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%s still has sessions", user)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestStorm(t *testing.T) {
	const (
		quota   = 60
		senders = 3
		each    = 30
	)
	srv := xmpptest.Start(t, func(c *config.Config) { c.Offline.MaxMessagesPerUser = quota })
	srv.AddUser(t, "bob@localhost", "pw")
	clients := make([]*xmpptest.Client, senders)
	for i := range clients {
		user := fmt.Sprintf("s%d@localhost", i)
		srv.AddUser(t, user, "pw")
		clients[i] = srv.Dial(t, user, "pw", xmpptest.DialOptions{})
	}
	var wg sync.WaitGroup
	bounced := make([]int, senders)
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range each {
				c.Send(t, fmt.Sprintf(`<message id='%d' to='bob@localhost' type='chat'><body>s%d-%d</body></message>`, j, i, j))
			}
			xmpptest.Settle(t, c)
			for _, e := range errorsByID(c.Drain()) {
				if !strings.Contains(e, "service-unavailable") {
					t.Errorf("sender %d: unexpected error %s", i, e)
				}
				bounced[i]++
			}
		}()
	}
	wg.Wait()
	total := 0
	for _, n := range bounced {
		total += n
	}
	if total != senders*each-quota {
		t.Errorf("%d messages bounced, want %d", total, senders*each-quota)
	}
	// The server is healthy and bob gets exactly the stored ones, each
	// sender's in the order sent.
	bob := srv.Dial(t, "bob@localhost", "pw", xmpptest.DialOptions{})
	bob.Send(t, `<presence/>`)
	xmpptest.Settle(t, bob)
	got := messages(bob.Drain())
	if len(got) != quota {
		t.Fatalf("bob got %d messages, want %d", len(got), quota)
	}
	last := map[string]int{}
	for _, st := range got {
		var id int
		fmt.Sscan(st.Attr("id"), &id)
		if prev, ok := last[st.Attr("from")]; ok && id <= prev {
			t.Errorf("from %s: %d after %d", st.Attr("from"), id, prev)
		}
		last[st.Attr("from")] = id
	}
}

func TestDisabled(t *testing.T) {
	srv := xmpptest.Start(t, func(c *config.Config) { c.Offline.Enabled = false })
	srv.AddUser(t, "alice@localhost", "pw")
	srv.AddUser(t, "bob@localhost", "pw")
	alice := srv.Dial(t, "alice@localhost", "pw", xmpptest.DialOptions{})
	alice.Send(t, `<message id='m1' to='bob@localhost' type='chat'><body>hi</body></message>`)
	xmpptest.Settle(t, alice)
	if e := errorsByID(alice.Drain()); !strings.Contains(e["m1"], "service-unavailable") {
		t.Fatalf("errors: %v", e)
	}
	res := alice.IQ(t, `<iq type='get' id='d' to='localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`)
	if strings.Contains(res.Inner, "msgoffline") {
		t.Errorf("msgoffline advertised while disabled")
	}
}

func TestDiscoFeature(t *testing.T) {
	srv := xmpptest.Start(t)
	srv.AddUser(t, "alice@localhost", "pw")
	alice := srv.Dial(t, "alice@localhost", "pw", xmpptest.DialOptions{})
	res := alice.IQ(t, `<iq type='get' id='d' to='localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`)
	if !strings.Contains(res.Inner, `"msgoffline"`) {
		t.Errorf("msgoffline not advertised: %s", res.Inner)
	}
}

func jidOf(t *testing.T, s string) jid.JID {
	t.Helper()
	j, err := jid.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return j
}
