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
	node := requireWeb(t, "converse.js")
	requireWeb(t, "playwright-core")
	chromium := xmpptest.RequireCommand(t, "chromium", "chromium")
	srv := xmpptest.Start(t)
	srv.AddUser(t, "alice@localhost", "pw-alice")
	srv.AddUser(t, "bob@localhost", "pw-bob")
	bob := srv.Dial(t, "bob@localhost", "pw-bob", xmpptest.DialOptions{})
	bob.Send(t, "<presence/>")

	pages := conversePages(t)

	for _, tc := range []struct{ name, param, service string }{
		{"websocket", "ws", localURL(srv, "ws", "http", "/xmpp-websocket")},
		{"bosh", "bosh", localURL(srv, "http", "http", "/http-bind")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			token := "tok-" + tc.name
			q := url.Values{"jid": {"alice@localhost/" + tc.name}, "password": {"pw-alice"}, tc.param: {tc.service}}
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			out, errs := &syncBuffer{}, &syncBuffer{}
			cmd := exec.CommandContext(ctx, node, "converse.mjs", pages.URL+"/?"+q.Encode(), "bob@localhost", token)
			cmd.Dir = webDir
			cmd.Env = append(os.Environ(), "CHROMIUM="+chromium)
			cmd.Stdout, cmd.Stderr = out, errs
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			t.Cleanup(func() {
				if t.Failed() || os.Getenv("PARLEY_TEST_LOG") != "" {
					t.Logf("converse.mjs output:\n%s\nbrowser console:\n%s", out, errs)
				}
			})
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
