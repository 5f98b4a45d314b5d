package version_test

import (
	"context"
	"encoding/xml"
	"runtime"
	"strings"
	"testing"

	"github.com/parleyim/parley/internal/features/version"
	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/server"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/xmpptest"
)

// answer is the result iq (xmpptest.Stanza.Inner holds the whole iq).
type answer struct {
	Query struct {
		Name    string  `xml:"name"`
		Version string  `xml:"version"`
		OS      *string `xml:"os"`
	} `xml:"jabber:iq:version query"`
}

// TestVersion: the server answers XEP-0092 for itself, with its name,
// server.Version and platform; accounts do not answer for their users.
func TestVersion(t *testing.T) {
	srv := xmpptest.Start(t)
	srv.AddUser(t, "alice@localhost", "pw")
	alice := srv.Dial(t, "alice@localhost", "pw", xmpptest.DialOptions{})
	res := alice.IQ(t, `<iq type='get' id='v' to='localhost'><query xmlns='jabber:iq:version'/></iq>`)
	if res.Attr("type") != "result" {
		t.Fatalf("version: %s %s", res.Attr("type"), res.Inner)
	}
	var a answer
	if err := xml.Unmarshal([]byte(res.Inner), &a); err != nil {
		t.Fatalf("version result %q: %v", res.Inner, err)
	}
	q := a.Query
	if q.Name != "Parley" || q.Version != server.Version || q.OS == nil || *q.OS != runtime.GOOS+"/"+runtime.GOARCH {
		t.Errorf("version result = %+v", q)
	}
	res = alice.IQ(t, `<iq type='get' id='v2' to='alice@localhost'><query xmlns='jabber:iq:version'/></iq>`)
	if res.Attr("type") != "error" || !strings.Contains(res.Inner, "service-unavailable") {
		t.Errorf("version of an account: %s %s", res.Attr("type"), res.Inner)
	}
}

// TestHideOS: with HideOS the answer has no <os/> (XEP-0092 §4).
func TestHideOS(t *testing.T) {
	reg := module.NewRegistry()
	(&version.Module{Name: "n", Version: "v", HideOS: true}).Register(reg)
	h := reg.LookupIQ(module.Server, stanza.Get, version.NS, "query")
	if h == nil {
		t.Fatal("no handler registered")
	}
	el, err := h(context.Background(), stanza.IQ{Type: stanza.Get, To: jid.MustParse("localhost")})
	if err != nil {
		t.Fatal(err)
	}
	if el.Child(version.NS, "os") != nil || el.ChildText(version.NS, "name") != "n" || el.ChildText(version.NS, "version") != "v" {
		t.Errorf("answer = %s", el.AppendXML(nil, ""))
	}
}
