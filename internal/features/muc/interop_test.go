package muc_test

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/xmpptest"
)

// TestSlixmppMUC: slixmpp's XEP-0045 plugin (Debian's python3-slixmpp)
// joins a room a mellium client created, sees both occupants, and the two
// exchange groupchat messages through the room.
func TestSlixmppMUC(t *testing.T) {
	xmpptest.RequirePython(t, "slixmpp", "python3-slixmpp")
	e := newEnv(t, "alice")
	e.srv.AddUser(t, "bob@localhost", "slix pw")
	alice := e.users["alice"]
	create(t, alice, "interop", "Alice")
	cafile := filepath.Join(e.srv.Config.DataDir, "certs", "localhost.crt")
	host, port, _ := strings.Cut(e.srv.Addr("c2s"), ":")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, xmpptest.DebianPython, "testdata/slixmpp_muc.py",
		"bob@localhost/slix", "slix pw", host, port, cafile, room("interop"), "Slix")
	done := make(chan struct{})
	var out []byte
	var err error
	go func() { out, err = cmd.CombinedOutput(); close(done) }()
	var msg xmpptest.Stanza
wait:
	for {
		select {
		case msg = <-alice.In:
			if isMessage(occ("interop", "Slix"), "hello from slixmpp")(msg) {
				break wait
			}
		case <-done:
			t.Fatalf("slixmpp ended before sending: %v\n%s", err, out)
		}
	}
	if msg.Attr("type") != "groupchat" || !strings.Contains(msg.Inner, "occupant-id") {
		t.Errorf("message: %s", msg.Inner)
	}
	groupchat(t, alice, "interop", "reply from mellium")
	<-done
	if err != nil || !strings.Contains(string(out), "OK reply from mellium from "+occ("interop", "Alice")) ||
		!strings.Contains(string(out), "JOINED 2 occupants") {
		t.Fatalf("slixmpp: %v\n%s", err, out)
	}
}
