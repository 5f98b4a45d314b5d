package roster_test

import (
	"context"
	"encoding/xml"
	"io"
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

// drain empties c.In.
func drain(c *xmpptest.Client) {
	for {
		select {
		case <-c.In:
		default:
			return
		}
	}
}

// send writes raw XML on c with a context that is never done. mellium
// v0.22 arms a goroutine per write that, once the write's context is done
// (as xmpptest's are, cancelled after the call), may briefly set the
// connection's deadline in the past; a write racing with that (Serve
// answering a roster push) breaks the TLS connection for good. A context
// that is never done avoids the race.
func send(t testing.TB, c *xmpptest.Client, raw string) {
	t.Helper()
	if err := c.S.Send(context.Background(), xml.NewDecoder(strings.NewReader(raw))); err != nil {
		t.Fatalf("send: %v", err)
	}
}

// iq sends an iq (see send) and returns the answer, failing after a
// timeout.
func iq(t testing.TB, c *xmpptest.Client, raw string) xmpptest.Stanza {
	t.Helper()
	type answer struct {
		st  xmpptest.Stanza
		err error
	}
	ch := make(chan answer, 1)
	go func() {
		resp, err := c.S.SendIQ(context.Background(), xml.NewDecoder(strings.NewReader(raw)))
		if err != nil {
			ch <- answer{err: err}
			return
		}
		defer resp.Close()
		st, err := decodeStanza(resp)
		ch <- answer{st, err}
	}()
	select {
	case a := <-ch:
		if a.err != nil {
			t.Fatalf("iq: %v", a.err)
		}
		return a.st
	case <-time.After(2 * wait):
		t.Fatalf("iq: no answer within %v", 2*wait)
		return xmpptest.Stanza{}
	}
}

// decodeStanza reads one element as xmpptest does for c.In.
func decodeStanza(r xml.TokenReader) (xmpptest.Stanza, error) {
	var st xmpptest.Stanza
	var b strings.Builder
	enc := xml.NewEncoder(&b)
	depth := 0
	for {
		tok, err := r.Token()
		if err == io.EOF && depth == 1 {
			tok, err = xml.EndElement{Name: st.XMLName}, nil // mellium stops before the end tag
		}
		if err != nil {
			return st, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				st.XMLName, st.Attrs = t.Name, t.Attr
			}
			depth++
		case xml.EndElement:
			depth--
		}
		if err := enc.EncodeToken(xml.CopyToken(tok)); err != nil {
			return st, err
		}
		if depth == 0 {
			enc.Flush()
			st.Inner = b.String()
			return st, nil
		}
	}
}
