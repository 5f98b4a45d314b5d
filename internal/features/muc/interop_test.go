package muc_test

import (
	"path/filepath"
	"strings"
	"testing"

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
	msg, script := xmpptest.StartPython(t, alice.In, isMessage(occ("interop", "Slix"), "hello from slixmpp"), "testdata/slixmpp_muc.py",
		"bob@localhost/slix", "slix pw", host, port, cafile, room("interop"), "Slix")
	if msg.Attr("type") != "groupchat" || !strings.Contains(msg.Inner, "occupant-id") {
		t.Errorf("message: %s", msg.Inner)
	}
	groupchat(t, alice, "interop", "reply from mellium")
	out, err := script.Wait()
	if err != nil || !strings.Contains(out, "OK reply from mellium from "+occ("interop", "Alice")) ||
		!strings.Contains(out, "JOINED 2 occupants") {
		t.Fatalf("slixmpp: %v\n%s", err, out)
	}
}
