package httpd_test

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/xmpptest"
)

// webDir holds the npm clients (@xmpp/client, converse.js, playwright-core),
// installed by .ci/run with npm ci.
const webDir = "testdata/web"

// requireWeb skips (fails under PARLEY_REQUIRE_INTEROP) when Node or the
// npm packages are missing.
func requireWeb(t *testing.T, pkg string) string {
	t.Helper()
	node := xmpptest.RequireCommand(t, "node", "nodejs")
	if _, err := os.Stat(filepath.Join(webDir, "node_modules", pkg, "package.json")); err != nil {
		if os.Getenv("PARLEY_REQUIRE_INTEROP") != "" {
			t.Fatalf("%s is not installed: npm ci --prefix internal/httpd/%s", pkg, webDir)
		}
		t.Skip(pkg + " not installed: npm ci --prefix internal/httpd/" + webDir)
	}
	return node
}

// certFile is the server's certificate for localhost, which the npm
// clients trust (the one setting a test may give a client).
func certFile(srv *xmpptest.Server) string {
	return filepath.Join(srv.Config.DataDir, "certs", "localhost.crt")
}

// TestXmppJSWebSocket: npm @xmpp/client over wss logs in with its own
// choice of mechanism, sets and reads its roster, and exchanges messages
// with a Go client on TCP.
func TestXmppJSWebSocket(t *testing.T) {
	node := requireWeb(t, "@xmpp/client")
	srv := xmpptest.Start(t)
	srv.AddUser(t, "alice@localhost", "pw-alice")
	srv.AddUser(t, "bob@localhost", "pw-bob")
	bob := srv.Dial(t, "bob@localhost", "pw-bob", xmpptest.DialOptions{})
	bob.Send(t, "<presence/>") // available: a message to the bare JID reaches this resource

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out := &xmpptest.SyncBuffer{}
	cmd := exec.CommandContext(ctx, node, "--experimental-websocket", "xmppjs-websocket.mjs",
		"alice@localhost", "pw-alice", localURL(srv, "wss", "http-tls", "/xmpp-websocket"), "bob@localhost", "t0k3n")
	cmd.Dir = webDir
	cmd.Env = append(os.Environ(), "NODE_EXTRA_CA_CERTS="+certFile(srv))
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("xmpp.js output:\n%s", out)
		}
	})

	st := bob.Expect(t, 20*time.Second, "xmpp.js's ping", isChat("ping t0k3n"))
	from := st.Attr("from")
	if !strings.HasPrefix(from, "alice@localhost/") {
		t.Fatalf("ping from %q", from)
	}
	bob.Send(t, `<message to='`+from+`' type='chat'><body>pong t0k3n</body></message>`)
	if err := <-done; err != nil {
		t.Fatalf("xmpp.js: %v\n%s", err, out)
	}
	if o := out.String(); !strings.Contains(o, "ROSTER bob@localhost") || !strings.Contains(o, "RECEIVED pong t0k3n") {
		t.Fatalf("xmpp.js output:\n%s", o)
	}
}

// localURL is a URL on the listener name with host name localhost (the
// name the certificate is for).
func localURL(srv *xmpptest.Server, scheme, name, path string) string {
	_, port, _ := net.SplitHostPort(srv.Addr(name))
	return scheme + "://localhost:" + port + path
}
