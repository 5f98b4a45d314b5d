package c2s_test

import (
	"crypto/tls"
	"strings"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/xmpptest"
)

// The SASL2 (XEP-0388) and Bind 2 (XEP-0386) tests log in with the raw
// client of xmpptest over a real TLS socket; FAST has its own file.

// sasl2Login is a password login with Bind 2 for alice.
func sasl2Login(mech, agent string) xmpptest.SASL2Login {
	return xmpptest.SASL2Login{Mechanism: mech, User: "alice", Password: "pw", Agent: agent,
		Software: "parley-test", Device: "CI", Bind: true, Tag: "test", Count: -1}
}

func TestSASL2Features(t *testing.T) {
	srv := xmpptest.Start(t)
	_, feats := srv.OpenTLS(t, "alice@localhost", tls.VersionTLS13)
	for _, want := range []string{
		`<authentication xmlns="urn:xmpp:sasl:2">`,
		`<mechanism>SCRAM-SHA-512-PLUS</mechanism>`, `<mechanism>SCRAM-SHA-256</mechanism>`, `<mechanism>PLAIN</mechanism>`,
		`<bind xmlns="urn:xmpp:bind:0"><inline>`,
		`<feature var="urn:xmpp:carbons:2"/>`, `<feature var="urn:xmpp:csi:0"/>`,
		`<fast xmlns="urn:xmpp:fast:0"><mechanism>HT-SHA-256-EXPR</mechanism><mechanism>HT-SHA-256-ENDP</mechanism><mechanism>HT-SHA-256-NONE</mechanism></fast>`,
		`<sasl-channel-binding xmlns="urn:xmpp:sasl-cb:0"><channel-binding type="tls-exporter"/>`,
		// The classic path is still offered beside it.
		`<mechanisms xmlns="urn:ietf:params:xml:ns:xmpp-sasl"><mechanism>SCRAM-SHA-512-PLUS</mechanism>`,
	} {
		if !strings.Contains(feats, want) {
			t.Errorf("features lack %s:\n%s", want, feats)
		}
	}

	off := xmpptest.Start(t, func(c *config.Config) { c.SASL2.Enabled, c.SASL2.FAST = false, false })
	if _, feats := off.OpenTLS(t, "alice@localhost", 0); strings.Contains(feats, "urn:xmpp:sasl:2") {
		t.Errorf("sasl2.enabled = false still offers SASL2: %s", feats)
	}
}

// TestSASL2BindOneRoundTrip: SCRAM-SHA-256-PLUS (tls-exporter) with Bind 2
// authenticates and binds in the exchange itself; the session then works
// without any further negotiation.
func TestSASL2BindOneRoundTrip(t *testing.T) {
	srv := xmpptest.Start(t)
	srv.AddUser(t, "alice@localhost", "pw")
	for _, mech := range []string{"SCRAM-SHA-256-PLUS", "SCRAM-SHA-512", "PLAIN"} {
		t.Run(mech, func(t *testing.T) {
			r, _ := srv.OpenTLS(t, "alice@localhost", tls.VersionTLS13)
			res := r.SASL2(sasl2Login(mech, "agent-"+mech))
			if !res.Success {
				t.Fatalf("login failed: %s", res.Raw)
			}
			if mech != "PLAIN" && !res.ServerOK {
				t.Error("the server's SCRAM signature in <additional-data/> does not verify")
			}
			if !strings.HasPrefix(res.AuthzID, "alice@localhost/test.") {
				t.Errorf("authorization-identifier %q is not the bound full JID", res.AuthzID)
			}
			if res.Bound == "" {
				t.Error("no <bound/> in <success/>")
			}
			if strings.Contains(res.Features, "urn:ietf:params:xml:ns:xmpp-bind") || !strings.Contains(res.Features, "urn:xmpp:csi:0") {
				t.Errorf("features after a bound login: %s", res.Features)
			}
			// No restart, no bind: stanzas flow at once.
			r.Write("<iq type='get' id='p1' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>")
			r.ReadUntil(`<iq id="p1" type="result"`, wait)
		})
	}
}

// TestSASL2WithoutBind: without Bind 2 the stream is authenticated, not
// bound; the features offer classic binding, which then works.
func TestSASL2WithoutBind(t *testing.T) {
	srv := xmpptest.Start(t)
	srv.AddUser(t, "alice@localhost", "pw")
	r, _ := srv.OpenTLS(t, "alice@localhost", 0)
	l := sasl2Login("SCRAM-SHA-1", "")
	l.Bind = false
	res := r.SASL2(l)
	if !res.Success || res.AuthzID != "alice@localhost" || res.Bound != "" {
		t.Fatalf("login: %+v", res)
	}
	if !strings.Contains(res.Features, `<bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"/>`) {
		t.Fatalf("features after an unbound login: %s", res.Features)
	}
	if out := r.Bind("classic"); !strings.Contains(out, "alice@localhost/classic") {
		t.Fatalf("classic bind after SASL2: %s", out)
	}
}

// TestSASL2StableResource: the same user agent always gets the same
// resource (XEP-0386), and its new session replaces the stale one; another
// agent gets another resource; no agent, a random one.
func TestSASL2StableResource(t *testing.T) {
	srv := xmpptest.Start(t)
	srv.AddUser(t, "alice@localhost", "pw")
	login := func(agent string) (*xmpptest.Raw, string) {
		r, _ := srv.OpenTLS(t, "alice@localhost", 0)
		res := r.SASL2(sasl2Login("SCRAM-SHA-256", agent))
		if !res.Success {
			t.Fatalf("login: %s", res.Raw)
		}
		return r, res.AuthzID
	}
	r1, phone := login("3f1d2a9c-phone")
	_, phone2 := login("3f1d2a9c-phone")
	if phone != phone2 {
		t.Errorf("same agent, resources %q and %q", phone, phone2)
	}
	if out, _ := r1.ReadToEOF(wait); !strings.Contains(out, "<conflict") {
		t.Errorf("the stale session of the same agent was not replaced: %q", out)
	}
	if strings.Contains(phone, "3f1d2a9c") {
		t.Errorf("resource %q shows the user-agent id", phone)
	}
	_, laptop := login("9b7e-laptop")
	_, anon1 := login("")
	_, anon2 := login("")
	if laptop == phone || anon1 == anon2 {
		t.Errorf("resources: phone %q laptop %q, no agent %q and %q", phone, laptop, anon1, anon2)
	}
}

// TestSASL2Failures: each failure is a SASL2 <failure/> with an RFC 6120
// condition and text, counted like the classic path's, and leaves the
// stream as it was: a correct login follows on the same stream.
func TestSASL2Failures(t *testing.T) {
	srv := xmpptest.Start(t)
	srv.AddUser(t, "alice@localhost", "pw")
	r, _ := srv.OpenTLS(t, "alice@localhost", tls.VersionTLS13)

	before := saslFailures(t, "wrong-password", "SCRAM-SHA-256")
	bad := sasl2Login("SCRAM-SHA-256", "a1")
	bad.Password = "wrong"
	if res := r.SASL2(bad); res.Success || res.Condition != "not-authorized" || res.Text == "" {
		t.Errorf("wrong password: %+v", res)
	}
	if got := saslFailures(t, "wrong-password", "SCRAM-SHA-256"); got != before+1 {
		t.Errorf("parley_sasl_failures_total{wrong-password} went from %v to %v", before, got)
	}

	before = saslFailures(t, "binding-mismatch", "SCRAM-SHA-256-PLUS")
	relay := sasl2Login("SCRAM-SHA-256-PLUS", "a1")
	relay.WrongCB = true
	if res := r.SASL2(relay); res.Success || res.Condition != "not-authorized" {
		t.Errorf("channel binding mismatch: %+v", res)
	}
	if got := saslFailures(t, "binding-mismatch", "SCRAM-SHA-256-PLUS"); got != before+1 {
		t.Errorf("parley_sasl_failures_total{binding-mismatch} went from %v to %v", before, got)
	}

	if res := r.SASL2(sasl2Login("DIGEST-MD5", "a1")); res.Success || res.Condition != "invalid-mechanism" {
		t.Errorf("unknown mechanism: %+v", res)
	}
	// tls-unique does not exist on TLS 1.3 (issue 9's policy carries over).
	unique := sasl2Login("SCRAM-SHA-256-PLUS", "a1")
	unique.CBType = "tls-unique"
	if res := r.SASL2(unique); res.Success || res.Condition != "not-authorized" {
		t.Errorf("tls-unique on TLS 1.3: %+v", res)
	}

	if res := r.SASL2(sasl2Login("SCRAM-SHA-256-PLUS", "a1")); !res.Success {
		t.Fatalf("login after the failures: %s", res.Raw)
	}
}

// TestSASL2BadInput: malformed requests get a SASL2 failure naming the
// problem, and do not count as failed logins.
func TestSASL2BadInput(t *testing.T) {
	srv := xmpptest.Start(t)
	srv.AddUser(t, "alice@localhost", "pw")
	r, _ := srv.OpenTLS(t, "alice@localhost", 0)
	for _, tc := range []struct{ name, in, cond string }{
		{"bad base64", "<authenticate xmlns='urn:xmpp:sasl:2' mechanism='PLAIN'><initial-response>!!!</initial-response></authenticate>", "incorrect-encoding"},
		{"no mechanism", "<authenticate xmlns='urn:xmpp:sasl:2'/>", "invalid-mechanism"},
		{"response without exchange", "<response xmlns='urn:xmpp:sasl:2'>AAAA</response>", "malformed-request"},
		{"abort", "<abort xmlns='urn:xmpp:sasl:2'/>", "aborted"},
		{"bind tag with slash", "<authenticate xmlns='urn:xmpp:sasl:2' mechanism='PLAIN'><initial-response>AGFsaWNlAHB3</initial-response><bind xmlns='urn:xmpp:bind:0'><tag>a/b</tag></bind></authenticate>", "malformed-request"},
		{"user-agent id too long", "<authenticate xmlns='urn:xmpp:sasl:2' mechanism='PLAIN'><initial-response>AGFsaWNlAHB3</initial-response><user-agent id='" + strings.Repeat("x", 300) + "'/></authenticate>", "malformed-request"},
		{"token request without agent", "<authenticate xmlns='urn:xmpp:sasl:2' mechanism='PLAIN'><initial-response>AGFsaWNlAHB3</initial-response><request-token xmlns='urn:xmpp:fast:0' mechanism='HT-SHA-256-NONE'/></authenticate>", "malformed-request"},
		{"token request for no FAST mechanism", "<authenticate xmlns='urn:xmpp:sasl:2' mechanism='PLAIN'><initial-response>AGFsaWNlAHB3</initial-response><user-agent id='x'/><request-token xmlns='urn:xmpp:fast:0' mechanism='PLAIN'/></authenticate>", "malformed-request"},
	} {
		r.Write(tc.in)
		out := r.ReadUntil("</failure>", wait)
		if !strings.Contains(out, "<failure xmlns='urn:xmpp:sasl:2'><"+tc.cond+" xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>") {
			t.Errorf("%s: %s", tc.name, out)
		}
	}
	// Still not logged in after all that, and still able to.
	if res := r.SASL2(sasl2Login("PLAIN", "ok")); !res.Success {
		t.Fatalf("login after bad input: %s", res.Raw)
	}
}

// TestSASL2CarbonsInline: carbons enabled inside Bind 2 really copy
// messages (XEP-0280 through the module's Bind 2 handler); a session that
// did not ask gets no copies.
func TestSASL2CarbonsInline(t *testing.T) {
	srv := xmpptest.Start(t)
	srv.AddUser(t, "alice@localhost", "pw")
	srv.AddUser(t, "bob@localhost", "pw")
	open := func(agent, inline string) (*xmpptest.Raw, string) {
		r, _ := srv.OpenTLS(t, "alice@localhost", 0)
		l := sasl2Login("SCRAM-SHA-256", agent)
		l.BindInline = inline
		res := r.SASL2(l)
		if !res.Success {
			t.Fatalf("login: %s", res.Raw)
		}
		r.Write("<presence/>")
		return r, res.AuthzID
	}
	withCarbons, _ := open("phone", "<enable xmlns='urn:xmpp:carbons:2'/>")
	_, plainJID := open("laptop", "")
	bob := srv.Dial(t, "bob@localhost", "pw", xmpptest.DialOptions{})
	bob.Send(t, "<message to='"+plainJID+"' type='chat' id='m1'><body>to the laptop</body></message>")
	out := withCarbons.ReadUntil("</received>", wait)
	if !strings.Contains(out, `<received xmlns="urn:xmpp:carbons:2">`) || !strings.Contains(out, "to the laptop") {
		t.Fatalf("no carbon copy of a message to another resource: %s", out)
	}
}

// TestSASL2CSIInline: <inactive/> inside Bind 2 makes the session start
// inactive (XEP-0352 through the CSI module's Bind 2 handler): a presence
// for it is held until it says <active/>.
func TestSASL2CSIInline(t *testing.T) {
	srv := xmpptest.Start(t)
	srv.AddUser(t, "alice@localhost", "pw")
	srv.AddUser(t, "bob@localhost", "pw")
	r, _ := srv.OpenTLS(t, "alice@localhost", 0)
	l := sasl2Login("SCRAM-SHA-256", "phone")
	l.BindInline = "<inactive xmlns='urn:xmpp:csi:0'/>"
	res := r.SASL2(l)
	if !res.Success {
		t.Fatalf("login: %s", res.Raw)
	}
	bob := srv.Dial(t, "bob@localhost", "pw", xmpptest.DialOptions{})
	bob.Send(t, "<presence to='"+res.AuthzID+"'><status>held</status></presence>")
	bob.IQ(t, "<iq type='get' to='localhost' id='b1'><ping xmlns='urn:xmpp:ping'/></iq>") // the presence was routed
	if out, _ := r.ReadUntilAny([]string{"<status>held</status>"}, 500*time.Millisecond); strings.Contains(out, "held") {
		t.Fatalf("an inactive session got a presence at once: %s", out)
	}
	r.Write("<active xmlns='urn:xmpp:csi:0'/>")
	r.ReadUntil("<status>held</status>", wait)
}

// TestSASL2FullLimitsAfterLogin: without a stream restart the element
// limits still switch from the small pre-login ones (8 KiB) to the full
// ones once SASL2 succeeds.
func TestSASL2FullLimitsAfterLogin(t *testing.T) {
	srv := xmpptest.Start(t)
	srv.AddUser(t, "alice@localhost", "pw")
	r, _ := srv.OpenTLS(t, "alice@localhost", 0)
	res := r.SASL2(sasl2Login("PLAIN", "big"))
	if !res.Success {
		t.Fatalf("login: %s", res.Raw)
	}
	body := strings.Repeat("x", 32<<10)
	r.Write("<message to='" + res.AuthzID + "' type='chat'><body>" + body + "</body></message>")
	if out := r.ReadUntil("</message>", wait); !strings.Contains(out, body) {
		t.Fatalf("a 32 KiB message after SASL2: %.300s", out)
	}
}
