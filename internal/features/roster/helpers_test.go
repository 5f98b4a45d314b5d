package roster_test

import (
	"strings"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/xmpptest"
)

const (
	wait = 5 * time.Second
	pw   = "pw"
)

func dial(t testing.TB, srv *xmpptest.Server, user string) *xmpptest.Client {
	t.Helper()
	return srv.Dial(t, user, pw, xmpptest.DialOptions{})
}

func isPush(contact string) func(xmpptest.Stanza) bool {
	return func(s xmpptest.Stanza) bool {
		return s.XMLName.Local == "iq" && s.Attr("type") == "set" &&
			strings.Contains(s.Inner, "jabber:iq:roster") && strings.Contains(s.Inner, `jid="`+contact+`"`)
	}
}

func isPresence(from, typ string) func(xmpptest.Stanza) bool {
	return func(s xmpptest.Stanza) bool {
		return s.XMLName.Local == "presence" && s.Attr("type") == typ &&
			(s.Attr("from") == from || strings.HasPrefix(s.Attr("from"), from+"/"))
	}
}

func anyPush(s xmpptest.Stanza) bool {
	return s.XMLName.Local == "iq" && s.Attr("type") == "set" && strings.Contains(s.Inner, "jabber:iq:roster")
}

// rosterGet asks for the roster (making c interested) with 'ver' set to
// ver, or without 'ver' when ver is "-".
func rosterGet(t testing.TB, c *xmpptest.Client, ver string) xmpptest.Stanza {
	t.Helper()
	q := `<query xmlns='jabber:iq:roster'/>`
	if ver != "-" {
		q = `<query xmlns='jabber:iq:roster' ver='` + ver + `'/>`
	}
	return iq(t, c, `<iq type='get' id='get1'>`+q+`</iq>`)
}

func rosterSet(t testing.TB, c *xmpptest.Client, item string) xmpptest.Stanza {
	t.Helper()
	return iq(t, c, `<iq type='set' id='set1'><query xmlns='jabber:iq:roster'>`+item+`</query></iq>`)
}

func errorCondition(s xmpptest.Stanza) string {
	if s.Attr("type") != "error" {
		return ""
	}
	for _, c := range []string{"bad-request", "not-acceptable", "resource-constraint", "forbidden", "item-not-found", "jid-malformed", "not-allowed", "service-unavailable"} {
		if strings.Contains(s.Inner, "<"+c+" ") || strings.Contains(s.Inner, "<"+c+">") {
			return c
		}
	}
	return "other"
}

func attrOf(inner, name string) string {
	i := strings.Index(inner, " "+name+`="`)
	if i < 0 {
		return ""
	}
	rest := inner[i+len(name)+3:]
	return rest[:strings.IndexByte(rest, '"')]
}

// send writes raw XML on c (xmpptest's Client.Send).
func send(t testing.TB, c *xmpptest.Client, raw string) { t.Helper(); c.Send(t, raw) }

// iq sends an iq and returns the answer (xmpptest's Client.IQ).
func iq(t testing.TB, c *xmpptest.Client, raw string) xmpptest.Stanza {
	t.Helper()
	return c.IQ(t, raw)
}
