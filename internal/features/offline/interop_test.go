package offline_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/xmpptest"
)

// TestInteropOfflineDelivery: messages sent by a mellium client to an
// account while it is offline are delivered to a Debian python client
// (slixmpp, aioxmpp) when it logs in, in order and with delay stamps.
func TestInteropOfflineDelivery(t *testing.T) {
	for _, tc := range []struct{ name, module, pkg, script string }{
		{"slixmpp", "slixmpp", "python3-slixmpp", "testdata/slixmpp_offline.py"},
		{"aioxmpp", "aioxmpp", "python3-aioxmpp", "testdata/aioxmpp_offline.py"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			xmpptest.RequirePython(t, tc.module, tc.pkg)
			srv := xmpptest.Start(t)
			srv.AddUser(t, "py@localhost", "py pw")
			srv.AddUser(t, "alice@localhost", "pw")
			alice := srv.Dial(t, "alice@localhost", "pw", xmpptest.DialOptions{})
			bodies := []string{"one while away", "two while away", "three while away"}
			for _, b := range bodies {
				alice.Send(t, `<message to='py@localhost' type='chat'><body>`+b+`</body></message>`)
			}
			alice.IQ(t, `<iq type='get' id='sync' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`)
			alice.ExpectNone(t, 100*time.Millisecond, "bounce", func(s xmpptest.Stanza) bool { return s.Attr("type") == "error" })
			cafile := filepath.Join(srv.Config.DataDir, "certs", "localhost.crt")
			host, port, _ := strings.Cut(srv.Addr("c2s"), ":")
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			args := append([]string{tc.script, "py@localhost/" + tc.name, "py pw", host, port, cafile}, bodies...)
			out, err := xmpptest.PythonCommand(ctx, args[0], args[1:]...).CombinedOutput()
			if err != nil || !strings.Contains(string(out), "OK") {
				t.Fatalf("%s: %v\n%s", tc.name, err, out)
			}
		})
	}
}
