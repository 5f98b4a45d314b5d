package c2s_test

import (
	"crypto/tls"
	"regexp"
	"strings"
	"testing"

	"github.com/parleyim/parley/internal/xmpptest"
)

var enabledID = regexp.MustCompile(`<enabled xmlns="urn:xmpp:sm:3" id="([^"]+)" resume="true"`)

// TestSASL2StreamManagementInline: stream management enabled inside Bind 2
// (XEP-0198 §"Usage with SASL2 and Bind2"), then, after the connection
// vanished, resumed inside the next SASL2 <authenticate/>: one round trip
// to a resumed session that receives what was sent into the gap.
func TestSASL2StreamManagementInline(t *testing.T) {
	srv := xmpptest.Start(t)
	srv.AddUser(t, "alice@localhost", "pw")
	srv.AddUser(t, "bob@localhost", "pw")
	r, feats := srv.OpenTLS(t, "alice@localhost", tls.VersionTLS13)
	for _, want := range []string{`<feature var="urn:xmpp:sm:3"/>`, `<sm xmlns="urn:xmpp:sm:3"/></inline>`} {
		if !strings.Contains(feats, want) {
			t.Fatalf("SASL2 features lack %s: %s", want, feats)
		}
	}
	l := sasl2Login("SCRAM-SHA-256-PLUS", "phone")
	l.BindInline = "<enable xmlns='urn:xmpp:sm:3' resume='true'/>"
	res := r.SASL2(l)
	m := enabledID.FindStringSubmatch(res.Bound)
	if !res.Success || m == nil {
		t.Fatalf("no <enabled resume='true'/> in <bound/>: %+v", res)
	}
	full := res.AuthzID
	r.Write("<presence/>")
	bob := srv.Dial(t, "bob@localhost", "pw", xmpptest.DialOptions{})
	bob.Send(t, "<message to='"+full+"' type='chat' id='m1'><body>before</body></message>")
	r.ReadUntil("before</body>", wait)
	r.Conn.Close() // vanished: no closing tag, nothing acknowledged

	bob.Send(t, "<message to='"+full+"' type='chat' id='m2'><body>in the gap</body></message>")
	bob.IQ(t, "<iq type='get' to='localhost' id='b1'><ping xmlns='urn:xmpp:ping'/></iq>")

	r2, _ := srv.OpenTLS(t, "alice@localhost", tls.VersionTLS13)
	l2 := sasl2Login("SCRAM-SHA-256-PLUS", "phone")
	l2.Bind, l2.Extra = false, "<resume xmlns='urn:xmpp:sm:3' previd='"+m[1]+"' h='0'/>"
	res2 := r2.SASL2(l2)
	if !res2.Success || !strings.Contains(res2.Raw, `<resumed xmlns="urn:xmpp:sm:3" previd="`+m[1]+`"`) || res2.AuthzID != full {
		t.Fatalf("resume inside SASL2: %+v", res2)
	}
	// Nothing was acknowledged (h='0'): everything comes again, in order.
	out := r2.ReadUntil("in the gap</body>", wait)
	if i, j := strings.Index(out, "before</body>"), strings.Index(out, "in the gap"); i < 0 || i > j {
		t.Fatalf("unacknowledged stanzas not resent in order: %s", out)
	}
}

// TestSASL2ResumeFails: an unknown previd gets <failed/> inside the
// <success/>; the stream is authenticated and binds the classic way.
func TestSASL2ResumeFails(t *testing.T) {
	srv := xmpptest.Start(t)
	srv.AddUser(t, "alice@localhost", "pw")
	r, _ := srv.OpenTLS(t, "alice@localhost", 0)
	l := sasl2Login("SCRAM-SHA-256", "phone")
	l.Bind, l.Extra = false, "<resume xmlns='urn:xmpp:sm:3' previd='forged' h='0'/>"
	res := r.SASL2(l)
	if !res.Success || !strings.Contains(res.Raw, "<failed") || !strings.Contains(res.Raw, "item-not-found") || res.AuthzID != "alice@localhost" {
		t.Fatalf("resume of an unknown id: %+v", res)
	}
	if !strings.Contains(res.Features, "urn:ietf:params:xml:ns:xmpp-bind") {
		t.Fatalf("features after a failed resume: %s", res.Features)
	}
	if out := r.Bind("again"); !strings.Contains(out, "alice@localhost/again") {
		t.Fatalf("bind after a failed resume: %s", out)
	}
}

// TestSASL2ResumeFailsThenBinds: a login with <resume/> and Bind 2 (as
// xmpp.js sends once it has a session id) whose resumption fails still
// binds a new session in the same <success/>, and the stream management
// requested inside Bind 2 is enabled right after it.
func TestSASL2ResumeFailsThenBinds(t *testing.T) {
	srv := xmpptest.Start(t)
	srv.AddUser(t, "alice@localhost", "pw")
	r, _ := srv.OpenTLS(t, "alice@localhost", 0)
	l := sasl2Login("SCRAM-SHA-256", "phone")
	l.BindInline = "<enable xmlns='urn:xmpp:sm:3' resume='true'/>"
	l.Extra = "<resume xmlns='urn:xmpp:sm:3' previd='expired' h='3'/>"
	res := r.SASL2(l)
	if !res.Success || !strings.Contains(res.Raw, "item-not-found") || res.Bound == "" || !strings.HasPrefix(res.AuthzID, "alice@localhost/test.") {
		t.Fatalf("failed resumption with Bind 2: %+v", res)
	}
	r.ReadUntil(`<enabled xmlns="urn:xmpp:sm:3"`, wait)
	r.Write("<iq type='get' id='p1' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>")
	r.ReadUntil(`<iq id="p1" type="result"`, wait)
}
