package mam_test

import (
	"encoding/xml"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/xmpptest"
)

const wait = 10 * time.Second

// start runs a server with the users alice, bob and carol (password pw).
func start(t *testing.T, opts ...xmpptest.Option) *xmpptest.Server {
	t.Helper()
	srv := xmpptest.Start(t, opts...)
	for _, u := range []string{"alice", "bob", "carol"} {
		srv.AddUser(t, u+"@localhost", "pw")
	}
	return srv
}

func withMAM(f func(m *config.MAM)) xmpptest.Option {
	return func(c *config.Config) { f(&c.MAM) }
}

// online dials user and sends initial presence.
func online(t *testing.T, srv *xmpptest.Server, user string) *xmpptest.Client {
	t.Helper()
	c := srv.Dial(t, user+"@localhost", "pw", xmpptest.DialOptions{})
	c.Send(t, `<presence/>`)
	xmpptest.Settle(t, c)
	return c
}

// result is one archived message as a query returned it.
type result struct {
	XMLName xml.Name `xml:"message"`
	To      string   `xml:"to,attr"`
	Result  struct {
		ID        string `xml:"id,attr"`
		QueryID   string `xml:"queryid,attr"`
		Forwarded struct {
			Delay struct {
				Stamp string `xml:"stamp,attr"`
			} `xml:"urn:xmpp:delay delay"`
			Message struct {
				From     string `xml:"from,attr"`
				To       string `xml:"to,attr"`
				Type     string `xml:"type,attr"`
				Body     string `xml:"jabber:client body"`
				Inner    string `xml:",innerxml"`
				StanzaID []struct {
					By string `xml:"by,attr"`
					ID string `xml:"id,attr"`
				} `xml:"urn:xmpp:sid:0 stanza-id"`
			} `xml:"jabber:client message"`
		} `xml:"urn:xmpp:forward:0 forwarded"`
	} `xml:"urn:xmpp:mam:2 result"`
}

// finIQ is the iq result of a query (or its error).
type finIQ struct {
	Type string `xml:"type,attr"`
	Fin  struct {
		Complete string `xml:"complete,attr"`
		Set      struct {
			First string `xml:"first"`
			Last  string `xml:"last"`
			Count *int   `xml:"count"`
		} `xml:"http://jabber.org/protocol/rsm set"`
	} `xml:"urn:xmpp:mam:2 fin"`
	Error struct {
		Type  string `xml:"type,attr"`
		Inner string `xml:",innerxml"`
	} `xml:"error"`
}

// condition returns the error condition of an error reply.
func (f finIQ) condition() string {
	for _, c := range []string{"bad-request", "forbidden", "item-not-found", "jid-malformed", "feature-not-implemented", "service-unavailable", "policy-violation", "not-acceptable", "resource-constraint"} {
		if strings.Contains(f.Error.Inner, "<"+c) {
			return c
		}
	}
	return f.Error.Inner
}

// query sends a MAM query (inner is the query's content) and returns the
// results and the iq answer.
func query(t *testing.T, c *xmpptest.Client, attrs, inner string) ([]result, finIQ) {
	t.Helper()
	c.Drain()
	qid := fmt.Sprintf("q%d", time.Now().UnixNano())
	st := c.IQ(t, fmt.Sprintf(`<iq type='set' id='%s' %s><query xmlns='urn:xmpp:mam:2' queryid='%s'>%s</query></iq>`, qid, attrs, qid, inner))
	var f finIQ
	if err := xml.Unmarshal([]byte(st.Inner), &f); err != nil {
		t.Fatalf("fin: %v in %s", err, st.Inner)
	}
	var out []result
	for _, m := range c.Drain() {
		if m.XMLName.Local != "message" || !strings.Contains(m.Inner, "urn:xmpp:mam:2") {
			continue
		}
		var r result
		if err := xml.Unmarshal([]byte(m.Inner), &r); err != nil {
			t.Fatalf("result: %v in %s", err, m.Inner)
		}
		if r.Result.QueryID != qid {
			t.Fatalf("result with queryid %q, want %q", r.Result.QueryID, qid)
		}
		out = append(out, r)
	}
	return out, f
}

// form builds a submitted MAM data form from name=value pairs.
func form(fields ...string) string {
	var b strings.Builder
	b.WriteString(`<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>urn:xmpp:mam:2</value></field>`)
	for i := 0; i+1 < len(fields); i += 2 {
		fmt.Fprintf(&b, `<field var='%s'>`, fields[i])
		for _, v := range strings.Split(fields[i+1], " ") {
			fmt.Fprintf(&b, `<value>%s</value>`, v)
		}
		b.WriteString(`</field>`)
	}
	b.WriteString(`</x>`)
	return b.String()
}

func rsm(inner string) string {
	return `<set xmlns='http://jabber.org/protocol/rsm'>` + inner + `</set>`
}

func bodies(rs []result) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Result.Forwarded.Message.Body)
	}
	return out
}

func ids(rs []result) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Result.ID)
	}
	return out
}

// chat sends n chat messages "prefix0".. from c to to and waits until
// the server handled them.
func chat(t *testing.T, c *xmpptest.Client, to, prefix string, n int) {
	t.Helper()
	for i := range n {
		c.Send(t, fmt.Sprintf(`<message type='chat' to='%s' id='%s%d'><body>%s%d</body></message>`, to, prefix, i, prefix, i))
	}
	xmpptest.Settle(t, c)
}

// gone waits until user has no session left.
func gone(t *testing.T, srv *xmpptest.Server, user string) {
	t.Helper()
	j, _ := jid.Parse(user)
	deadline := time.Now().Add(wait)
	for len(srv.Router().Sessions(j)) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%s still has sessions", user)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
