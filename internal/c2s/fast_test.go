package c2s_test

import (
	"context"
	"crypto/tls"
	"strings"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/sasl"
	"github.com/parleyim/parley/internal/storage"
	"github.com/parleyim/parley/internal/xmpptest"
)

// The XEP-0484 FAST tests: tokens obtained and used over real TLS sockets
// with the raw SASL2 client of xmpptest.

// getToken logs alice in with her password and asks for a token of mech
// for agent.
func getToken(t *testing.T, srv *xmpptest.Server, agent, mech string) string {
	t.Helper()
	r, _ := srv.OpenTLS(t, "alice@localhost", tls.VersionTLS13)
	l := sasl2Login("SCRAM-SHA-256-PLUS", agent)
	l.RequestToken = mech
	res := r.SASL2(l)
	if !res.Success || res.Token == "" {
		t.Fatalf("password login with request-token: %+v", res)
	}
	if d := time.Until(res.Expiry); d < 13*24*time.Hour || d > 14*24*time.Hour+time.Minute {
		t.Errorf("token expires in %v, want the configured 336h", d)
	}
	return res.Token
}

// tokenLogin logs alice in with token.
func tokenLogin(t *testing.T, srv *xmpptest.Server, agent, mech, token string, count int64, edit ...func(*xmpptest.SASL2Login)) xmpptest.SASL2Result {
	t.Helper()
	r, _ := srv.OpenTLS(t, "alice@localhost", tls.VersionTLS13)
	l := xmpptest.SASL2Login{Mechanism: mech, User: "alice", Token: token, Agent: agent, Count: count, Bind: true, Tag: "fast"}
	for _, e := range edit {
		e(&l)
	}
	return r.SASL2(l)
}

func TestFASTLifecycle(t *testing.T) {
	srv := xmpptest.Start(t)
	srv.AddUser(t, "alice@localhost", "pw")
	const agent = "0d9c4c1e-phone"
	token := getToken(t, srv, agent, sasl.HTSHA256Expr)

	res := tokenLogin(t, srv, agent, sasl.HTSHA256Expr, token, 1)
	if !res.Success || !res.ServerOK || res.Bound == "" {
		t.Fatalf("token login: %+v", res)
	}
	if res.Token != "" {
		t.Errorf("a fresh token was rotated: %+v", res)
	}

	replays := saslFailures(t, "token-replay", sasl.HTSHA256Expr)
	if res := tokenLogin(t, srv, agent, sasl.HTSHA256Expr, token, 1); res.Success || res.Condition != "not-authorized" {
		t.Errorf("the same count again (replay): %+v", res)
	}
	if got := saslFailures(t, "token-replay", sasl.HTSHA256Expr); got != replays+1 {
		t.Errorf("parley_sasl_failures_total{token-replay} went from %v to %v", replays, got)
	}
	if res := tokenLogin(t, srv, agent, sasl.HTSHA256Expr, token, 2); !res.Success {
		t.Errorf("the next count: %s", res.Raw)
	}

	bad := saslFailures(t, "bad-token", sasl.HTSHA256Expr)
	wrong := token[:len(token)-1] + "x" // the last character changed
	if wrong == token {
		wrong = token[:len(token)-1] + "y"
	}
	for name, edit := range map[string]func(*xmpptest.SASL2Login){
		"wrong token":               func(l *xmpptest.SASL2Login) { l.Token = wrong },
		"relayed (binding differs)": func(l *xmpptest.SASL2Login) { l.WrongCB = true },
		"another agent":             func(l *xmpptest.SASL2Login) { l.Agent = "someone-else" },
		"another account":           func(l *xmpptest.SASL2Login) { l.User = "bob" },
	} {
		if res := tokenLogin(t, srv, agent, sasl.HTSHA256Expr, token, 10, edit); res.Success || res.Condition != "not-authorized" {
			t.Errorf("%s: %+v", name, res)
		}
	}
	if got := saslFailures(t, "bad-token", sasl.HTSHA256Expr); got < bad+3 {
		t.Errorf("parley_sasl_failures_total{bad-token} went from %v to %v", bad, got)
	}
	// A token issued for a channel-binding mechanism is refused without it.
	if res := tokenLogin(t, srv, agent, sasl.HTSHA256None, token, 11); res.Success {
		t.Errorf("EXPR token accepted with HT-SHA-256-NONE: %+v", res)
	}

	if res := tokenLogin(t, srv, agent, sasl.HTSHA256Expr, token, 12, func(l *xmpptest.SASL2Login) { l.Invalidate = true }); !res.Success || res.Token != "" {
		t.Fatalf("login with invalidate: %+v", res)
	}
	if res := tokenLogin(t, srv, agent, sasl.HTSHA256Expr, token, 13); res.Success {
		t.Error("the token works after it was invalidated")
	}
}

// TestFASTStableResource: a token login of a device gets the resource its
// password login got.
func TestFASTStableResource(t *testing.T) {
	srv := xmpptest.Start(t)
	srv.AddUser(t, "alice@localhost", "pw")
	r, _ := srv.OpenTLS(t, "alice@localhost", 0)
	l := sasl2Login("PLAIN", "tablet")
	l.Tag, l.RequestToken = "fast", sasl.HTSHA256None
	first := r.SASL2(l)
	res := tokenLogin(t, srv, "tablet", sasl.HTSHA256None, first.Token, -1)
	if !res.Success || res.AuthzID != first.AuthzID {
		t.Fatalf("password login bound %q, token login %+v", first.AuthzID, res)
	}
}

func TestFASTPasswordChangeInvalidates(t *testing.T) {
	srv := xmpptest.Start(t)
	alice := srv.AddUser(t, "alice@localhost", "pw")
	token := getToken(t, srv, "phone", sasl.HTSHA256None)
	if err := srv.Accounts().SetPassword(context.Background(), alice, "new"); err != nil {
		t.Fatal(err)
	}
	if res := tokenLogin(t, srv, "phone", sasl.HTSHA256None, token, 1); res.Success {
		t.Fatal("a token works after the password changed")
	}
}

// TestFASTLimit: past sasl2.fast_max_tokens the oldest token is evicted.
func TestFASTLimit(t *testing.T) {
	srv := xmpptest.Start(t, func(c *config.Config) { c.SASL2.FASTMaxTokens = 2 })
	srv.AddUser(t, "alice@localhost", "pw")
	tokens := map[string]string{}
	for _, agent := range []string{"a", "b", "c"} {
		tokens[agent] = getToken(t, srv, agent, sasl.HTSHA256None)
	}
	if res := tokenLogin(t, srv, "a", sasl.HTSHA256None, tokens["a"], 1); res.Success {
		t.Error("the oldest token still works past the limit")
	}
	for _, agent := range []string{"b", "c"} {
		if res := tokenLogin(t, srv, agent, sasl.HTSHA256None, tokens[agent], 1); !res.Success {
			t.Errorf("token of %s: %s", agent, res.Raw)
		}
	}
}

// TestFASTExpiryAndRotation: an expired token fails with
// credentials-expired; one past half its lifetime is rotated, and the old
// one stays valid until the new one is used.
func TestFASTExpiryAndRotation(t *testing.T) {
	srv := xmpptest.Start(t)
	alice := srv.AddUser(t, "alice@localhost", "pw")
	store := srv.FastTokens()
	issue := func(agent string, created, expires time.Time) string {
		token, key := sasl.NewHTToken()
		tok := storage.FastToken{Key: key, Agent: agent, Mechanism: sasl.HTSHA256None, Created: created, Expires: expires}
		if err := store.Issue(context.Background(), alice, tok, 10); err != nil {
			t.Fatal(err)
		}
		return token
	}
	now := time.Now()
	expired := issue("old-phone", now.Add(-15*24*time.Hour), now.Add(-time.Hour))
	if res := tokenLogin(t, srv, "old-phone", sasl.HTSHA256None, expired, 1); res.Success || res.Condition != "credentials-expired" {
		t.Errorf("expired token: %+v", res)
	}

	aging := issue("phone", now.Add(-10*24*time.Hour), now.Add(4*24*time.Hour))
	res := tokenLogin(t, srv, "phone", sasl.HTSHA256None, aging, 1)
	if !res.Success || res.Token == "" {
		t.Fatalf("login with a token past half its lifetime brought no new token: %+v", res)
	}
	unused := res.Token
	// The client may not have received it: the old token still works, and
	// the login rotates again; the unused token is superseded (XEP-0484
	// §4.4: "SHOULD invalidate any tokens previously generated that have
	// not been used").
	res = tokenLogin(t, srv, "phone", sasl.HTSHA256None, aging, 2)
	if !res.Success || res.Token == "" {
		t.Fatalf("the old token before the new one is used: %+v", res)
	}
	rotated := res.Token
	if res := tokenLogin(t, srv, "phone", sasl.HTSHA256None, unused, 1); res.Success {
		t.Error("a superseded unused token still works")
	}
	if res := tokenLogin(t, srv, "phone", sasl.HTSHA256None, rotated, 1); !res.Success || res.Token != "" {
		t.Fatalf("the rotated token: %+v", res)
	}
	if res := tokenLogin(t, srv, "phone", sasl.HTSHA256None, aging, 3); res.Success {
		t.Error("the old token still works after the new one was used")
	}
}

// TestFASTBadInput: token logins that are malformed or not offered.
func TestFASTBadInput(t *testing.T) {
	srv := xmpptest.Start(t)
	srv.AddUser(t, "alice@localhost", "pw")
	token := getToken(t, srv, "phone", sasl.HTSHA256None)
	for name, tc := range map[string]struct {
		mech, cond string
		edit       func(*xmpptest.SASL2Login)
	}{
		"no user agent":          {sasl.HTSHA256None, "malformed-request", func(l *xmpptest.SASL2Login) { l.Agent = "" }},
		"tls-unique on TLS 1.3":  {sasl.HTSHA256Uniq, "invalid-mechanism", nil},
		"unknown HT mechanism":   {"HT-SHA-3-NONE", "invalid-mechanism", nil},
		"user as a foreign JID":  {sasl.HTSHA256None, "not-authorized", func(l *xmpptest.SASL2Login) { l.User = "alice@example.org" }},
		"user as own bare JID ✓": {sasl.HTSHA256None, "", func(l *xmpptest.SASL2Login) { l.User = "alice@localhost" }},
	} {
		edit := tc.edit
		if edit == nil {
			edit = func(*xmpptest.SASL2Login) {}
		}
		res := tokenLogin(t, srv, "phone", tc.mech, token, -1, edit)
		if res.Condition != tc.cond || res.Success != (tc.cond == "") {
			t.Errorf("%s: %+v", name, res)
		}
	}
	off := xmpptest.Start(t, func(c *config.Config) { c.SASL2.FAST = false })
	off.AddUser(t, "alice@localhost", "pw")
	r, feats := off.OpenTLS(t, "alice@localhost", 0)
	if strings.Contains(feats, "urn:xmpp:fast:0") {
		t.Errorf("sasl2.fast = false still offers FAST: %s", feats)
	}
	if res := r.SASL2(xmpptest.SASL2Login{Mechanism: sasl.HTSHA256None, User: "alice", Token: token, Agent: "phone", Count: 1}); res.Condition != "invalid-mechanism" {
		t.Errorf("token login with FAST off: %+v", res)
	}
}
