package muc_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/storage/storagetest"
	"github.com/parleyim/parley/internal/xmpptest"
)

// mamPage queries a room's archive with an RSM set and returns the
// result messages and the iq result.
func mamPage(t *testing.T, c *xmpptest.Client, r, set string) ([]xmpptest.Stanza, xmpptest.Stanza) {
	t.Helper()
	qid := fmt.Sprintf("q%d", time.Now().UnixNano())
	res := c.IQ(t, `<iq type='set' id='`+qid+`' to='`+room(r)+`'><query xmlns='urn:xmpp:mam:2' queryid='`+qid+`'>`+set+`</query></iq>`)
	if res.Attr("type") != "result" {
		return nil, res
	}
	// Results are delivered before the iq result, so they are queued.
	var out []xmpptest.Stanza
	for {
		select {
		case s := <-c.In:
			if s.XMLName.Local == "message" && strings.Contains(s.Inner, `queryid="`+qid+`"`) {
				out = append(out, s)
			}
		default:
			return out, res
		}
	}
}

func stanzaID(t *testing.T, s xmpptest.Stanza, attr string) string {
	t.Helper()
	_, rest, ok := strings.Cut(s.Inner, attr)
	_, rest, ok2 := strings.Cut(rest, `id="`)
	id, _, ok3 := strings.Cut(rest, `"`)
	if !ok || !ok2 || !ok3 {
		t.Fatalf("no %s id in %s", attr, s.Inner)
	}
	return id
}

func rsmLast(t *testing.T, fin xmpptest.Stanza) string {
	t.Helper()
	_, rest, ok := strings.Cut(fin.Inner, "<last")
	_, rest, ok2 := strings.Cut(rest, ">")
	v, _, ok3 := strings.Cut(rest, "</last>")
	if !ok || !ok2 || !ok3 {
		t.Fatalf("no RSM last in %s", fin.Inner)
	}
	return v
}

// TestRoomArchive: a persistent room archives its groupchat messages
// (XEP-0313 on the room JID): each broadcast carries the archive id as
// the stanza-id by the room; an occupant pages the archive forwards and
// backwards; after a restart, history for a new occupant and the archive
// come from the database (on each storage engine); a temporary room keeps
// no archive.
func TestRoomArchive(t *testing.T) {
	for _, driver := range storagetest.Drivers {
		t.Run(driver, func(t *testing.T) { testRoomArchive(t, driver) })
	}
}

func testRoomArchive(t *testing.T, driver string) {
	opts := onEngine(t, driver, func(c *config.Config) { c.MUC.MessageRate = 0 })
	e := &env{srv: xmpptest.Start(t, opts), users: map[string]*xmpptest.Client{}}
	alice, bob := e.add(t, "alice"), e.add(t, "bob")
	create(t, alice, "arch", "A")
	if res := configure(t, alice, "arch", map[string]string{"muc#roomconfig_persistentroom": "1"}); res.Attr("type") != "result" {
		t.Fatalf("configure: %s", res.Inner)
	}
	info := bob.IQ(t, `<iq type='get' id='i' to='`+room("arch")+`'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`)
	if !strings.Contains(info.Inner, `var="urn:xmpp:mam:2"`) {
		t.Errorf("archived room does not advertise MAM: %s", info.Inner)
	}
	var ids []string
	for i := range 25 {
		groupchat(t, alice, "arch", fmt.Sprintf("msg %02d", i))
		echo := alice.Expect(t, wait, "echo", isMessage(occ("arch", "A"), fmt.Sprintf("msg %02d", i)))
		ids = append(ids, stanzaID(t, echo, "urn:xmpp:sid:0"))
	}
	join(t, bob, "arch", "B", "<history maxstanzas='0'/>")

	// Forwards, 10 at a time.
	var got []string
	after := ""
	for page := 0; ; page++ {
		set := `<set xmlns='http://jabber.org/protocol/rsm'><max>10</max>` + after + `</set>`
		msgs, fin := mamPage(t, bob, "arch", set)
		if fin.Attr("type") != "result" {
			t.Fatalf("page %d: %s", page, fin.Inner)
		}
		for _, m := range msgs {
			if m.Attr("from") != room("arch") || !strings.Contains(m.Inner, "urn:xmpp:forward:0") || !strings.Contains(m.Inner, "urn:xmpp:delay") {
				t.Fatalf("result: %s", m.Inner)
			}
			got = append(got, stanzaID(t, m, "urn:xmpp:mam:2"))
		}
		if strings.Contains(fin.Inner, `complete="true"`) {
			if page != 2 || len(msgs) != 5 {
				t.Errorf("complete on page %d with %d results, want page 2 with 5", page, len(msgs))
			}
			break
		}
		if page > 3 {
			t.Fatal("paging does not end")
		}
		after = "<after>" + rsmLast(t, fin) + "</after>"
	}
	if strings.Join(got, ",") != strings.Join(ids, ",") {
		t.Fatalf("archive ids %v\nbroadcast stanza-ids %v", got, ids)
	}
	// Backwards: the last page first.
	msgs, fin := mamPage(t, bob, "arch", `<set xmlns='http://jabber.org/protocol/rsm'><max>5</max><before/></set>`)
	if len(msgs) != 5 || !strings.Contains(msgs[4].Inner, "msg 24") || !strings.Contains(msgs[0].Inner, "msg 20") {
		t.Fatalf("last page: %d results, fin %s", len(msgs), fin.Inner)
	}
	// An unknown id is item-not-found.
	if _, res := mamPage(t, bob, "arch", `<set xmlns='http://jabber.org/protocol/rsm'><after>nope</after></set>`); !isError("item-not-found")(res) {
		t.Errorf("unknown after: %s", res.Inner)
	}
	// The shared query parser (package mam's seam): max 0 is the count
	// only; RSM index, an unknown field and start after end are refused.
	if msgs, fin := mamPage(t, bob, "arch", `<set xmlns='http://jabber.org/protocol/rsm'><max>0</max></set>`); len(msgs) != 0 || !strings.Contains(fin.Inner, ">25</count>") {
		t.Errorf("count only: %d results, fin %s", len(msgs), fin.Inner)
	}
	for _, bad := range []struct{ q, cond string }{
		{`<set xmlns='http://jabber.org/protocol/rsm'><index>3</index></set>`, "feature-not-implemented"},
		{`<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>urn:xmpp:mam:2</value></field><field var='colour'><value>x</value></field></x>`, "bad-request"},
		{`<x xmlns='jabber:x:data' type='submit'><field var='start'><value>2030-01-01T00:00:00Z</value></field><field var='end'><value>2020-01-01T00:00:00Z</value></field></x>`, "bad-request"},
	} {
		if _, res := mamPage(t, bob, "arch", bad.q); !isError(bad.cond)(res) {
			t.Errorf("%s: %s, want %s", bad.q, res.Inner, bad.cond)
		}
	}
	// A temporary room keeps none.
	create(t, alice, "temp", "A")
	if _, res := mamPage(t, alice, "temp", ""); !isError("service-unavailable")(res) {
		t.Errorf("temporary room's archive: %s", res.Inner)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	e = &env{srv: xmpptest.Start(t, opts), users: map[string]*xmpptest.Client{}}
	carol := e.add(t, "carol")
	hist := join(t, carol, "arch", "C", "<history maxstanzas='3'/>")
	var bodies []string
	for _, s := range hist {
		if s.XMLName.Local == "message" && strings.Contains(s.Inner, "<body") {
			if !strings.Contains(s.Inner, "urn:xmpp:delay") {
				t.Errorf("history without delay: %s", s.Inner)
			}
			bodies = append(bodies, s.Inner[strings.Index(s.Inner, "msg "):][:6])
		}
	}
	if strings.Join(bodies, ",") != "msg 22,msg 23,msg 24" {
		t.Errorf("history after restart: %v", bodies)
	}
	msgs, _ = mamPage(t, carol, "arch", `<set xmlns='http://jabber.org/protocol/rsm'><max>100</max></set>`)
	if len(msgs) != 25 {
		t.Errorf("archive after restart has %d messages, want 25", len(msgs))
	}
}
