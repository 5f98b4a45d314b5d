package httpd_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/xmpptest"
)

// boshClient is a small BOSH client written against XEP-0124 and XEP-0206
// (mellium has none): it creates a session, sends bodies with increasing
// rids and reads the responses.
type boshClient struct {
	t    testing.TB
	url  string
	http *http.Client
	sid  string
	rid  int64
	jid  string
	mu   sync.Mutex
	// poll is the session's 'polling' when it is a polling one (hold 0):
	// an empty request goes no sooner than that after the previous one
	// (XEP-0124 §12); last is when the previous one was answered.
	poll time.Duration
	last time.Time
}

// boshResp is a response <body/>: its attributes by local name, its
// children as XML, and the bytes as received.
type boshResp struct {
	attrs map[string]string
	inner string
	raw   []byte
}

func newBOSHClient(t testing.TB, url string, cfg *tls.Config) *boshClient {
	return &boshClient{t: t, url: url, rid: 1000 + time.Now().UnixNano()%100000,
		http: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg}}}
}

func boshURL(srv *xmpptest.Server) string { return "https://" + srv.Addr("http-tls") + "/http-bind" }

// post sends one body and parses the answer.
func (c *boshClient) post(body string) boshResp {
	c.t.Helper()
	r, err := c.tryPost(body)
	if err != nil {
		c.t.Fatalf("bosh: %v", err)
	}
	return r
}

func (c *boshClient) tryPost(body string) (boshResp, error) {
	resp, err := c.http.Post(c.url, "text/xml; charset=utf-8", strings.NewReader(body))
	if err != nil {
		return boshResp{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	// The server saw the request before it answered: counting the pace
	// from the answer keeps the next one at least 'polling' later there.
	c.mu.Lock()
	c.last = time.Now()
	c.mu.Unlock()
	if err != nil {
		return boshResp{}, err
	}
	if resp.StatusCode != http.StatusOK {
		return boshResp{}, fmt.Errorf("status %d: %s", resp.StatusCode, raw)
	}
	return parseBody(raw)
}

func parseBody(raw []byte) (boshResp, error) {
	var b struct {
		XMLName xml.Name
		Attrs   []xml.Attr `xml:",any,attr"`
		Inner   string     `xml:",innerxml"`
	}
	if err := xml.Unmarshal(raw, &b); err != nil {
		return boshResp{}, fmt.Errorf("response %q: %w", raw, err)
	}
	if b.XMLName.Space != "http://jabber.org/protocol/httpbind" || b.XMLName.Local != "body" {
		return boshResp{}, fmt.Errorf("response is not a BOSH body: %s", raw)
	}
	r := boshResp{attrs: map[string]string{}, inner: b.Inner, raw: raw}
	for _, a := range b.Attrs {
		r.attrs[a.Name.Local] = a.Value
	}
	return r, nil
}

// nextRid returns the next request id.
func (c *boshClient) nextRid() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rid++
	return c.rid
}

// body is a request of the session with rid and payload.
func (c *boshClient) body(rid int64, attrs, payload string) string {
	return fmt.Sprintf("<body xmlns='http://jabber.org/protocol/httpbind' xmlns:xmpp='urn:xmpp:xbosh' rid='%d' sid='%s'%s>%s</body>",
		rid, c.sid, attrs, payload)
}

// send posts payload in the next request.
func (c *boshClient) send(payload string) boshResp {
	c.t.Helper()
	return c.post(c.body(c.nextRid(), "", payload))
}

// create starts a session (XEP-0124 §7.1, XEP-0206 §3) and returns the
// creation response.
func (c *boshClient) create(to string, wait, hold int, extra string) boshResp {
	c.t.Helper()
	r := c.post(fmt.Sprintf("<body xmlns='http://jabber.org/protocol/httpbind' xmlns:xmpp='urn:xmpp:xbosh' content='text/xml; charset=utf-8' "+
		"rid='%d' to='%s' wait='%d' hold='%d' ver='1.11' xml:lang='en' xmpp:version='1.0'%s/>", c.nextRid(), to, wait, hold, extra))
	c.sid = r.attrs["sid"]
	if c.sid == "" {
		c.t.Fatalf("bosh: no sid in %s", r.raw)
	}
	return r
}

// login creates a session, authenticates with PLAIN, restarts the stream
// (xmpp:restart) and binds a resource.
func (c *boshClient) login(user, password string) {
	c.t.Helper()
	c.loginWith(user, password, 1, 1)
}

// loginHold is login with the session's hold: with 0 (polling) every
// request is answered at once and what the server sends comes in later
// responses.
func (c *boshClient) loginHold(user, password string, hold int) {
	c.t.Helper()
	c.loginWith(user, password, 1, hold)
}

// loginWith is login with the session's wait and hold.
func (c *boshClient) loginWith(user, password string, wait, hold int) {
	c.t.Helper()
	cr := c.create("localhost", wait, hold, "")
	if hold == 0 {
		secs, _ := strconv.Atoi(cr.attrs["polling"])
		c.poll = time.Duration(secs) * time.Second
	}
	if !strings.Contains(cr.inner, "<mechanism>PLAIN</mechanism>") {
		c.t.Fatalf("bosh: no PLAIN offered: %s", cr.raw)
	}
	creds := base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + password))
	c.expect(c.send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>"+creds+"</auth>"), "<success")
	c.expect(c.post(c.body(c.nextRid(), " xmpp:restart='true' to='localhost' xml:lang='en'", "")), "urn:ietf:params:xml:ns:xmpp-bind")
	r := c.expect(c.send("<iq xmlns='jabber:client' type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>web</resource></bind></iq>"), "<jid>")
	i, j := strings.Index(r.inner, "<jid>"), strings.Index(r.inner, "</jid>")
	if i < 0 || j < i {
		c.t.Fatalf("bosh: bind: %s", r.raw)
	}
	c.jid = r.inner[i+5 : j]
}

// expect returns r when it contains text, else the first later response
// that does (until).
func (c *boshClient) expect(r boshResp, text string) boshResp {
	c.t.Helper()
	if strings.Contains(r.inner, text) {
		return r
	}
	return c.until(text)
}

// until posts empty requests (each held until data or 'wait') until a
// response contains text, and returns it.
func (c *boshClient) until(text string) boshResp {
	c.t.Helper()
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		c.mu.Lock()
		next := c.last.Add(c.poll)
		c.mu.Unlock()
		time.Sleep(time.Until(next)) // the protocol's pace, not a synchronisation
		if r := c.send(""); strings.Contains(r.inner, text) {
			return r
		}
	}
	c.t.Fatalf("bosh: no response with %q within %v", text, wait)
	return boshResp{}
}

func TestBOSHLoginMessagesBothWays(t *testing.T) {
	srv := xmpptest.Start(t)
	srv.AddUser(t, "alice@localhost", "pw-alice")
	srv.AddUser(t, "bob@localhost", "pw-bob")
	alice := newBOSHClient(t, boshURL(srv), srv.TLSConfig(t, "localhost"))
	alice.login("alice", "pw-alice")
	if alice.jid != "alice@localhost/web" {
		t.Fatalf("bound %q", alice.jid)
	}
	bob := srv.Dial(t, "bob@localhost", "pw-bob", xmpptest.DialOptions{})

	r := alice.send("<iq xmlns='jabber:client' type='get' id='r1'><query xmlns='jabber:iq:roster'/></iq>")
	if !strings.Contains(r.inner, "jabber:iq:roster") || !strings.Contains(r.inner, "type=\"result\"") && !strings.Contains(r.inner, "type='result'") {
		t.Fatalf("roster: %s", r.raw)
	}
	alice.send("<message xmlns='jabber:client' to='" + bob.JID.String() + "' type='chat'><body>hello over bosh</body></message>")
	bob.Expect(t, wait, "alice's message", isChat("hello over bosh"))

	bob.Send(t, `<message to='alice@localhost/web' type='chat'><body>hello back to bosh</body></message>`)
	got := alice.until("hello back to bosh")
	if !strings.Contains(got.inner, "xmlns=\"jabber:client\"") && !strings.Contains(got.inner, "xmlns='jabber:client'") {
		t.Errorf("stanza in a BOSH body without its namespace: %s", got.raw)
	}
}

// TestBOSHCreationAttributes: the creation response carries what XEP-0124
// §7.1 and XEP-0206 §3 ask for, the client's wait and hold capped by the
// configuration, and the ack of the creation rid when asked for.
func TestBOSHCreationAttributes(t *testing.T) {
	srv := xmpptest.Start(t, func(c *config.Config) {
		c.HTTP.BOSH.MaxWait = config.Duration(20 * time.Second)
		c.HTTP.BOSH.MaxHold = 1
	})
	c := newBOSHClient(t, boshURL(srv), srv.TLSConfig(t, "localhost"))
	r := c.create("localhost", 300, 5, " ack='1'")
	want := map[string]string{"wait": "20", "hold": "1", "requests": "2", "ver": "1.11", "from": "localhost",
		"version": "1.0", "restartlogic": "true", "ack": strconv.FormatInt(c.rid, 10), "inactivity": "60", "polling": "2"}
	for k, v := range want {
		if r.attrs[k] != v {
			t.Errorf("%s = %q, want %q (%s)", k, r.attrs[k], v, r.raw)
		}
	}
	if r.attrs["authid"] == "" || !strings.Contains(r.inner, "mechanisms") {
		t.Errorf("no stream id or features: %s", r.raw)
	}
}

// TestBOSHHeldRequest: an empty request is held until 'wait' and answered
// empty when nothing comes.
func TestBOSHHeldRequest(t *testing.T) {
	srv := xmpptest.Start(t)
	srv.AddUser(t, "alice@localhost", "pw-alice")
	c := newBOSHClient(t, boshURL(srv), srv.TLSConfig(t, "localhost"))
	c.login("alice", "pw-alice")
	r := c.post(c.body(c.nextRid(), "", ""))
	if r.inner != "" || r.attrs["type"] != "" {
		t.Errorf("idle poll answered %s", r.raw)
	}
}

// TestBOSHPolling: a polling session (hold = 0) gets every answer at once;
// what the server sends comes in the next poll.
func TestBOSHPolling(t *testing.T) {
	srv := xmpptest.Start(t, func(c *config.Config) { c.HTTP.BOSH.Polling = config.Duration(time.Second) })
	srv.AddUser(t, "alice@localhost", "pw-alice")
	srv.AddUser(t, "bob@localhost", "pw-bob")
	alice := newBOSHClient(t, boshURL(srv), srv.TLSConfig(t, "localhost"))
	alice.loginHold("alice", "pw-alice", 0)
	bob := srv.Dial(t, "bob@localhost", "pw-bob", xmpptest.DialOptions{})
	bob.Send(t, `<message to='alice@localhost/web' type='chat'><body>to a poller</body></message>`)
	alice.until("to a poller")
	alice.send("<message xmlns='jabber:client' to='" + bob.JID.String() + "' type='chat'><body>from a poller</body></message>")
	bob.Expect(t, wait, "the poller's message", isChat("from a poller"))
}

// TestBOSHOutOfOrderRid: a request that arrives before the one with the
// rid before it waits for it (XEP-0124 §14.1): the payloads are handled
// in rid order.
func TestBOSHOutOfOrderRid(t *testing.T) {
	srv := xmpptest.Start(t)
	srv.AddUser(t, "alice@localhost", "pw-alice")
	srv.AddUser(t, "bob@localhost", "pw-bob")
	alice := newBOSHClient(t, boshURL(srv), srv.TLSConfig(t, "localhost"))
	alice.login("alice", "pw-alice")
	bob := srv.Dial(t, "bob@localhost", "pw-bob", xmpptest.DialOptions{})
	msg := func(body string) string {
		return "<message xmlns='jabber:client' to='" + bob.JID.String() + "' type='chat'><body>" + body + "</body></message>"
	}
	first, second := alice.nextRid(), alice.nextRid()
	done := make(chan error, 1)
	go func() {
		_, err := alice.tryPost(alice.body(second, "", msg("second")))
		done <- err
	}()
	// The later rid is not handled before the earlier one arrives.
	bob.ExpectNone(t, 300*time.Millisecond, "the later rid's message", isChat("second"))
	alice.post(alice.body(first, "", msg("first")))
	st := bob.Expect(t, wait, "a message", func(s xmpptest.Stanza) bool { return s.XMLName.Local == "message" })
	if !strings.Contains(st.Inner, "first") {
		t.Fatalf("the earlier rid's message did not come first: %s", st.Inner)
	}
	bob.Expect(t, wait, "the later rid's message", isChat("second"))
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestBOSHRepeatedRid: a request sent again with the rid of one already
// answered gets the same response (XEP-0124 §14.3); a rid outside the
// window ends the session with item-not-found.
func TestBOSHRepeatedRid(t *testing.T) {
	srv := xmpptest.Start(t)
	srv.AddUser(t, "alice@localhost", "pw-alice")
	c := newBOSHClient(t, boshURL(srv), srv.TLSConfig(t, "localhost"))
	c.login("alice", "pw-alice")
	rid := c.nextRid()
	req := c.body(rid, "", "<iq xmlns='jabber:client' type='get' id='p1' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>")
	first := c.post(req)
	if !strings.Contains(first.inner, "p1") {
		t.Fatalf("ping: %s", first.raw)
	}
	again := c.post(req)
	if !bytes.Equal(first.raw, again.raw) {
		t.Fatalf("repeated rid answered\n%s\nthe first time and\n%s\nthe second", first.raw, again.raw)
	}
	far := c.post(c.body(rid+10, "", ""))
	if far.attrs["type"] != "terminate" || far.attrs["condition"] != "item-not-found" {
		t.Fatalf("rid outside the window answered %s", far.raw)
	}
	gone := c.post(c.body(rid+1, "", ""))
	if gone.attrs["condition"] != "item-not-found" {
		t.Fatalf("session still answers after item-not-found: %s", gone.raw)
	}
}

// TestBOSHTerminate: a terminate body ends the session after handling its
// payload (XEP-0124 §13); the session is gone from the router and its sid
// unknown.
func TestBOSHTerminate(t *testing.T) {
	srv := xmpptest.Start(t)
	srv.AddUser(t, "alice@localhost", "pw-alice")
	c := newBOSHClient(t, boshURL(srv), srv.TLSConfig(t, "localhost"))
	c.login("alice", "pw-alice")
	r := c.post(c.body(c.nextRid(), " type='terminate'", "<presence xmlns='jabber:client' type='unavailable'/>"))
	if r.attrs["type"] != "terminate" {
		t.Fatalf("terminate answered %s", r.raw)
	}
	srv.WaitGone(t, "alice@localhost", wait)
	if r := c.send(""); r.attrs["condition"] != "item-not-found" {
		t.Fatalf("request after terminate answered %s", r.raw)
	}
}

// TestBOSHInactivity: a session with no request for 'inactivity' ends.
func TestBOSHInactivity(t *testing.T) {
	srv := xmpptest.Start(t, func(c *config.Config) { c.HTTP.BOSH.Inactivity = config.Duration(time.Second) })
	srv.AddUser(t, "alice@localhost", "pw-alice")
	c := newBOSHClient(t, boshURL(srv), srv.TLSConfig(t, "localhost"))
	c.login("alice", "pw-alice")
	srv.WaitGone(t, "alice@localhost", wait)
	if r := c.send(""); r.attrs["condition"] != "item-not-found" {
		t.Fatalf("request after inactivity answered %s", r.raw)
	}
}

// TestBOSHInactivityAfterAbandonedRequest: a client that vanishes while
// a request of its is held (the tab closed, the network gone) leaves no
// request held for ever: it ends at its 'wait', and the session after
// 'inactivity', though nothing is sent to it meanwhile.
func TestBOSHInactivityAfterAbandonedRequest(t *testing.T) {
	abandonedRequest(t, false)
}

// TestBOSHInactivityAfterAbandonedOutOfOrderRequest: a client that
// vanishes with a request in flight that came ahead of a missing rid (the
// earlier request was lost with the network) leaves nothing waiting for
// ever: the early request is dropped when its connection goes, and the
// session ends after 'inactivity'. Before, it waited for the missing rid
// for ever, so the session never went inactive (nor hibernated with
// stream management).
func TestBOSHInactivityAfterAbandonedOutOfOrderRequest(t *testing.T) {
	abandonedRequest(t, true)
}

// abandonedRequest logs alice in over BOSH (inactivity 1 s), sends one
// more request (after skipping a rid when gap is set), drops its
// connection once it is out, and waits for the session to end.
func abandonedRequest(t *testing.T, gap bool) {
	srv := xmpptest.Start(t, func(c *config.Config) { c.HTTP.BOSH.Inactivity = config.Duration(time.Second) })
	srv.AddUser(t, "alice@localhost", "pw-alice")
	c := newBOSHClient(t, boshURL(srv), srv.TLSConfig(t, "localhost"))
	c.loginWith("alice", "pw-alice", 1, 1)
	if gap {
		c.nextRid() // lost on the way: never sent
	}
	wrote := make(chan struct{})
	ctx, cancel := context.WithCancel(httptrace.WithClientTrace(context.Background(),
		&httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) { close(wrote) }}))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, strings.NewReader(c.body(c.nextRid(), "", "")))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if resp, err := c.http.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	<-wrote  // the request is out: held, or (gap) waiting for the missing rid
	cancel() // the client goes away
	<-done
	srv.WaitGone(t, "alice@localhost", wait)
}

// TestBOSHBadRequests: what is not a BOSH body, and an unknown sid, get
// terminal conditions.
func TestBOSHBadRequests(t *testing.T) {
	srv := xmpptest.Start(t)
	c := newBOSHClient(t, boshURL(srv), srv.TLSConfig(t, "localhost"))
	for _, tc := range []struct{ body, cond string }{
		{"<body xmlns='http://jabber.org/protocol/httpbind'", "bad-request"},
		{"<notbody xmlns='http://jabber.org/protocol/httpbind' rid='1' to='localhost'/>", "bad-request"},
		{"<body xmlns='http://jabber.org/protocol/httpbind' rid='x' to='localhost'/>", "bad-request"},
		{"<body xmlns='http://jabber.org/protocol/httpbind' rid='5' sid='nosuchsession'/>", "item-not-found"},
	} {
		r := c.post(tc.body)
		if r.attrs["type"] != "terminate" || r.attrs["condition"] != tc.cond {
			t.Errorf("%s answered %s, want %s", tc.body, r.raw, tc.cond)
		}
	}
	resp, err := c.http.Get(c.url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET answered %d", resp.StatusCode)
	}
}
