package admin_test

import (
	"strings"
	"testing"
)

// TestSessionsShowSM: the sessions page and API show a session's stream
// management state (XEP-0198): off, resumable once enabled with resume,
// hibernated after its connection dropped.
func TestSessionsShowSM(t *testing.T) {
	e := start(t)
	b := e.loggedIn(t)
	_, tok := e.token(t, "sm")
	e.srv.AddUser(t, "sam@localhost", "pw")
	c := e.srv.SMLogin(t, "sam", "localhost", "pw", "phone")
	row := func() string {
		for _, l := range strings.Split(b.get("/sessions").body, "<tr>") {
			if strings.Contains(l, "sam@localhost/phone") {
				return l
			}
		}
		return ""
	}
	poll(t, "sam listed with SM off", func() string {
		if r := row(); !strings.Contains(r, "<td>off</td>") {
			return r
		}
		return ""
	})
	c.Enable(true, 60)
	poll(t, "resumable", func() string {
		if r := row(); !strings.Contains(r, "<td>resumable</td>") {
			return r
		}
		return ""
	})
	c.Kill()
	poll(t, "hibernated", func() string {
		if r := e.api(t, tok, "GET", "/api/v1/sessions", nil); !strings.Contains(r.body, `"sm":"hibernated"`) {
			return r.body
		}
		return ""
	})
}
