package c2s_test

import (
	"context"
	"crypto/tls"
	"errors"
	"strings"
	"testing"
	"time"

	"mellium.im/sasl"
	"mellium.im/xmpp/stream"

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/xmpptest"
)

const wait = 5 * time.Second

func isChat(body string) func(xmpptest.Stanza) bool {
	return func(s xmpptest.Stanza) bool {
		return s.XMLName.Local == "message" && strings.Contains(s.Inner, body)
	}
}

func TestLoginEachMechanism(t *testing.T) {
	srv := xmpptest.Start(t)
	srv.AddUser(t, "alice@localhost", "secret pw")
	tls13 := func() *tls.Config {
		c := srv.TLSConfig(t, "localhost")
		c.MinVersion = tls.VersionTLS13
		return c
	}
	cases := []struct {
		name string
		mech sasl.Mechanism
		tls  *tls.Config
	}{
		{"PLAIN", sasl.Plain, nil},
		{"SCRAM-SHA-1", sasl.ScramSha1, nil},
		{"SCRAM-SHA-256", sasl.ScramSha256, nil},
		{"SCRAM-SHA-1-PLUS tls-exporter", sasl.ScramSha1Plus, tls13()},
		{"SCRAM-SHA-256-PLUS tls-exporter", sasl.ScramSha256Plus, tls13()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := srv.Dial(t, "alice@localhost", "secret pw", xmpptest.DialOptions{
				Mechanisms: []sasl.Mechanism{tc.mech}, TLS: tc.tls,
			})
			if got := c.JID.Bare().String(); got != "alice@localhost" {
				t.Fatalf("bound as %s", got)
			}
			res := c.IQ(t, `<iq type='get' id='p1' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`)
			if res.Attr("type") != "result" {
				t.Fatalf("ping after %s login: %+v", tc.name, res)
			}
		})
	}
}

func TestWrongPasswordAndUnknownUser(t *testing.T) {
	srv := xmpptest.Start(t)
	srv.AddUser(t, "alice@localhost", "right")
	for _, tc := range []struct{ name, user, pass string }{
		{"wrong password", "alice@localhost", "wrong"},
		{"unknown user", "nobody@localhost", "whatever"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := srv.DialErr(t, tc.user, tc.pass, xmpptest.DialOptions{})
			if err == nil {
				t.Fatal("login succeeded")
			}
		})
	}
	// PLAIN over a raw stream shows the exact failure condition.
	r := srv.Raw(t)
	r.Open("localhost")
	r.StartTLS(srv.TLSConfig(t, "localhost"), "localhost")
	if out := r.Plain("", "alice", "wrong"); !strings.Contains(out, "<not-authorized/>") {
		t.Fatalf("failure = %q, want not-authorized", out)
	}
}

func TestAuthzidMustBeTheAccount(t *testing.T) {
	srv := xmpptest.Start(t)
	srv.AddUser(t, "alice@localhost", "pw")
	srv.AddUser(t, "bob@localhost", "pw")
	r := srv.Raw(t)
	r.Open("localhost")
	r.StartTLS(srv.TLSConfig(t, "localhost"), "localhost")
	if out := r.Plain("bob@localhost", "alice", "pw"); !strings.Contains(out, "<invalid-authzid/>") {
		t.Fatalf("authzid bob for alice: %q", out)
	}
	if out := r.Plain("alice@localhost", "alice", "pw"); !strings.Contains(out, "success") {
		t.Fatalf("authzid equal to the account refused: %q", out)
	}
}

func TestPlainRefusedWithoutTLS(t *testing.T) {
	srv := xmpptest.Start(t, func(c *config.Config) { c.C2S.RequireTLS = false })
	srv.AddUser(t, "alice@localhost", "pw")
	r := srv.Raw(t)
	features := r.Open("localhost")
	if strings.Contains(features, ">PLAIN<") {
		t.Fatalf("PLAIN offered in the clear: %s", features)
	}
	if out := r.Plain("", "alice", "pw"); !strings.Contains(out, "failure") {
		t.Fatalf("PLAIN accepted in the clear: %q", out)
	}
}

func TestInsecurePlaintextAllowsPlain(t *testing.T) {
	srv := xmpptest.Start(t, func(c *config.Config) { c.C2S.InsecurePlaintext = true })
	srv.AddUser(t, "alice@localhost", "pw")
	r := srv.Raw(t)
	r.Open("localhost")
	if out := r.Plain("", "alice", "pw"); !strings.Contains(out, "success") {
		t.Fatalf("PLAIN refused with insecure_plaintext: %q", out)
	}
}

func TestAuthBeforeTLSRefused(t *testing.T) {
	srv := xmpptest.Start(t)
	srv.AddUser(t, "alice@localhost", "pw")
	r := srv.Raw(t)
	features := r.Open("localhost")
	if !strings.Contains(features, "<required") || strings.Contains(features, "mechanisms") {
		t.Fatalf("features before TLS: %s", features)
	}
	r.Write("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGFsaWNlAHB3</auth>")
	out, _ := r.ReadToEOF(wait)
	if !strings.Contains(out, "<policy-violation") {
		t.Fatalf("auth before STARTTLS: %q", out)
	}
}

func TestResourceConflictReplacesOldSession(t *testing.T) {
	srv := xmpptest.Start(t)
	srv.AddUser(t, "alice@localhost", "pw")
	cfg := srv.TLSConfig(t, "localhost")
	first := srv.Raw(t)
	first.Login(cfg, "alice", "localhost", "pw", "phone")
	second := srv.Raw(t)
	second.Login(cfg, "alice", "localhost", "pw", "phone")
	out, closed := first.ReadToEOF(wait)
	if !closed || !strings.Contains(out, "<conflict") {
		t.Fatalf("old session: closed=%v %q", closed, out)
	}
	second.Write(`<iq type='get' id='p9' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`)
	if got, _ := second.ReadUntilAny([]string{`type="result"`, `type="error"`}, wait); !strings.Contains(got, `type="result"`) {
		t.Fatalf("new session not usable: %q", got)
	}
}

func TestMessageExchange(t *testing.T) {
	srv := xmpptest.Start(t)
	srv.AddUser(t, "alice@localhost", "pw")
	srv.AddUser(t, "bob@localhost", "pw")
	alice := srv.Dial(t, "alice@localhost", "pw", xmpptest.DialOptions{})
	bob := srv.Dial(t, "bob@localhost", "pw", xmpptest.DialOptions{})

	alice.Send(t, `<message to='`+bob.JID.String()+`' type='chat' id='m1'><body>hello bob</body></message>`)
	got := bob.Expect(t, wait, "alice's message", isChat("hello bob"))
	if got.Attr("from") != alice.JID.String() || got.Attr("id") != "m1" {
		t.Fatalf("bob got %+v", got)
	}
	// To the bare JID once bob is available.
	bob.Send(t, `<presence/>`)
	bob.Send(t, `<message to='`+alice.JID.String()+`' type='chat'><body>sync</body></message>`)
	alice.Expect(t, wait, "sync", isChat("sync"))
	alice.Send(t, `<message to='bob@localhost' type='chat'><body>to bare</body></message>`)
	bob.Expect(t, wait, "bare-JID message", isChat("to bare"))
	// And back.
	bob.Send(t, `<message to='`+alice.JID.String()+`' type='chat'><body>hi alice</body></message>`)
	if got := alice.Expect(t, wait, "reply", isChat("hi alice")); got.Attr("from") != bob.JID.String() {
		t.Fatalf("alice got from %q", got.Attr("from"))
	}
}

func TestMessageToUnknownUserBounces(t *testing.T) {
	srv := xmpptest.Start(t)
	srv.AddUser(t, "alice@localhost", "pw")
	alice := srv.Dial(t, "alice@localhost", "pw", xmpptest.DialOptions{})
	alice.Send(t, `<message to='nobody@localhost' type='chat' id='x1'><body>hi</body></message>`)
	got := alice.Expect(t, wait, "error", func(s xmpptest.Stanza) bool { return s.Attr("type") == "error" })
	if !strings.Contains(got.Inner, "service-unavailable") || got.Attr("id") != "x1" {
		t.Fatalf("bounce = %+v", got)
	}
}

func TestForgedFromNeverDelivered(t *testing.T) {
	srv := xmpptest.Start(t)
	srv.AddUser(t, "alice@localhost", "pw")
	srv.AddUser(t, "bob@localhost", "pw")
	srv.AddUser(t, "carol@localhost", "pw")
	alice := srv.Dial(t, "alice@localhost", "pw", xmpptest.DialOptions{})
	bob := srv.Dial(t, "bob@localhost", "pw", xmpptest.DialOptions{})
	alice.Send(t, `<message from='carol@localhost/x' to='`+bob.JID.String()+`' type='chat'><body>forged</body></message>`)
	err := alice.Done(t, wait)
	var se stream.Error
	if !errors.As(err, &se) || se.Err != "invalid-from" {
		t.Fatalf("forger's stream ended with %v, want invalid-from", err)
	}
	bob.ExpectNone(t, 300*time.Millisecond, "forged message", isChat("forged"))
	// A 'from' equal to the sender's own bare JID is accepted and stamped.
	alice2 := srv.Dial(t, "alice@localhost", "pw", xmpptest.DialOptions{})
	alice2.Send(t, `<message from='alice@localhost' to='`+bob.JID.String()+`' type='chat'><body>own bare</body></message>`)
	if got := bob.Expect(t, wait, "message", isChat("own bare")); got.Attr("from") != alice2.JID.String() {
		t.Fatalf("from = %q", got.Attr("from"))
	}
}

func TestServerOwnedElementsStripped(t *testing.T) {
	srv := xmpptest.Start(t)
	srv.AddUser(t, "alice@localhost", "pw")
	srv.AddUser(t, "bob@localhost", "pw")
	alice := srv.Dial(t, "alice@localhost", "pw", xmpptest.DialOptions{})
	bob := srv.Dial(t, "bob@localhost", "pw", xmpptest.DialOptions{})
	alice.Send(t, `<message to='`+bob.JID.String()+`' type='chat'><body>strip</body>`+
		`<stanza-id xmlns='urn:xmpp:sid:0' by='bob@localhost' id='fake'/>`+
		`<delay xmlns='urn:xmpp:delay' from='localhost' stamp='2002-09-10T23:08:25Z'/>`+
		`<occupant-id xmlns='urn:xmpp:occupant-id:0' id='fake'/>`+
		`<origin-id xmlns='urn:xmpp:sid:0' id='keep-me'/>`+
		`<stanza-id xmlns='urn:xmpp:sid:0' by='elsewhere.example' id='foreign'/></message>`)
	got := bob.Expect(t, wait, "message", isChat("strip"))
	for _, forged := range []string{`id="fake"`, "urn:xmpp:delay", "occupant-id"} {
		if strings.Contains(got.Inner, forged) {
			t.Errorf("forged %s delivered: %s", forged, got.Inner)
		}
	}
	for _, kept := range []string{"keep-me", "foreign"} {
		if !strings.Contains(got.Inner, kept) {
			t.Errorf("%s removed: %s", kept, got.Inner)
		}
	}
}

func TestCaseFoldedJIDs(t *testing.T) {
	srv := xmpptest.Start(t)
	srv.AddUser(t, "Alice@LOCALHOST", "pw")
	srv.AddUser(t, "bob@localhost", "pw")
	cfg := srv.TLSConfig(t, "localhost")
	upper := srv.Raw(t)
	upper.Login(cfg, "ALICE", "LocalHost", "pw", "Phone")
	lower := srv.Raw(t)
	lower.Login(cfg, "alice", "localhost", "pw", "phone")
	if srv.Router().Session(jidOf(t, "alice@localhost/Phone")) == nil || srv.Router().Session(jidOf(t, "alice@localhost/phone")) == nil {
		t.Fatal("Phone and phone are not two sessions of alice@localhost")
	}
	bob := srv.Dial(t, "BOB@localhost", "pw", xmpptest.DialOptions{})
	if bob.JID.Bare().String() != "bob@localhost" {
		t.Fatalf("BOB bound as %s", bob.JID)
	}
	bob.Send(t, `<message to='ALICE@LocalHost/Phone' type='chat'><body>to Phone</body></message>`)
	if got := upper.ReadUntil("</message>", wait); !strings.Contains(got, "to Phone") {
		t.Fatalf("Phone got %q", got)
	}
	lower.Write(`<iq type='get' id='p' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`)
	if got, _ := lower.ReadUntilAny([]string{`type="result"`, `type="error"`}, wait); strings.Contains(got, "to Phone") {
		t.Fatalf("phone got Phone's message: %q", got)
	}
}

func jidOf(t *testing.T, s string) jid.JID {
	t.Helper()
	j, err := jid.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// TestIQRouting checks how c2s and the router treat iqs; what each
// feature answers is tested beside it (internal/features/*).
func TestIQRouting(t *testing.T) {
	srv := xmpptest.Start(t)
	srv.AddUser(t, "alice@localhost", "pw")
	alice := srv.Dial(t, "alice@localhost", "pw", xmpptest.DialOptions{})
	cases := []struct {
		name, iq, wantType, wantInner string
	}{
		{"unknown namespace", `<iq type='get' id='u1' to='localhost'><nothing xmlns='urn:example:none'/></iq>`, "error", "service-unavailable"},
		{"unknown user", `<iq type='get' id='n1' to='nobody@localhost'><ping xmlns='urn:xmpp:ping'/></iq>`, "error", "service-unavailable"},
		{"offline full JID", `<iq type='get' id='f1' to='alice@localhost/gone'><ping xmlns='urn:xmpp:ping'/></iq>`, "error", "service-unavailable"},
		{"two payloads", `<iq type='get' id='b1' to='localhost'><ping xmlns='urn:xmpp:ping'/><ping xmlns='urn:xmpp:ping'/></iq>`, "error", "bad-request"},
		{"legacy session", `<iq type='set' id='s1'><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>`, "result", ""},
		{"remote domain", `<iq type='get' id='r1' to='example.org'><ping xmlns='urn:xmpp:ping'/></iq>`, "error", "remote-server-not-found"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := alice.IQ(t, tc.iq)
			if res.Attr("type") != tc.wantType || !strings.Contains(res.Inner+attrs(res), tc.wantInner) {
				t.Fatalf("got type=%s %s %s", res.Attr("type"), attrs(res), res.Inner)
			}
		})
	}
}

func attrs(s xmpptest.Stanza) string {
	var b strings.Builder
	for _, a := range s.Attrs {
		b.WriteString(a.Name.Local + "=" + a.Value + " ")
	}
	return b.String()
}

func TestServerPingsIdleClients(t *testing.T) {
	srv := xmpptest.Start(t, func(c *config.Config) {
		c.C2S.PingInterval = config.Duration(200 * time.Millisecond)
		c.C2S.PingTimeout = config.Duration(300 * time.Millisecond)
	})
	srv.AddUser(t, "alice@localhost", "pw")
	// A raw client that never answers is pinged, then closed.
	r := srv.Raw(t)
	r.Login(srv.TLSConfig(t, "localhost"), "alice", "localhost", "pw", "dead")
	r.ReadUntil("urn:xmpp:ping", wait)
	out, closed := r.ReadToEOF(wait)
	if !closed || !strings.Contains(out, "connection-timeout") {
		t.Fatalf("dead client: closed=%v %q", closed, out)
	}
	// A live mellium client answers (service-unavailable is still an answer) and stays.
	alive := srv.Dial(t, "alice@localhost", "pw", xmpptest.DialOptions{})
	deadline := time.Now().Add(time.Second)
	for time.Now().Before(deadline) {
		res := alive.IQ(t, `<iq type='get' id='p' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`)
		if res.Attr("type") != "result" {
			t.Fatalf("live client lost: %+v", res)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestGracefulShutdown(t *testing.T) {
	srv := xmpptest.Start(t)
	srv.AddUser(t, "alice@localhost", "pw")
	c := srv.Dial(t, "alice@localhost", "pw", xmpptest.DialOptions{})
	pre := srv.Raw(t)
	pre.Open("localhost")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	var se stream.Error
	if err := c.Done(t, wait); !errors.As(err, &se) || se.Err != "system-shutdown" {
		t.Fatalf("client ended with %v, want system-shutdown", err)
	}
	if out, _ := pre.ReadToEOF(wait); !strings.Contains(out, "system-shutdown") {
		t.Fatalf("unauthenticated stream got %q", out)
	}
}
