package presence_test

import (
	"context"
	"encoding/xml"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/roster"
	"github.com/parleyim/parley/internal/storage"
	"github.com/parleyim/parley/internal/xmpptest"
)

const wait = 5 * time.Second

const pw = "pw"

// dial logs a new resource of user in.
func dial(t testing.TB, srv *xmpptest.Server, user string) *xmpptest.Client {
	t.Helper()
	return srv.Dial(t, user, pw, xmpptest.DialOptions{})
}

func isPresence(from, typ string) func(xmpptest.Stanza) bool {
	return func(s xmpptest.Stanza) bool {
		return s.XMLName.Local == "presence" && s.Attr("type") == typ &&
			(from == "" || s.Attr("from") == from || strings.HasPrefix(s.Attr("from"), from+"/"))
	}
}

func isPush(contact string) func(xmpptest.Stanza) bool {
	return func(s xmpptest.Stanza) bool {
		return s.XMLName.Local == "iq" && s.Attr("type") == "set" &&
			strings.Contains(s.Inner, "jabber:iq:roster") && strings.Contains(s.Inner, "jid=\""+contact+"\"")
	}
}

// interested asks for the roster so that c gets pushes.
func interested(t testing.TB, c *xmpptest.Client) xmpptest.Stanza {
	t.Helper()
	res := iq(t, c, `<iq type='get' id='r1'><query xmlns='jabber:iq:roster'/></iq>`)
	if res.Attr("type") != "result" {
		t.Fatalf("roster get: %+v", res)
	}
	return res
}

// available sends initial presence.
func available(t testing.TB, c *xmpptest.Client, status string) {
	t.Helper()
	send(t, c, `<presence><status>`+status+`</status></presence>`)
}

// openStore opens the server's database for checks.
func openStore(t testing.TB, srv *xmpptest.Server) *roster.Store {
	t.Helper()
	db, err := storage.Open(context.Background(), srv.Config)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return roster.NewStore(db)
}

func stateOf(t testing.TB, st *roster.Store, user, contact string) roster.State {
	t.Helper()
	s, _, err := st.State(context.Background(), jid.MustParse(user), jid.MustParse(contact))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func jidOf(s string) jid.JID { return jid.MustParse(s) }

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
