package httpd_test

import (
	"context"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/xmpptest"
)

// terminal fails unless r is a terminal body with condition cond.
func terminal(t *testing.T, what string, r boshResp, cond string) {
	t.Helper()
	if r.attrs["type"] != "terminate" || r.attrs["condition"] != cond {
		t.Fatalf("%s: want a terminal %s, got %s", what, cond, r.raw)
	}
}

// TestBOSHPollingTooFast: in a polling session (hold 0), an empty request
// sooner than 'polling' after the previous request ends the session with
// policy-violation (XEP-0124 §12); a request with a payload may come at
// once; the session's sid is unknown afterwards.
func TestBOSHPollingTooFast(t *testing.T) {
	srv := xmpptest.Start(t, func(c *config.Config) { c.HTTP.BOSH.Polling = config.Duration(time.Minute) })
	srv.AddUser(t, "alice@localhost", "pw-alice")
	c := newBOSHClient(t, boshURL(srv), srv.TLSConfig(t, "localhost"))
	if cr := c.create("localhost", 1, 0, ""); cr.attrs["polling"] != "60" || cr.attrs["requests"] != "1" {
		t.Fatalf("creation: %s", cr.raw)
	}
	creds := base64.StdEncoding.EncodeToString([]byte("\x00alice\x00pw-alice"))
	if r := c.send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>" + creds + "</auth>"); r.attrs["type"] == "terminate" {
		t.Fatalf("a payload right after creation was refused: %s", r.raw)
	}
	terminal(t, "an empty poll at once", c.send(""), "policy-violation")
	terminal(t, "the session afterwards", c.send(""), "item-not-found")
}

// TestBOSHTooManyRequests: a client with more requests open at once than
// 'requests' (hold+1) is cut off with policy-violation (XEP-0124 §11).
// With hold 1: one request held, the one after the next waiting for its
// turn, and then the next: three open. The order in which the three
// arrive is up to the network (in another order they are a legal
// sequence, or the third is outside the rid window): a new session tries
// again until they came in the order sent (at most a few times).
func TestBOSHTooManyRequests(t *testing.T) {
	srv := xmpptest.Start(t)
	srv.AddUser(t, "alice@localhost", "pw-alice")
	for attempt := 0; attempt < 20; attempt++ {
		c := newBOSHClient(t, boshURL(srv), srv.TLSConfig(t, "localhost"))
		c.loginWith("alice", "pw-alice", 1, 1)
		first, second, third := c.nextRid(), c.nextRid(), c.nextRid()
		var wg sync.WaitGroup
		resps := make([]boshResp, 2)
		for i, rid := range []int64{first, third} {
			wrote := make(chan struct{})
			ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) { close(wrote) }})
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, c.url, strings.NewReader(c.body(rid, "", "")))
			wg.Add(1)
			go func() {
				defer wg.Done()
				if resp, err := c.http.Do(req); err == nil {
					defer resp.Body.Close()
					if raw, err := io.ReadAll(resp.Body); err == nil {
						resps[i], _ = parseBody(raw)
					}
				}
			}()
			<-wrote
		}
		r := c.post(c.body(second, "", ""))
		wg.Wait()
		if r.attrs["condition"] == "policy-violation" {
			for _, o := range resps {
				if o.attrs["type"] != "terminate" {
					t.Errorf("a request open at the violation was answered %s", o.raw)
				}
			}
			terminal(t, "the session afterwards", c.send(""), "item-not-found")
			return
		}
		if r.attrs["type"] == "terminate" && r.attrs["condition"] != "item-not-found" {
			t.Fatalf("the third request: %s", r.raw)
		}
	}
	t.Fatal("three requests open at once were never refused")
}

// TestBOSHByteRate: the per-connection byte rate (limits.bytes_per_second)
// holds back a BOSH body that is over it, as TCP's reader does; the
// stanza still arrives.
func TestBOSHByteRate(t *testing.T) {
	rec := &recorder{}
	srv := xmpptest.StartLogged(t, rec, func(c *config.Config) {
		c.Limits.BytesPerSecond, c.Limits.BurstBytes = 1000, 1000
	})
	srv.AddUser(t, "alice@localhost", "pw-alice")
	srv.AddUser(t, "bob@localhost", "pw-bob")
	bob := srv.Dial(t, "bob@localhost", "pw-bob", xmpptest.DialOptions{})
	alice := newBOSHClient(t, boshURL(srv), srv.TLSConfig(t, "localhost"))
	alice.loginWith("alice", "pw-alice", 1, 1)
	if rec.has("bosh: request held back by the byte rate") {
		t.Fatal("a login within the burst was held back")
	}
	big := strings.Repeat("x", 3000)
	alice.send("<message xmlns='jabber:client' to='" + bob.JID.String() + "' type='chat'><body>" + big + "</body></message>")
	if !rec.has("bosh: request held back by the byte rate") {
		t.Error("a body three times the burst was not held back")
	}
	bob.Expect(t, wait, "the big message", isChat(big))
}

// recorder is a slog.Handler that keeps the messages logged.
type recorder struct {
	mu   sync.Mutex
	msgs []string
}

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, rec.Message)
	return nil
}
func (r *recorder) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *recorder) WithGroup(string) slog.Handler      { return r }

func (r *recorder) has(msg string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range r.msgs {
		if m == msg {
			return true
		}
	}
	return false
}
