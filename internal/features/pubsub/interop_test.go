package pubsub_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/xmpptest"
)

const xmppjsDir = "../../clientmatrix/testdata/xmppjs"

// TestPEPInteropSlixmppXmppJS: a PEP item published by slixmpp's
// XEP-0163/XEP-0172 plugins arrives at an @xmpp/client contact and one
// published by @xmpp/client at slixmpp, each filtered by caps the server
// verified with the library's own disco#info answer.
func TestPEPInteropSlixmppXmppJS(t *testing.T) {
	xmpptest.RequirePython(t, "slixmpp", "python3-slixmpp")
	xmpptest.RequireCommand(t, "node", "nodejs npm")
	if _, err := os.Stat(filepath.Join(xmppjsDir, "node_modules", "@xmpp", "client")); err != nil {
		if os.Getenv("PARLEY_REQUIRE_INTEROP") != "" {
			t.Fatalf("@xmpp/client is not installed: npm ci --prefix internal/clientmatrix/testdata/xmppjs")
		}
		t.Skip("@xmpp/client is not installed: npm ci --prefix internal/clientmatrix/testdata/xmppjs")
	}
	e := newEnv(t)
	e.srv.AddUser(t, "js@localhost", "js pw")
	e.srv.AddUser(t, "slix@localhost", "slix pw")
	a := &client{Client: e.srv.Dial(t, "js@localhost", "js pw", xmpptest.DialOptions{})}
	b := &client{Client: e.srv.Dial(t, "slix@localhost", "slix pw", xmpptest.DialOptions{})}
	a.Send(t, `<presence/>`)
	b.Send(t, `<presence/>`)
	befriend(t, a, "js@localhost", b, "slix@localhost")
	a.Close()
	b.Close()

	cafile := filepath.Join(e.srv.Config.DataDir, "certs", "localhost.crt")
	host, port, _ := strings.Cut(e.srv.Addr("c2s"), ":")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	js := exec.CommandContext(ctx, "node", filepath.Join(xmppjsDir, "pep.mjs"), "js@localhost", "js pw", host, port, "slix@localhost", "JS nick", "Slix nick")
	js.Env = append(os.Environ(), "NODE_EXTRA_CA_CERTS="+cafile)
	slix := xmpptest.PythonCommand(ctx, "testdata/slixmpp_pep.py", "slix@localhost/slix", "slix pw", host, port, cafile, "js@localhost", "Slix nick", "JS nick")
	outs := make([]string, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i, cmd := range []*exec.Cmd{js, slix} {
		wg.Go(func() {
			out, err := cmd.CombinedOutput()
			outs[i], errs[i] = string(out), err
		})
	}
	wg.Wait()
	if errs[0] != nil || !strings.Contains(outs[0], "OK Slix nick from slix@localhost") {
		t.Errorf("@xmpp/client did not get slixmpp's item: %v\n%s", errs[0], outs[0])
	}
	if errs[1] != nil || !strings.Contains(outs[1], "OK JS nick from js@localhost") {
		t.Errorf("slixmpp did not get @xmpp/client's item: %v\n%s", errs[1], outs[1])
	}
}

// TestServiceInteropSlixmpp: slixmpp's XEP-0060 plugin subscribes to a
// node on pubsub.localhost and publishes to it; a mellium subscriber gets
// its item, and slixmpp gets the mellium client's.
func TestServiceInteropSlixmpp(t *testing.T) {
	xmpptest.RequirePython(t, "slixmpp", "python3-slixmpp")
	e := newEnv(t)
	e.user(t, "alice")
	e.srv.AddUser(t, "slix@localhost", "slix pw")
	alice := e.dial(t, "alice")
	alice.iq(t, set(ps(`<create node='interop'/><configure>`+configForm(map[string]string{"pubsub#publish_model": "open"})+`</configure>`)), "result")
	alice.iq(t, set(ps(`<subscribe node='interop' jid='alice@localhost'/>`)), "result")
	cafile := filepath.Join(e.srv.Config.DataDir, "certs", "localhost.crt")
	host, port, _ := strings.Cut(e.srv.Addr("c2s"), ":")
	_, script := xmpptest.StartPython(t, alice.In, isEvent("interop", "from slixmpp"), "testdata/slixmpp_pubsub.py",
		"slix@localhost/slix", "slix pw", host, port, cafile, svc, "interop")
	alice.iq(t, set(ps(`<publish node='interop'>`+item("m", "from mellium")+`</publish>`)), "result")
	out, err := script.Wait()
	if err != nil || !strings.Contains(out, "OK from mellium") || !strings.Contains(out, "SUBSCRIBED") {
		t.Fatalf("slixmpp: %v\n%s", err, out)
	}
}
