package mam_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/xmpptest"
)

// TestInteropSlixmppMAM: messages a mellium client sent are paged through
// by slixmpp's XEP-0313 plugin (Debian's slixmpp 1.8, its defaults), both
// ways, with the form, the metadata and a 'with' filter.
func TestInteropSlixmppMAM(t *testing.T) {
	xmpptest.RequirePython(t, "slixmpp", "python3-slixmpp")
	srv := start(t)
	srv.AddUser(t, "py@localhost", "py pw")
	alice := online(t, srv, "alice")
	var bodies []string
	for i := range 45 {
		bodies = append(bodies, fmt.Sprintf("archived %d", i))
		alice.Send(t, `<message to='py@localhost' type='chat'><body>`+bodies[i]+`</body></message>`)
	}
	xmpptest.Settle(t, alice)
	cafile := filepath.Join(srv.Config.DataDir, "certs", "localhost.crt")
	host, port, _ := strings.Cut(srv.Addr("c2s"), ":")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	args := append([]string{"testdata/slixmpp_mam.py", "py@localhost/slix", "py pw", host, port, cafile, "alice@localhost"}, bodies...)
	out, err := xmpptest.PythonCommand(ctx, args[0], args[1:]...).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "OK") {
		t.Fatalf("slixmpp: %v\n%s", err, out)
	}
}
