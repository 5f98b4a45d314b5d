package pubsub_test

import (
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	mjid "mellium.im/xmpp/jid"
	"mellium.im/xmpp/stanza"

	"github.com/parleyim/parley/internal/xmpptest"
)

const wait = 5 * time.Second

// capsNode is the XEP-0115 node the test clients advertise.
const capsNode = "https://parley.test/client"

// capsVer computes the XEP-0115 §5.1 verification string's SHA-1 for a
// client/pc identity named parley-test with features (written here from
// the XEP, independently of the server's code).
func capsVer(features []string) string {
	f := slices.Clone(features)
	slices.Sort(f)
	s := "client/pc//parley-test<"
	for _, x := range f {
		s += x + "<"
	}
	sum := sha1.Sum([]byte(s))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// discoAnswer answers disco#info queries with features (and the caps
// node), recording how many it answered in *asked.
func discoAnswer(features []string, asked *atomic.Int32, lie bool) func(xmpptest.Stanza) string {
	return func(st xmpptest.Stanza) string {
		if !strings.Contains(st.Inner, "http://jabber.org/protocol/disco#info") {
			return ""
		}
		asked.Add(1)
		var b strings.Builder
		fmt.Fprintf(&b, `<iq type='result' id='%s' to='%s'><query xmlns='http://jabber.org/protocol/disco#info' node='%s#%s'>`,
			st.Attr("id"), st.Attr("from"), capsNode, capsVer(features))
		b.WriteString(`<identity category='client' type='pc' name='parley-test'/>`)
		for _, f := range features {
			fmt.Fprintf(&b, `<feature var='%s'/>`, f)
		}
		if lie {
			b.WriteString(`<feature var='urn:example:not-in-the-hash'/>`)
		}
		b.WriteString(`</query></iq>`)
		return b.String()
	}
}

// env is a server with users.
type env struct {
	srv *xmpptest.Server
}

func newEnv(t *testing.T, opts ...xmpptest.Option) *env {
	return &env{srv: xmpptest.Start(t, opts...)}
}

func (e *env) user(t *testing.T, name string) {
	e.srv.AddUser(t, name+"@localhost", "pw")
}

// client is a test client with entity capabilities.
type client struct {
	*xmpptest.Client
	asked atomic.Int32 // disco#info queries answered (on mellium's goroutine)
}

// dial logs name in and sends available presence; with features it answers disco#info with them and
// sends available presence carrying their XEP-0115 hash, and returns once
// the server has had the chance to verify it (two round trips: the query
// is queued before the first answer, the client's answer processed before
// the second).
func (e *env) dial(t *testing.T, name string, features ...string) *client {
	t.Helper()
	c := &client{}
	c.Client = e.srv.Dial(t, name+"@localhost", "pw", xmpptest.DialOptions{Answer: discoAnswer(features, &c.asked, false)})
	if features == nil {
		c.Send(t, `<presence/>`)
		c.sync(t)
		return c
	}
	c.Send(t, fmt.Sprintf(`<presence><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='%s' ver='%s'/></presence>`, capsNode, capsVer(features)))
	c.sync(t)
	return c
}

// sync makes two round trips to the server.
func (c *client) sync(t *testing.T) {
	t.Helper()
	for range 2 {
		if res := c.IQ(t, `<iq type='get' id='sync'><ping xmlns='urn:xmpp:ping'/></iq>`); res.Attr("type") != "result" {
			t.Fatalf("ping: %s", res.Inner)
		}
	}
}

// befriend gives a and b a mutual presence subscription.
func befriend(t *testing.T, a *client, aJID string, b *client, bJID string) {
	t.Helper()
	for _, p := range []struct {
		x, y *client
		yJID string
	}{{a, b, bJID}, {b, a, aJID}} {
		p.x.Send(t, `<presence to='`+p.yJID+`' type='subscribe'/>`)
		xJID := aJID
		if p.x == b {
			xJID = bJID
		}
		p.y.Expect(t, wait, "subscription request", func(st xmpptest.Stanza) bool {
			return st.XMLName.Local == "presence" && st.Attr("type") == "subscribe"
		})
		p.y.Send(t, `<presence to='`+xJID+`' type='subscribed'/>`)
	}
	deadline := time.Now().Add(wait)
	for {
		r := a.IQ(t, `<iq type='get' id='r'><query xmlns='jabber:iq:roster'/></iq>`)
		if strings.Contains(r.Inner, `subscription="both"`) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no mutual subscription: %s", r.Inner)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func isEvent(node, contains string) func(xmpptest.Stanza) bool {
	return func(st xmpptest.Stanza) bool {
		return st.XMLName.Local == "message" && strings.Contains(st.Inner, "http://jabber.org/protocol/pubsub#event") &&
			strings.Contains(st.Inner, `node="`+node+`"`) && strings.Contains(st.Inner, contains)
	}
}

// iq sends raw and fails unless the answer has type want and contains
// every string in has.
func (c *client) iq(t *testing.T, raw, want string, has ...string) xmpptest.Stanza {
	t.Helper()
	res := c.IQ(t, raw)
	if res.Attr("type") != want {
		t.Fatalf("%s: got type %s, want %s: %s", raw, res.Attr("type"), want, res.Inner)
	}
	for _, h := range has {
		if !strings.Contains(res.Inner, h) {
			t.Fatalf("%s: answer lacks %q: %s", raw, h, res.Inner)
		}
	}
	return res
}

func itoa(i int) string { return strconv.Itoa(i) }

// iqTo is an iq addressed to to, for mellium's IQ-taking calls.
func iqTo(to string) stanza.IQ {
	return stanza.IQ{To: mjid.MustParse(to)}
}
