package disco_test

import (
	"encoding/xml"
	"slices"
	"strings"
	"testing"

	"github.com/parleyim/parley/internal/xmpptest"
)

// result is a disco answer (xmpptest.Stanza.Inner holds the whole iq).
type result struct {
	Info struct {
		Identities []struct {
			Category string `xml:"category,attr"`
			Type     string `xml:"type,attr"`
			Name     string `xml:"name,attr"`
		} `xml:"identity"`
		Features []struct {
			Var string `xml:"var,attr"`
		} `xml:"feature"`
	} `xml:"http://jabber.org/protocol/disco#info query"`
	Items struct {
		Items []struct {
			JID  string `xml:"jid,attr"`
			Name string `xml:"name,attr"`
		} `xml:"item"`
	} `xml:"http://jabber.org/protocol/disco#items query"`
}

func (r result) features() []string {
	var out []string
	for _, f := range r.Info.Features {
		out = append(out, f.Var)
	}
	return out
}

func query(t *testing.T, c *xmpptest.Client, to, ns, node string) (xmpptest.Stanza, result) {
	t.Helper()
	attr := ""
	if node != "" {
		attr = " node='" + node + "'"
	}
	res := c.IQ(t, `<iq type='get' id='d' to='`+to+`'><query xmlns='`+ns+`'`+attr+`/></iq>`)
	var r result
	if res.Attr("type") == "result" {
		if err := xml.Unmarshal([]byte(res.Inner), &r); err != nil {
			t.Fatalf("disco answer %q: %v", res.Inner, err)
		}
	}
	return res, r
}

const (
	nsInfo  = "http://jabber.org/protocol/disco#info"
	nsItems = "http://jabber.org/protocol/disco#items"
)

// TestDisco asks a running server over a real socket: the server's
// identity and features (each once, sorted, what the modules registered),
// its items (the group chat service), an account's identity and features,
// and the errors for nodes and unknown users (XEP-0030 §3, §4).
func TestDisco(t *testing.T) {
	srv := xmpptest.Start(t)
	srv.AddUser(t, "alice@localhost", "pw")
	srv.AddUser(t, "bob@localhost", "pw")
	alice := srv.Dial(t, "alice@localhost", "pw", xmpptest.DialOptions{})

	res, r := query(t, alice, "localhost", nsInfo, "")
	if res.Attr("type") != "result" || len(r.Info.Identities) != 1 || r.Info.Identities[0].Category != "server" || r.Info.Identities[0].Type != "im" {
		t.Fatalf("server info: %s", res.Inner)
	}
	fs := r.features()
	if !slices.IsSorted(fs) || len(slices.Compact(slices.Clone(fs))) != len(fs) {
		t.Errorf("server features not sorted and unique: %v", fs)
	}
	for _, want := range []string{nsInfo, nsItems, "urn:xmpp:ping", "jabber:iq:version", "urn:xmpp:time", "urn:xmpp:carbons:2", "urn:xmpp:blocking"} {
		if !slices.Contains(fs, want) {
			t.Errorf("server features lack %s: %v", want, fs)
		}
	}

	res, r = query(t, alice, "localhost", nsItems, "")
	var items []string
	for _, it := range r.Items.Items {
		items = append(items, it.JID)
	}
	slices.Sort(items)
	if res.Attr("type") != "result" || !slices.Equal(items, []string{"conference.localhost", "pubsub.localhost", "upload.localhost"}) {
		t.Errorf("server items: %s", res.Inner)
	}

	for _, acct := range []string{"alice@localhost", "bob@localhost"} {
		res, r = query(t, alice, acct, nsInfo, "")
		// account/registered, and pubsub/pep (XEP-0163 §4).
		if res.Attr("type") != "result" || len(r.Info.Identities) != 2 || r.Info.Identities[0].Category != "account" || r.Info.Identities[0].Type != "registered" ||
			r.Info.Identities[1].Category != "pubsub" || r.Info.Identities[1].Type != "pep" {
			t.Errorf("info of %s: %s", acct, res.Inner)
		}
		if fs := r.features(); !slices.Contains(fs, nsInfo) || !slices.Contains(fs, "vcard-temp") || slices.Contains(fs, "urn:xmpp:carbons:2") {
			t.Errorf("features of %s: %v", acct, fs)
		}
		res, r = query(t, alice, acct, nsItems, "")
		if res.Attr("type") != "result" || len(r.Items.Items) != 0 {
			t.Errorf("items of %s: %s", acct, res.Inner)
		}
	}

	for _, tc := range []struct{ name, to, ns, node, cond string }{
		{"info node", "localhost", nsInfo, "nope", "item-not-found"},
		{"items node", "localhost", nsItems, "nope", "item-not-found"},
		{"account node", "bob@localhost", nsInfo, "nope", "item-not-found"},
		{"unknown user", "nobody@localhost", nsInfo, "", "service-unavailable"},
	} {
		res, _ := query(t, alice, tc.to, tc.ns, tc.node)
		if res.Attr("type") != "error" || !strings.Contains(res.Inner, tc.cond) {
			t.Errorf("%s: %s %s, want %s", tc.name, res.Attr("type"), res.Inner, tc.cond)
		}
	}
}
