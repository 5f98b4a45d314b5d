package httpd_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/xmpptest"
)

// TestConverseBrowser: converse.js (npm converse.js) in headless Chromium,
// on a page from another origin, logs in over WebSocket and over BOSH,
// each, and exchanges a message with a Go client on TCP.
func TestConverseBrowser(t *testing.T) {
	e := newConverseEnv(t)
	node, chromium, srv, bob, pages := e.node, e.chromium, e.srv, e.bob, e.pages

	for _, tc := range []struct{ name, param, service string }{
		{"websocket", "ws", localURL(srv, "ws", "http", "/xmpp-websocket")},
		{"bosh", "bosh", localURL(srv, "http", "http", "/http-bind")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			token := "tok-" + tc.name
			q := url.Values{"jid": {"alice@localhost/" + tc.name}, "password": {"pw-alice"}, tc.param: {tc.service}}
			out, done := startBrowser(t, node, chromium, nil, "converse.mjs", pages.URL+"/?"+q.Encode(), "bob@localhost", token)
			st := expectOrExit(t, bob, done, "converse.js's ping", isChat("ping "+token))
			if from := st.Attr("from"); from != "alice@localhost/"+tc.name && !strings.HasPrefix(from, "alice@localhost/") {
				t.Fatalf("ping from %q", from)
			}
			bob.Send(t, `<message to='`+st.Attr("from")+`' type='chat'><body>pong `+token+`</body></message>`)
			if err := <-done; err != nil {
				t.Fatalf("converse.mjs: %v", err)
			}
			if !strings.Contains(out.String(), "RECEIVED pong "+token) {
				t.Fatalf("converse.js did not receive the reply")
			}
		})
	}
}

// converseEnv is what a converse.js test needs: node and Chromium, a
// server with alice (pw-alice) and bob (pw-bob, online on TCP), and the
// pages' origin.
type converseEnv struct {
	node, chromium string
	srv            *xmpptest.Server
	bob            *xmpptest.Client
	pages          *httptest.Server
}

// newConverseEnv skips the test when converse.js, playwright-core or
// Chromium is missing (fails under PARLEY_REQUIRE_INTEROP).
func newConverseEnv(t *testing.T) *converseEnv {
	t.Helper()
	e := &converseEnv{node: requireWeb(t, "converse.js")}
	requireWeb(t, "playwright-core")
	e.chromium = xmpptest.RequireCommand(t, "chromium", "chromium")
	e.srv = xmpptest.Start(t)
	e.srv.AddUser(t, "alice@localhost", "pw-alice")
	e.srv.AddUser(t, "bob@localhost", "pw-bob")
	e.bob = e.srv.Dial(t, "bob@localhost", "pw-bob", xmpptest.DialOptions{})
	e.bob.Send(t, "<presence/>")
	e.pages = conversePages(t)
	return e
}

// conversePages serves converse.html and converse.js's dist/ from an
// origin of their own, as a web client's usually are.
func conversePages(t *testing.T) *httptest.Server {
	mux := http.NewServeMux()
	mux.Handle("/dist/", http.StripPrefix("/dist/", http.FileServer(http.Dir(filepath.Join(webDir, "node_modules", "converse.js", "dist")))))
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, filepath.Join(webDir, "converse.html"))
	})
	pages := httptest.NewServer(mux)
	t.Cleanup(pages.Close)
	return pages
}

// startBrowser runs script (in webDir) with node, Chromium at chromium
// and env added, for at most two minutes; it returns what the script
// prints and a channel that gets its exit. Its output and the browser's
// console are logged when the test fails.
func startBrowser(t *testing.T, node, chromium string, env []string, script string, args ...string) (*xmpptest.SyncBuffer, chan error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	t.Cleanup(cancel)
	out, errs := &xmpptest.SyncBuffer{}, &xmpptest.SyncBuffer{}
	cmd := exec.CommandContext(ctx, node, append([]string{script}, args...)...)
	cmd.Dir = webDir
	cmd.Env = append(append(os.Environ(), "CHROMIUM="+chromium), env...)
	cmd.Stdout, cmd.Stderr = out, errs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		if t.Failed() || os.Getenv("PARLEY_TEST_LOG") != "" {
			t.Logf("%s output:\n%s\nbrowser console:\n%s", script, out, errs)
		}
	})
	return out, done
}

// expectOrExit waits for a stanza matching match on c, failing as soon as
// the client process ends first.
func expectOrExit(t *testing.T, c *xmpptest.Client, done chan error, what string, match func(xmpptest.Stanza) bool) xmpptest.Stanza {
	t.Helper()
	deadline := time.After(60 * time.Second)
	for {
		select {
		case st := <-c.In:
			if match(st) {
				return st
			}
		case err := <-done:
			done <- err
			t.Fatalf("the client ended (%v) before %s", err, what)
		case <-deadline:
			t.Fatalf("no %s within a minute", what)
		}
	}
}
