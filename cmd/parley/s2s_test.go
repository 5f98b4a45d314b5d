package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/xmpptest"
)

// TestS2SListAndClose: `parley s2s list` shows the running server's
// streams through its admin listener and `parley s2s close` ends them;
// the listener wants a token: the command makes a short-lived one in the
// server's database (and revokes it), or takes --token / PARLEY_ADMIN_TOKEN;
// without one, or with a revoked one, the listener refuses.
func TestS2SListAndClose(t *testing.T) {
	addrs := map[string]string{"a.test": xmpptest.FreeAddr(t), "b.test": xmpptest.FreeAddr(t)}
	start := func(domain string) *xmpptest.Server {
		return xmpptest.Start(t, func(c *config.Config) {
			c.Domains = []string{domain}
			c.S2S.Enabled, c.S2S.Addr, c.S2S.RequireValidCertificates = true, addrs[domain], false
			c.S2S.Routes = map[string]string{"a.test": addrs["a.test"], "b.test": addrs["b.test"]}
		})
	}
	a, b := start("a.test"), start("b.test")
	a.AddUser(t, "alice@a.test", "pw")
	b.AddUser(t, "bob@b.test", "pw")
	alice := a.Dial(t, "alice@a.test", "pw", xmpptest.DialOptions{})
	bob := b.Dial(t, "bob@b.test", "pw", xmpptest.DialOptions{})
	bob.Send(t, `<presence/>`)
	alice.Send(t, `<message to='bob@b.test' type='chat'><body>hi</body></message>`)
	bob.Expect(t, 10*time.Second, "alice's message", func(s xmpptest.Stanza) bool { return strings.Contains(s.Inner, "hi") })

	dd := "--data-dir=" + a.Config.DataDir
	out := cli(t, "", "s2s", "list", "--admin-addr", a.Addr("admin"), dd).ok(t).stdout
	if !strings.Contains(out, "out") || !strings.Contains(out, "b.test") || !strings.Contains(out, "dialback") {
		t.Fatalf("s2s list:\n%s", out)
	}
	if toks, err := a.Console().Store().Tokens(context.Background()); err != nil || len(toks) != 0 {
		t.Errorf("the short-lived token was not revoked: %v %v", toks, err)
	}
	// Without a token, with a revoked one: refused by the listener.
	resp, err := http.Get("http://" + a.Addr("admin") + "/s2s/streams")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("/s2s/streams without a token: %s", resp.Status)
	}
	tok, secret, err := a.Console().Store().CreateToken(context.Background(), "ops")
	if err != nil {
		t.Fatal(err)
	}
	out = cli(t, "", "s2s", "close", "b.test", "--admin-addr", a.Addr("admin"), "--token", secret).ok(t).stdout
	if !strings.Contains(out, "closed 1 stream(s) of b.test") {
		t.Fatalf("s2s close: %s", out)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(cli(t, "", "s2s", "list", "--admin-addr", a.Addr("admin"), dd).ok(t).stdout, "no server-to-server streams") {
		if time.Now().After(deadline) {
			t.Fatal("the stream is still listed after close")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := a.Console().Store().RevokeToken(context.Background(), tok.ID); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PARLEY_ADMIN_TOKEN", secret)
	cli(t, "", "s2s", "list", "--admin-addr", a.Addr("admin")).fails(t, "invalid_token")
	cli(t, "", "s2s", "list", "--admin-addr", xmpptest.FreeAddr(t)).fails(t, "cannot reach the server's admin listener")
}
