package admin_test

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/xmpptest"
)

const browserDir = "testdata/browser"

// TestBrowserConsole drives the console in headless Chromium (Debian
// chromium, npm playwright-core from testdata/browser, installed by
// .ci/run): log in by keyboard at a phone's width, create a user, see its
// session appear when a real XMPP client (mellium) logs in as it, kick it,
// create a room, reset the password, see forms without the CSRF token,
// without a login and from another origin refused, and save screenshots of the
// dashboard in the test's artifacts (PARLEY_ARTIFACTS, or a temporary
// directory). The Go side checks each effect for itself.
func TestBrowserConsole(t *testing.T) {
	chromium := xmpptest.RequireCommand(t, "chromium", "chromium")
	xmpptest.RequireCommand(t, "node", "nodejs")
	if _, err := os.Stat(filepath.Join(browserDir, "node_modules", "playwright-core")); err != nil {
		xmpptest.Missing(t, "npm playwright-core (npm ci --prefix internal/admin/"+browserDir+")", err)
	}
	artifacts := os.Getenv("PARLEY_ARTIFACTS")
	if artifacts == "" {
		artifacts = t.TempDir()
	} else if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	e := start(t, func(c *config.Config) { c.Admin.SampleInterval = config.Duration(time.Second) })
	// Every step of the script has its own 15 s limit; this one only
	// bounds a script that hangs outside them (its stderr says where).
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", filepath.Join(browserDir, "console.mjs"), e.base, adminJID, adminPW, artifacts)
	cmd.Env = append(os.Environ(), "CHROMIUM="+chromium)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if step, ok := strings.CutPrefix(sc.Text(), "STEP "); ok {
				t.Logf("browser: %s", step) // where the script was, should it hang
				continue
			}
			lines <- sc.Text()
		}
		close(lines)
	}()
	expect := func(prefix string) string {
		t.Helper()
		for l := range lines {
			if strings.HasPrefix(l, prefix) {
				return strings.TrimSpace(strings.TrimPrefix(l, prefix))
			}
		}
		cmd.Wait()
		t.Fatalf("browser script ended before %q: %s", prefix, stderr.String())
		return ""
	}
	user := expect("CREATED ")
	c := e.srv.Dial(t, user, "first password", xmpptest.DialOptions{})
	c.Send(t, `<presence/>`)
	io.WriteString(stdin, "CONNECTED "+c.JID.String()+"\n")
	// Some traffic for the dashboard while the browser waits for its chart.
	for i := 0; ; i++ {
		select {
		case l, ok := <-lines:
			if !ok {
				cmd.Wait()
				t.Fatalf("browser script ended before CHARTED: %s", stderr.String())
			}
			if l != "CHARTED" {
				continue
			}
		default:
			c.Send(t, `<message to="`+c.JID.String()+`" type="chat"><body>hello `+strconv.Itoa(i)+`</body></message>`)
			c.Expect(t, 5*time.Second, "own message", func(s xmpptest.Stanza) bool { return s.XMLName.Local == "message" })
			continue
		}
		break
	}
	io.WriteString(stdin, "GO\n")
	expect("KICKED")
	c.Done(t, 10*time.Second)
	expect("DONE")
	if err := cmd.Wait(); err != nil {
		t.Fatalf("browser script: %v\n%s", err, stderr.String())
	}
	// The password reset and the room took effect.
	if _, err := e.srv.DialErr(t, user, "first password", xmpptest.DialOptions{}); err == nil {
		t.Error("the old password still works")
	}
	e.srv.Dial(t, user, "second password", xmpptest.DialOptions{})
	b := e.loggedIn(t)
	b.get("/rooms").want(t, "rooms", 200, "browserroom@conference.localhost", "Browser room")
	for _, f := range []string{"dashboard.png", "dashboard-phone.png"} {
		if st, err := os.Stat(filepath.Join(artifacts, f)); err != nil || st.Size() < 1000 {
			t.Errorf("screenshot %s: %v", f, err)
		}
	}
	t.Logf("screenshots in %s", artifacts)
}
