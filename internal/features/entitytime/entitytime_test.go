package entitytime_test

import (
	"context"
	"encoding/xml"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/features/entitytime"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/xmpptest"
)

// TestTime: the server answers XEP-0202 with a UTC time that is a valid
// XEP-0082 DateTime, not before the request was sent and not after the
// answer arrived, and an offset that parses.
func TestTime(t *testing.T) {
	srv := xmpptest.Start(t)
	srv.AddUser(t, "alice@localhost", "pw")
	alice := srv.Dial(t, "alice@localhost", "pw", xmpptest.DialOptions{})
	before := time.Now().Truncate(time.Millisecond)
	res := alice.IQ(t, `<iq type='get' id='t' to='localhost'><time xmlns='urn:xmpp:time'/></iq>`)
	after := time.Now()
	if res.Attr("type") != "result" {
		t.Fatalf("time: %s %s", res.Attr("type"), res.Inner)
	}
	var answer struct {
		Time struct {
			TZO string `xml:"tzo"`
			UTC string `xml:"utc"`
		} `xml:"urn:xmpp:time time"`
	}
	if err := xml.Unmarshal([]byte(res.Inner), &answer); err != nil {
		t.Fatalf("time result %q: %v", res.Inner, err)
	}
	q := answer.Time
	utc, err := time.Parse(time.RFC3339Nano, q.UTC)
	if err != nil || utc.Location() != time.UTC {
		t.Fatalf("utc %q: %v", q.UTC, err)
	}
	if utc.Before(before) || utc.After(after) {
		t.Errorf("utc %v is outside the request's span [%v, %v]", utc, before, after)
	}
	if _, err := time.Parse("-07:00", q.TZO); err != nil {
		t.Errorf("tzo %q: %v", q.TZO, err)
	}
}

// TestElement pins the wire form: offset as ±hh:mm, UTC with
// milliseconds and Z (XEP-0202 §3, XEP-0082).
func TestElement(t *testing.T) {
	zone := time.FixedZone("IST", 5*3600+30*60)
	at := time.Date(2026, 12, 7, 20, 15, 4, 123456789, zone)
	m := &entitytime.Module{Now: func() time.Time { return at }}
	reg := module.NewRegistry()
	m.Register(reg)
	el, err := reg.LookupIQ(module.Server, stanza.Get, entitytime.NS, "time")(context.Background(), stanza.IQ{})
	if err != nil {
		t.Fatal(err)
	}
	if got := el.ChildText(entitytime.NS, "tzo"); got != "+05:30" {
		t.Errorf("tzo = %q", got)
	}
	if got := el.ChildText(entitytime.NS, "utc"); got != "2026-12-07T14:45:04.123Z" {
		t.Errorf("utc = %q", got)
	}
}
