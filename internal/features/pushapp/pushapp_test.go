package pushapp_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/rsa"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/features/pushapp"
	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/metrics"
	"github.com/parleyim/parley/internal/xmpptest"
)

const wait = 15 * time.Second

// rig is a server with the app server on push.localhost pointed at a
// fake APNs/FCM, and the accounts alice and bob.
type rig struct {
	s       *xmpptest.Server
	f       *fake
	apnsPub *ecdsa.PublicKey
	fcmPub  *rsa.PublicKey
	bob     *xmpptest.Client
}

func start(t *testing.T, more ...xmpptest.Option) *rig {
	t.Helper()
	r := &rig{f: newFake(t)}
	var keyFile, saFile string
	keyFile, r.apnsPub = apnsKey(t)
	saFile, r.fcmPub = serviceAccount(t, r.f.srv.URL+"/token")
	ca := r.f.caFile(t)
	r.s = xmpptest.Start(t, func(c *config.Config) {
		a := &c.Push.AppServer
		a.Enabled, a.IncludeSender, a.CAFile = true, true, ca
		a.RetryBackoff = config.Duration(10 * time.Millisecond)
		a.APNs.KeyFile, a.APNs.KeyID, a.APNs.TeamID = keyFile, "ABC123DEFG", "TEAM123456"
		a.APNs.URL, a.APNs.SandboxURL, a.APNs.CollapseID = r.f.srv.URL, r.f.srv.URL, "parley"
		a.FCM.CredentialsFile, a.FCM.URL = saFile, r.f.srv.URL
		for _, o := range more {
			o(c)
		}
	})
	domain := r.s.Config.Domains[0]
	r.s.AddUser(t, "alice@"+domain, "pw")
	r.s.AddUser(t, "bob@"+domain, "pw")
	r.bob = r.s.Dial(t, "bob@"+domain, "pw", xmpptest.DialOptions{})
	return r
}

// device is a registration as the ad-hoc command answered it.
type device struct{ jid, node, secret string }

var sessionID = regexp.MustCompile(`sessionid="([^"]+)"`)

func formValue(t *testing.T, inner, v string) string {
	t.Helper()
	m := regexp.MustCompile(`var="` + v + `"[^>]*>\s*<value[^>]*>([^<]*)</value>`).FindStringSubmatch(inner)
	if m == nil {
		t.Fatalf("no field %s in %s", v, inner)
	}
	return m[1]
}

// register runs the registration command node with the given fields
// (var → value) as c, in its two stages.
func register(t *testing.T, c *xmpptest.Client, node string, fields map[string]string) device {
	t.Helper()
	domain := c.JID.Domainpart()
	res := c.IQ(t, `<iq type='set' to='`+domain+`' id='r1'><command xmlns='http://jabber.org/protocol/commands' node='`+node+`' action='execute'/></iq>`)
	sid := sessionID.FindStringSubmatch(res.Inner)
	if res.Attr("type") != "result" || sid == nil || !strings.Contains(res.Inner, `var="token"`) {
		t.Fatalf("execute %s: %s", node, res.Inner)
	}
	var x strings.Builder
	for k, v := range fields {
		fmt.Fprintf(&x, "<field var='%s'><value>%s</value></field>", k, v)
	}
	res = c.IQ(t, `<iq type='set' to='`+domain+`' id='r2'><command xmlns='http://jabber.org/protocol/commands' node='`+node+
		`' sessionid='`+sid[1]+`'><x xmlns='jabber:x:data' type='submit'>`+x.String()+`</x></command></iq>`)
	if res.Attr("type") != "result" || !strings.Contains(res.Inner, `status="completed"`) {
		t.Fatalf("submit %s: %s", node, res.Inner)
	}
	return device{formValue(t, res.Inner, "jid"), formValue(t, res.Inner, "node"), formValue(t, res.Inner, "secret")}
}

// aliceAway registers alice's device with node and fields, enables push
// and logs her out.
func (r *rig) aliceAway(t *testing.T, node string, fields map[string]string) device {
	t.Helper()
	alice := r.s.Dial(t, "alice@localhost", "pw", xmpptest.DialOptions{})
	d := register(t, alice, node, fields)
	if d.jid != "push.localhost" || len(d.node) < 16 || len(d.secret) < 32 {
		t.Fatalf("registration answered %+v", d)
	}
	alice.EnablePush(t, d.jid, d.node, d.secret)
	r.s.Logout(t, alice, wait)
	return d
}

func (r *rig) message(t *testing.T, body string) {
	t.Helper()
	r.bob.Send(t, `<message to='alice@localhost' type='chat'><body>`+body+`</body></message>`)
}

// waitRequests waits until the fake has n requests of kind and returns them.
func (r *rig) waitRequests(t *testing.T, kind string, n int) []request {
	t.Helper()
	xmpptest.Eventually(t, wait, fmt.Sprintf("%d %s request(s)", n, kind), func() bool { return len(r.f.requests(kind)) >= n })
	got := r.f.requests(kind)
	if len(got) != n {
		t.Fatalf("%d %s requests, want %d", len(got), kind, n)
	}
	return got
}

// stillRequests checks that no further request of kind arrives for a
// while (a negative check: nothing to wait for).
func (r *rig) stillRequests(t *testing.T, kind string, n int) {
	t.Helper()
	deadline := time.Now().Add(500 * time.Millisecond)
	for time.Now().Before(deadline) {
		if got := len(r.f.requests(kind)); got != n {
			t.Fatalf("%d %s requests, want %d", got, kind, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (r *rig) disabled(t *testing.T, node string) bool {
	d, found, err := r.s.DB().PushDevices().Get(context.Background(), node)
	if err != nil || !found {
		t.Fatalf("device %s: %v, %v", node, found, err)
	}
	return !d.Disabled.IsZero()
}

// pushEnabled counts alice's XEP-0357 registrations on the user's side.
func (r *rig) pushEnabled(t *testing.T) int {
	recs, err := r.s.DB().Records("push").List(context.Background(), jid.MustParse("alice@localhost"))
	if err != nil {
		t.Fatal(err)
	}
	return len(recs)
}

// checkAPNs checks one request to APNs byte for byte and returns its
// provider token.
func (r *rig) checkAPNs(t *testing.T, q request, token, count string) string {
	t.Helper()
	if q.Proto != 2 || q.Method != "POST" || q.Path != "/3/device/"+url.PathEscape(token) {
		t.Errorf("request line: HTTP/%d %s %s", q.Proto, q.Method, q.Path)
	}
	for h, want := range map[string]string{
		"Apns-Topic": "org.example.chat", "Apns-Push-Type": "alert", "Apns-Priority": "10",
		"Apns-Collapse-Id": "parley", "Content-Type": "application/json",
	} {
		if got := q.Header.Get(h); got != want {
			t.Errorf("%s: %q, want %q", h, got, want)
		}
	}
	if exp, err := strconv.ParseInt(q.Header.Get("Apns-Expiration"), 10, 64); err != nil || exp <= 0 {
		t.Errorf("apns-expiration: %q", q.Header.Get("Apns-Expiration"))
	}
	want := `{"aps":{"alert":{"body":"New message"},"sound":"default"},"last-message-sender":"` + r.bob.JID.String() +
		`","message-count":"` + count + `"}`
	if q.Body != want {
		t.Errorf("payload:\n got %s\nwant %s", q.Body, want)
	}
	auth := q.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(auth, "bearer ")
	if !ok {
		t.Fatalf("authorization: %q", auth)
	}
	h, c, err := pushapp.VerifyES256(tok, r.apnsPub)
	if err != nil {
		t.Fatalf("provider token: %v", err)
	}
	if len(h) != 2 || h["alg"] != "ES256" || h["kid"] != "ABC123DEFG" {
		t.Errorf("JWT header: %v", h)
	}
	if iat, ok := c["iat"].(float64); len(c) != 2 || c["iss"] != "TEAM123456" || !ok || iat <= 0 {
		t.Errorf("JWT claims: %v", c)
	}
	return tok
}

var apnsFields = map[string]string{"token": "a1b2c3d4e5f6", "topic": "org.example.chat", "sandbox": "1"}

// TestAPNsEndToEnd: alice registers her iPhone with the ad-hoc command,
// enables push at push.localhost and goes offline; bob's message makes
// exactly one request to APNs, checked byte for byte, with a provider
// token signed by the configured key; the next reuses the token.
func TestAPNsEndToEnd(t *testing.T) {
	before := deliveries(t, "apns", "delivered")
	r := start(t)
	r.aliceAway(t, pushapp.CommandAPNs, apnsFields)
	r.message(t, "secret plans")
	q := r.waitRequests(t, "apns", 1)
	tok := r.checkAPNs(t, q[0], "a1b2c3d4e5f6", "1")
	if strings.Contains(q[0].Body, "secret plans") {
		t.Error("the payload carries the body")
	}
	r.stillRequests(t, "apns", 1)
	r.message(t, "more")
	q = r.waitRequests(t, "apns", 2)
	if tok2 := r.checkAPNs(t, q[1], "a1b2c3d4e5f6", "2"); tok2 != tok {
		t.Error("the provider token was not reused")
	}
	xmpptest.Eventually(t, wait, "two deliveries counted", func() bool { return deliveries(t, "apns", "delivered")-before == 2 })
}

// deliveries reads parley_push_deliveries_total{provider,result}.
func deliveries(t *testing.T, provider, result string) float64 {
	t.Helper()
	fams, err := metrics.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != "parley_push_deliveries_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["provider"] == provider && labels["result"] == result {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

// TestAPNsUnregistered: APNs answers 410 Unregistered: the device is
// disabled, the user's server disables its registration, and no further
// request is made.
func TestAPNsUnregistered(t *testing.T) {
	r := start(t)
	d := r.aliceAway(t, pushapp.CommandAPNs, apnsFields)
	r.f.then("apns", answer{410, `{"reason":"Unregistered","timestamp":1700000000000}`})
	r.message(t, "one")
	r.waitRequests(t, "apns", 1)
	xmpptest.Eventually(t, wait, "the device disabled", func() bool { return r.disabled(t, d.node) })
	xmpptest.Eventually(t, wait, "alice's push registration removed", func() bool { return r.pushEnabled(t) == 0 })
	r.message(t, "two")
	r.stillRequests(t, "apns", 1)
}

// TestAPNsBadDeviceToken: 400 BadDeviceToken disables too.
func TestAPNsBadDeviceToken(t *testing.T) {
	r := start(t)
	d := r.aliceAway(t, pushapp.CommandAPNs, apnsFields)
	r.f.then("apns", answer{400, `{"reason":"BadDeviceToken"}`})
	r.message(t, "one")
	xmpptest.Eventually(t, wait, "the device disabled", func() bool { return r.disabled(t, d.node) })
}

// TestAPNsExpiredProviderToken: APNs refuses the token as expired; a new
// one is signed and the request made once more, and kept for the next.
func TestAPNsExpiredProviderToken(t *testing.T) {
	r := start(t)
	d := r.aliceAway(t, pushapp.CommandAPNs, apnsFields)
	r.f.then("apns", answer{403, `{"reason":"ExpiredProviderToken"}`})
	r.message(t, "one")
	q := r.waitRequests(t, "apns", 2)
	t1, t2 := r.checkAPNs(t, q[0], "a1b2c3d4e5f6", "1"), r.checkAPNs(t, q[1], "a1b2c3d4e5f6", "1")
	if t1 == t2 {
		t.Error("the retry used the expired token")
	}
	r.message(t, "two")
	q = r.waitRequests(t, "apns", 3)
	if t3 := r.checkAPNs(t, q[2], "a1b2c3d4e5f6", "2"); t3 != t2 {
		t.Error("the renewed token was not kept")
	}
	if r.disabled(t, d.node) || r.pushEnabled(t) != 1 {
		t.Error("an expired provider token disabled the registration")
	}
}

// TestAPNsRetry: 503 and 429 are tried again; the third try delivers.
func TestAPNsRetry(t *testing.T) {
	r := start(t)
	d := r.aliceAway(t, pushapp.CommandAPNs, apnsFields)
	r.f.then("apns", answer{503, `{"reason":"ServiceUnavailable"}`}, answer{429, `{"reason":"TooManyRequests"}`})
	r.message(t, "one")
	for _, q := range r.waitRequests(t, "apns", 3) {
		r.checkAPNs(t, q, "a1b2c3d4e5f6", "1")
	}
	r.stillRequests(t, "apns", 3)
	if r.disabled(t, d.node) || r.pushEnabled(t) != 1 {
		t.Error("a transient error disabled the registration")
	}
}

// TestFCMEndToEnd: an Android device registered with register-push-fcm:
// the access token is obtained once with a signed assertion and reused;
// the send request is checked byte for byte; 404 UNREGISTERED disables.
func TestFCMEndToEnd(t *testing.T) {
	r := start(t)
	d := r.aliceAway(t, pushapp.CommandFCM, map[string]string{"token": "fcm-token-1"})
	r.message(t, "one")
	q := r.waitRequests(t, "fcm", 1)
	r.checkToken(t, r.waitRequests(t, "token", 1)[0])
	r.checkFCM(t, q[0], "1")
	r.message(t, "two")
	q = r.waitRequests(t, "fcm", 2)
	r.checkFCM(t, q[1], "2")
	r.waitRequests(t, "token", 1) // cached

	r.f.then("fcm", answer{404, `{"error":{"code":404,"message":"Requested entity was not found.","status":"NOT_FOUND",` +
		`"details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"UNREGISTERED"}]}}`})
	r.message(t, "three")
	r.waitRequests(t, "fcm", 3)
	xmpptest.Eventually(t, wait, "the device disabled", func() bool { return r.disabled(t, d.node) })
	xmpptest.Eventually(t, wait, "alice's push registration removed", func() bool { return r.pushEnabled(t) == 0 })
	r.message(t, "four")
	r.stillRequests(t, "fcm", 3)
}

func (r *rig) checkToken(t *testing.T, q request) {
	t.Helper()
	if q.Proto != 2 || q.Method != "POST" || q.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		t.Errorf("token request: HTTP/%d %s %s", q.Proto, q.Method, q.Header.Get("Content-Type"))
	}
	form, err := url.ParseQuery(q.Body)
	if err != nil || len(form) != 2 || form.Get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
		t.Fatalf("token request body: %s", q.Body)
	}
	h, c, err := pushapp.VerifyRS256(form.Get("assertion"), r.fcmPub)
	if err != nil {
		t.Fatalf("assertion: %v", err)
	}
	if len(h) != 3 || h["alg"] != "RS256" || h["typ"] != "JWT" || h["kid"] != "kid-1" {
		t.Errorf("assertion header: %v", h)
	}
	iat, _ := c["iat"].(float64)
	exp, _ := c["exp"].(float64)
	if len(c) != 5 || c["iss"] != "push@parley-test.iam.gserviceaccount.com" || c["scope"] != pushapp.FCMScope ||
		c["aud"] != r.f.srv.URL+"/token" || iat <= 0 || exp-iat != 3600 {
		t.Errorf("assertion claims: %v", c)
	}
}

func (r *rig) checkFCM(t *testing.T, q request, count string) {
	t.Helper()
	if q.Proto != 2 || q.Method != "POST" || q.Path != "/v1/projects/parley-test/messages:send" {
		t.Errorf("request line: HTTP/%d %s %s", q.Proto, q.Method, q.Path)
	}
	if q.Header.Get("Authorization") != "Bearer access-1" || q.Header.Get("Content-Type") != "application/json" {
		t.Errorf("headers: %v", q.Header)
	}
	want := `{"message":{"android":{"priority":"high"},"data":{"last-message-sender":"` + r.bob.JID.String() +
		`","message-count":"` + count + `"},"token":"fcm-token-1"}}`
	if q.Body != want {
		t.Errorf("body:\n got %s\nwant %s", q.Body, want)
	}
}

// TestPublishRefused: a publish with a wrong secret is forbidden, one to
// an unknown node item-not-found; neither reaches a provider. The app
// server answers disco#info with identity pubsub/push.
func TestPublishRefused(t *testing.T) {
	r := start(t)
	alice := r.s.Dial(t, "alice@localhost", "pw", xmpptest.DialOptions{})
	d := register(t, alice, pushapp.CommandAPNs, apnsFields)
	publish := func(node, secret string) xmpptest.Stanza {
		return alice.IQ(t, `<iq type='set' to='push.localhost' id='p1'><pubsub xmlns='http://jabber.org/protocol/pubsub'>`+
			`<publish node='`+node+`'><item><notification xmlns='urn:xmpp:push:0'/></item></publish><publish-options>`+
			`<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>http://jabber.org/protocol/pubsub#publish-options</value></field>`+
			`<field var='secret'><value>`+secret+`</value></field></x></publish-options></pubsub></iq>`)
	}
	if res := publish(d.node, "wrong"); res.Attr("type") != "error" || !strings.Contains(res.Inner, "forbidden") {
		t.Errorf("wrong secret: %s", res.Inner)
	}
	if res := publish("no-such-node", d.secret); res.Attr("type") != "error" || !strings.Contains(res.Inner, "item-not-found") {
		t.Errorf("unknown node: %s", res.Inner)
	}
	r.stillRequests(t, "apns", 0)
	if res := publish(d.node, d.secret); res.Attr("type") != "result" {
		t.Errorf("right secret: %s", res.Inner)
	}
	r.waitRequests(t, "apns", 1)
	res := alice.IQ(t, `<iq type='get' to='push.localhost' id='i1'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`)
	if !strings.Contains(res.Inner, `category="pubsub" type="push"`) || !strings.Contains(res.Inner, `var="urn:xmpp:push:0"`) {
		t.Errorf("disco#info: %s", res.Inner)
	}
}

// TestRegisterErrors: bad registrations are refused with bad-request;
// unregister removes a device and refuses one that is not the user's.
func TestRegisterErrors(t *testing.T) {
	r := start(t)
	alice := r.s.Dial(t, "alice@localhost", "pw", xmpptest.DialOptions{})
	for _, f := range []map[string]string{{"token": "t"}, {"topic": "org.example.chat"}} {
		res := alice.IQ(t, `<iq type='set' to='localhost' id='r1'><command xmlns='http://jabber.org/protocol/commands' node='register-push-apns' action='execute'/></iq>`)
		sid := sessionID.FindStringSubmatch(res.Inner)
		var x strings.Builder
		for k, v := range f {
			fmt.Fprintf(&x, "<field var='%s'><value>%s</value></field>", k, v)
		}
		res = alice.IQ(t, `<iq type='set' to='localhost' id='r2'><command xmlns='http://jabber.org/protocol/commands' node='register-push-apns' sessionid='`+
			sid[1]+`'><x xmlns='jabber:x:data' type='submit'>`+x.String()+`</x></command></iq>`)
		if res.Attr("type") != "error" || !strings.Contains(res.Inner, "bad-request") {
			t.Errorf("%v: %s", f, res.Inner)
		}
	}
	d := register(t, alice, pushapp.CommandAPNs, apnsFields)
	bob := r.bob
	unregister := func(c *xmpptest.Client) xmpptest.Stanza {
		res := c.IQ(t, `<iq type='set' to='localhost' id='u1'><command xmlns='http://jabber.org/protocol/commands' node='unregister-push' action='execute'/></iq>`)
		sid := sessionID.FindStringSubmatch(res.Inner)
		return c.IQ(t, `<iq type='set' to='localhost' id='u2'><command xmlns='http://jabber.org/protocol/commands' node='unregister-push' sessionid='`+
			sid[1]+`'><x xmlns='jabber:x:data' type='submit'><field var='node'><value>`+d.node+`</value></field></x></command></iq>`)
	}
	if res := unregister(bob); res.Attr("type") != "error" || !strings.Contains(res.Inner, "item-not-found") {
		t.Errorf("bob unregisters alice's device: %s", res.Inner)
	}
	if res := unregister(alice); res.Attr("type") != "result" {
		t.Errorf("unregister: %s", res.Inner)
	}
	if _, found, _ := r.s.DB().PushDevices().Get(context.Background(), d.node); found {
		t.Error("the device is still registered")
	}
}

// federate makes a server serve domain and federate over addr with the
// static routes (self-signed certificates: dialback).
func federate(domain, addr string, routes map[string]string) xmpptest.Option {
	return func(c *config.Config) {
		c.Domains = []string{domain}
		c.S2S.Enabled, c.S2S.Addr, c.S2S.Routes = true, addr, routes
		c.S2S.RequireValidCertificates = false
		c.S2S.ConnectTimeout = config.Duration(5 * time.Second)
	}
}

// TestPublishOverS2S: the app is logged in to an account on another
// server too: carol@b.test enables push at push.a.test with the node and
// secret alice's device got there; b.test publishes over s2s, push.a.test
// delivers to APNs and answers, so b.test keeps the registration.
func TestPublishOverS2S(t *testing.T) {
	addrA, addrB := xmpptest.FreeAddr(t), xmpptest.FreeAddr(t)
	routes := map[string]string{"a.test": addrA, "push.a.test": addrA, "b.test": addrB}
	r := start(t, federate("a.test", addrA, routes))
	b := xmpptest.Start(t, federate("b.test", addrB, routes))
	b.AddUser(t, "carol@b.test", "pw")
	b.AddUser(t, "dave@b.test", "pw")

	alice := r.s.Dial(t, "alice@a.test", "pw", xmpptest.DialOptions{})
	d := register(t, alice, pushapp.CommandAPNs, apnsFields)
	if d.jid != "push.a.test" {
		t.Fatalf("registration answered %+v", d)
	}
	carol := b.Dial(t, "carol@b.test", "pw", xmpptest.DialOptions{})
	carol.EnablePush(t, d.jid, d.node, d.secret)
	b.Logout(t, carol, wait)
	dave := b.Dial(t, "dave@b.test", "pw", xmpptest.DialOptions{})
	dave.Send(t, `<message to='carol@b.test' type='chat'><body>over there</body></message>`)
	q := r.waitRequests(t, "apns", 1)
	if q[0].Path != "/3/device/a1b2c3d4e5f6" || !strings.Contains(q[0].Body, `"last-message-sender":"`+dave.JID.String()+`"`) {
		t.Errorf("request: %s %s", q[0].Path, q[0].Body)
	}
	// The answer went back over s2s: b.test still has the registration
	// after a second notification (an error would have removed it).
	dave.Send(t, `<message to='carol@b.test' type='chat'><body>again</body></message>`)
	r.waitRequests(t, "apns", 2)
	recs, err := b.DB().Records("push").List(context.Background(), jid.MustParse("carol@b.test"))
	if err != nil || len(recs) != 1 {
		t.Errorf("carol's registrations on b.test: %d, %v", len(recs), err)
	}
}
