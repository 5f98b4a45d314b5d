package adhoc_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/parleyim/parley/internal/xmpptest"
)

// TestSlixmppAdHoc: Debian's slixmpp, with its XEP-0050 plugin and
// defaults, lists the commands an admin may run and completes add-user
// through the form; the new account then logs in.
func TestSlixmppAdHoc(t *testing.T) {
	xmpptest.RequirePython(t, "slixmpp", "python3-slixmpp")
	srv, _, joe := start(t)
	cafile := filepath.Join(srv.Config.DataDir, "certs", "localhost.crt")
	host, port, _ := strings.Cut(srv.Addr("c2s"), ":")
	_, script := xmpptest.StartPython(t, joe.In, func(s xmpptest.Stanza) bool {
		return s.XMLName.Local == "message" && strings.Contains(s.Inner, "added slix@localhost")
	}, "testdata/slixmpp_adhoc.py", "root@localhost/slix", "pw", host, port, cafile, "localhost",
		"slix@localhost", "from slixmpp", joe.JID.String())
	out, err := script.Wait()
	if err != nil || !strings.Contains(out, "COMPLETED") {
		t.Fatalf("slixmpp: %v\n%s", err, out)
	}
	srv.Dial(t, "slix@localhost", "from slixmpp", xmpptest.DialOptions{})
}
