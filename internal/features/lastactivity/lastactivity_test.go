package lastactivity_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/xmpptest"
)

const wait = 10 * time.Second

func seconds(t *testing.T, st xmpptest.Stanza) int {
	t.Helper()
	i := strings.Index(st.Inner, `seconds="`)
	if i < 0 {
		t.Fatalf("no seconds in %s", st.Inner)
	}
	rest := st.Inner[i+len(`seconds="`):]
	n, err := strconv.Atoi(rest[:strings.IndexByte(rest, '"')])
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestLastActivity(t *testing.T) {
	srv := xmpptest.Start(t)
	for _, u := range []string{"alice@localhost", "bob@localhost", "carol@localhost"} {
		srv.AddUser(t, u, "pw")
	}
	const query = `<query xmlns='jabber:iq:last'/>`

	// Never logged out: nothing recorded.
	carol := srv.Dial(t, "carol@localhost", "pw", xmpptest.DialOptions{})
	res := carol.IQ(t, `<iq type='get' id='l'>`+query+`</iq>`)
	if res.Attr("type") != "error" || !strings.Contains(res.Inner, "item-not-found") {
		t.Fatalf("never logged out: %s %s", res.Attr("type"), res.Inner)
	}

	// Online: seconds=0 and no text (XEP-0012 §3).
	alice := srv.Dial(t, "alice@localhost", "pw", xmpptest.DialOptions{})
	alice.Send(t, `<presence><status>busy</status></presence>`)
	res = alice.IQ(t, `<iq type='get' id='l' to='alice@localhost'>`+query+`</iq>`)
	if res.Attr("type") != "result" || seconds(t, res) != 0 || strings.Contains(res.Inner, "busy") {
		t.Fatalf("online: %s %s", res.Attr("type"), res.Inner)
	}

	// Offline: the time since the last session ended and its status.
	alice.Send(t, `<presence type='unavailable'><status>Heading Home</status></presence>`)
	alice.Close()
	alice.Done(t, wait)
	watcher := srv.Dial(t, "alice@localhost", "pw", xmpptest.DialOptions{}) // bound, never available
	deadline := time.Now().Add(wait)
	for {
		res = watcher.IQ(t, `<iq type='get' id='l'>`+query+`</iq>`)
		if res.Attr("type") == "result" || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if res.Attr("type") != "result" || !strings.Contains(res.Inner, "Heading Home") || seconds(t, res) < 0 {
		t.Fatalf("offline: %s %s", res.Attr("type"), res.Inner)
	}

	tests := []struct {
		name, iq, wantType, want string
	}{
		{"unknown user", `<iq type='get' id='l' to='nobody@localhost'>` + query + `</iq>`, "error", "service-unavailable"},
		{"not subscribed: forbidden", `<iq type='get' id='l' to='alice@localhost'>` + query + `</iq>`, "error", "forbidden"},
		{"server uptime", `<iq type='get' id='l' to='localhost'>` + query + `</iq>`, "result", "seconds="},
		{"account feature", `<iq type='get' id='d' to='alice@localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`, "result", `"jabber:iq:last"`},
	}
	bob := srv.Dial(t, "bob@localhost", "pw", xmpptest.DialOptions{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := bob.IQ(t, tt.iq)
			if res.Attr("type") != tt.wantType || !strings.Contains(res.Inner, tt.want) {
				t.Fatalf("got %s %s", res.Attr("type"), res.Inner)
			}
		})
	}

	// Once alice approves bob's subscription to her presence, bob may ask.
	t.Run("subscribed contact", func(t *testing.T) {
		bob.Send(t, `<presence type='subscribe' to='alice@localhost'/>`)
		bob.IQ(t, `<iq type='get' id='b' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`)
		watcher.Send(t, `<presence type='subscribed' to='bob@localhost'/>`)
		watcher.IQ(t, `<iq type='get' id='b' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`)
		res := bob.IQ(t, `<iq type='get' id='l' to='alice@localhost'>`+query+`</iq>`)
		if res.Attr("type") != "result" || !strings.Contains(res.Inner, "Heading Home") {
			t.Fatalf("got %s %s", res.Attr("type"), res.Inner)
		}
	})
}
