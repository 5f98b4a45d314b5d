package c2s_test

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/xmpptest"
)

// TestSlixmppChat: a non-Go client logs in over STARTTLS and exchanges a
// message with a mellium client, once per SCRAM hash and with slixmpp's
// own mechanism choice. slixmpp 1.8 only knows the tls-unique channel
// binding, which exists before TLS 1.3 only, so its own choice
// (SCRAM-SHA-512-PLUS) is exercised over TLS 1.2.
func TestSlixmppChat(t *testing.T) {
	xmpptest.RequirePython(t, "slixmpp", "python3-slixmpp")
	srv := xmpptest.Start(t)
	srv.AddUser(t, "alice@localhost", "slix pw")
	srv.AddUser(t, "bob@localhost", "pw")
	bob := srv.Dial(t, "bob@localhost", "pw", xmpptest.DialOptions{})
	cafile := filepath.Join(srv.Config.DataDir, "certs", "localhost.crt")
	host, port, _ := strings.Cut(srv.Addr("c2s"), ":")
	for _, tc := range []struct{ mech, tlsMax string }{
		{"", "1.2"},
		{"SCRAM-SHA-512-PLUS", "1.2"},
		{"SCRAM-SHA-1", "1.3"},
		{"SCRAM-SHA-256", "1.3"},
		{"SCRAM-SHA-512", "1.3"},
		{"PLAIN", "1.3"},
	} {
		mech := tc.mech
		name := mech
		if name == "" {
			name = "default choice"
		}
		name += " TLS " + tc.tlsMax
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, xmpptest.DebianPython, "testdata/slixmpp_chat.py",
				"alice@localhost/slix", "slix pw", host, port, cafile, bob.JID.String(), mech, tc.tlsMax)
			done := make(chan struct{})
			var out []byte
			var err error
			go func() { out, err = cmd.CombinedOutput(); close(done) }()
			var msg xmpptest.Stanza
		wait:
			for {
				select {
				case msg = <-bob.In:
					if isChat("hello from slixmpp")(msg) {
						break wait
					}
				case <-done:
					t.Fatalf("slixmpp ended before sending: %v\n%s", err, out)
				}
			}
			if msg.Attr("from") != "alice@localhost/slix" {
				t.Fatalf("from = %q", msg.Attr("from"))
			}
			bob.Send(t, `<message to='alice@localhost/slix' type='chat'><body>reply via `+name+`</body></message>`)
			<-done
			if err != nil || !strings.Contains(string(out), "OK reply via "+name) {
				t.Fatalf("slixmpp: %v\n%s", err, out)
			}
		})
	}
}
