package c2s_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/xmpptest"
)

// TestSlixmppChat: Debian's slixmpp (an independent client) logs in over
// STARTTLS with its default settings, on its first connection, and
// exchanges a message with a mellium client. slixmpp 1.8 binds only with
// tls-unique: over TLS 1.2 it uses SCRAM-SHA-512-PLUS; over TLS 1.3, where
// tls-unique does not exist, its -PLUS attempts fail and it must get in
// with SCRAM-SHA-512 and the gs2 flag "y" (auth.channel_binding_downgrade =
// "compatible"). The forced-mechanism runs cover each SCRAM hash and PLAIN.
func TestSlixmppChat(t *testing.T) {
	xmpptest.RequirePython(t, "slixmpp", "python3-slixmpp")
	srv := xmpptest.Start(t)
	srv.AddUser(t, "alice@localhost", "slix pw")
	srv.AddUser(t, "bob@localhost", "pw")
	bob := srv.Dial(t, "bob@localhost", "pw", xmpptest.DialOptions{})
	for _, tc := range []struct{ mech, tlsMax, want string }{
		{"", "", "SCRAM-SHA-512 TLSv1.3"},
		{"", "1.2", "SCRAM-SHA-512-PLUS TLSv1.2"},
		{"SCRAM-SHA-1", "", "SCRAM-SHA-1 TLSv1.3"},
		{"SCRAM-SHA-256", "", "SCRAM-SHA-256 TLSv1.3"},
		{"PLAIN", "", "PLAIN TLSv1.3"},
	} {
		name := tc.mech
		if name == "" {
			name = "default choice"
		}
		if tc.tlsMax != "" {
			name += " TLS " + tc.tlsMax
		}
		t.Run(name, func(t *testing.T) {
			out := runSlixmpp(t, srv, bob, tc.mech, tc.tlsMax, name)
			if got := strings.Count(out, "CONNECTED"); got != 1 {
				t.Errorf("slixmpp connected %d times, want once:\n%s", got, out)
			}
			if !strings.Contains(out, "MECH "+tc.want+"\n") {
				t.Errorf("want MECH %s:\n%s", tc.want, out)
			}
		})
	}
}

// TestSlixmppStrict: with auth.channel_binding_downgrade = "strict" the
// same default slixmpp is refused with SCRAM (three -PLUS attempts with
// tls-unique, three "y" downgrades), and the failures must not end the
// stream before it reaches PLAIN: it logs in on its first connection.
func TestSlixmppStrict(t *testing.T) {
	xmpptest.RequirePython(t, "slixmpp", "python3-slixmpp")
	srv := xmpptest.Start(t, func(c *config.Config) { c.Auth.ChannelBindingDowngrade = config.ChannelBindingStrict })
	srv.AddUser(t, "alice@localhost", "slix pw")
	srv.AddUser(t, "bob@localhost", "pw")
	bob := srv.Dial(t, "bob@localhost", "pw", xmpptest.DialOptions{})
	out := runSlixmpp(t, srv, bob, "", "", "strict")
	if strings.Count(out, "CONNECTED") != 1 || strings.Count(out, "AUTH FAILED") != 6 || !strings.Contains(out, "MECH PLAIN TLSv1.3\n") {
		t.Errorf("want one connection, six refusals, then PLAIN:\n%s", out)
	}
}

// runSlixmpp runs testdata/slixmpp_chat.py as alice and answers its
// message from bob; it returns the script's output.
func runSlixmpp(t *testing.T, srv *xmpptest.Server, bob *xmpptest.Client, mech, tlsMax, name string) string {
	t.Helper()
	cafile := filepath.Join(srv.Config.DataDir, "certs", "localhost.crt")
	host, port, _ := strings.Cut(srv.Addr("c2s"), ":")
	msg, script := xmpptest.StartPython(t, bob.In, isChat("hello from slixmpp"), "testdata/slixmpp_chat.py",
		"alice@localhost/slix", "slix pw", host, port, cafile, bob.JID.String(), mech, tlsMax)
	if msg.Attr("from") != "alice@localhost/slix" {
		t.Fatalf("from = %q", msg.Attr("from"))
	}
	bob.Send(t, `<message to='alice@localhost/slix' type='chat'><body>reply via `+name+`</body></message>`)
	out, err := script.Wait()
	if err != nil || !strings.Contains(out, "OK reply via "+name) {
		t.Fatalf("slixmpp: %v\n%s", err, out)
	}
	t.Logf("slixmpp:\n%s", out)
	return out
}

// TestGoSendxmpp: Debian's go-sendxmpp (mattn/go-xmpp), with its defaults,
// logs in and sends a message, over STARTTLS and over direct TLS (-t). Over
// STARTTLS it writes <starttls/> and a newline in one write: that white
// space must not end the stream. Its only mechanism shared with Parley is
// PLAIN. The certificate is trusted through SSL_CERT_FILE, which Go reads.
func TestGoSendxmpp(t *testing.T) {
	bin := xmpptest.RequireCommand(t, "go-sendxmpp", "go-sendxmpp")
	srv := xmpptest.Start(t)
	srv.AddUser(t, "alice@localhost", "sendxmpp pw")
	srv.AddUser(t, "bob@localhost", "pw")
	bob := srv.Dial(t, "bob@localhost", "pw", xmpptest.DialOptions{})
	for _, tc := range []struct {
		name, listener string
		flags          []string
	}{
		{"STARTTLS", "c2s", nil},
		{"direct TLS", "c2s-tls", []string{"-t"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, port, _ := strings.Cut(srv.Addr(tc.listener), ":")
			body := "hello from go-sendxmpp over " + tc.name
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, append(tc.flags, "-u", "alice@localhost", "-p", "sendxmpp pw",
				"-j", "localhost:"+port, bob.JID.String())...)
			cmd.Stdin = strings.NewReader(body)
			cmd.Env = append(os.Environ(), "SSL_CERT_FILE="+filepath.Join(srv.Config.DataDir, "certs", "localhost.crt"),
				"HOME="+t.TempDir())
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("go-sendxmpp: %v\n%s", err, out)
			}
			msg := bob.Expect(t, wait, "the message from go-sendxmpp", isChat(body))
			if !strings.HasPrefix(msg.Attr("from"), "alice@localhost/") {
				t.Errorf("from = %q", msg.Attr("from"))
			}
		})
	}
}
