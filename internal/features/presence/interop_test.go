package presence_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/xmpptest"
)

// xmpptest.DebianPython is Debian's interpreter, where python3-slixmpp and
// python3-aioxmpp install.

// TestInteropRosterSubscriptionPresence: a Debian python client and a
// mellium client subscribe to each other and exchange presence end to
// end: the python client requests the subscription, the mellium client
// approves it and asks back, the python client approves; both rosters end
// at 'both' and each side sees the other's status.
func TestInteropRosterSubscriptionPresence(t *testing.T) {
	for _, tc := range []struct{ name, module, pkg, script string }{
		{"slixmpp", "slixmpp", "python3-slixmpp", "testdata/slixmpp_roster.py"},
		{"aioxmpp", "aioxmpp", "python3-aioxmpp", "testdata/aioxmpp_roster.py"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			xmpptest.RequirePython(t, tc.module, tc.pkg)
			srv := xmpptest.Start(t)
			srv.AddUser(t, "py@localhost", "py pw")
			srv.AddUser(t, "bob@localhost", pw)
			bob := dial(t, srv, "bob@localhost")
			interested(t, bob)
			available(t, bob, "bob here")
			cafile := filepath.Join(srv.Config.DataDir, "certs", "localhost.crt")
			host, port, _ := strings.Cut(srv.Addr("c2s"), ":")
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			cmd := xmpptest.PythonCommand(ctx, tc.script,
				"py@localhost/"+tc.name, "py pw", host, port, cafile, "bob@localhost", "bob here")
			done := make(chan struct{})
			var out []byte
			var err error
			go func() { out, err = cmd.CombinedOutput(); close(done) }()
			next := func(what string, match func(xmpptest.Stanza) bool) xmpptest.Stanza {
				t.Helper()
				for {
					select {
					case s := <-bob.In:
						if match(s) {
							return s
						}
					case <-done:
						t.Fatalf("%s ended before bob got %s: %v\n%s", tc.name, what, err, out)
					case <-ctx.Done():
						t.Fatalf("no %s", what)
					}
				}
			}
			next("the subscription request", isPresence("py@localhost", "subscribe"))
			send(t, bob, `<presence type='subscribed' to='py@localhost'/>`)
			send(t, bob, `<presence type='subscribe' to='py@localhost'/>`)
			next("the approval", isPresence("py@localhost", "subscribed"))
			p := next("the final status", func(s xmpptest.Stanza) bool {
				return isPresence("py@localhost", "")(s) && strings.Contains(s.Inner, "py done")
			})
			if !strings.HasPrefix(p.Attr("from"), "py@localhost/") {
				t.Fatalf("presence from %q", p.Attr("from"))
			}
			next("unavailable at logout", isPresence("py@localhost", "unavailable"))
			<-done
			if err != nil || !strings.Contains(string(out), "OK roster bob@localhost both") {
				t.Fatalf("%s: %v\n%s", tc.name, err, out)
			}
			res := interested(t, bob)
			if !strings.Contains(res.Inner, `jid="py@localhost"`) || !strings.Contains(res.Inner, `subscription="both"`) {
				t.Fatalf("bob's roster: %s", res.Inner)
			}
		})
	}
}
