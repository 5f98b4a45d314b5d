package server_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/xmpptest"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestAdminEndpoints: /healthz answers ok and /metrics carries the
// counters the operations docs promise, moved by real traffic.
func TestAdminEndpoints(t *testing.T) {
	srv := xmpptest.Start(t)
	srv.AddUser(t, "alice@localhost", "pw")
	srv.AddUser(t, "bob@localhost", "pw")
	alice := srv.Dial(t, "alice@localhost", "pw", xmpptest.DialOptions{})
	bob := srv.Dial(t, "bob@localhost", "pw", xmpptest.DialOptions{})
	alice.Send(t, `<message to='`+bob.JID.String()+`' type='chat'><body>count me</body></message>`)
	bob.Expect(t, 5e9, "message", func(s xmpptest.Stanza) bool { return strings.Contains(s.Inner, "count me") })
	if _, err := srv.DialErr(t, "alice@localhost", "wrong", xmpptest.DialOptions{}); err == nil {
		t.Fatal("wrong password accepted")
	}

	base := "http://" + srv.Addr("admin")
	if code, body := get(t, base+"/healthz"); code != 200 || !strings.Contains(body, `"ok"`) {
		t.Fatalf("/healthz = %d %s", code, body)
	}
	code, body := get(t, base+"/metrics")
	if code != 200 {
		t.Fatalf("/metrics = %d", code)
	}
	for _, want := range []string{
		"parley_c2s_connections", "parley_c2s_sessions",
		`parley_stanzas_total{direction="in",kind="message"}`,
		`parley_stanzas_total{direction="out",kind="any"}`,
		`parley_auth_total{mechanism="SCRAM-SHA-256",result="failure"}`,
		`parley_auth_total{mechanism="SCRAM-SHA-256",result="success"}`,
		`parley_stanza_handling_seconds_bucket{kind="message"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// TestAdminPprof: /debug/pprof/ exists only with admin.pprof = true.
func TestAdminPprof(t *testing.T) {
	for _, tc := range []struct {
		name  string
		pprof bool
		want  int
	}{
		{"off by default", false, http.StatusNotFound},
		{"on", true, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := xmpptest.Start(t, func(c *config.Config) { c.Admin.Pprof = tc.pprof })
			if code, _ := get(t, "http://"+srv.Addr("admin")+"/debug/pprof/goroutine?debug=1"); code != tc.want {
				t.Fatalf("/debug/pprof/goroutine = %d, want %d", code, tc.want)
			}
		})
	}
}
