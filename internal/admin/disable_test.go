package admin_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/xmpptest"
)

// TestDisableUserConsole: the user page's Disable button (with its CSRF
// token) ends the account's sessions, refuses its next login and is
// audited; Enable lets it log in again. Without the token it is refused.
func TestDisableUserConsole(t *testing.T) {
	e := start(t)
	e.srv.AddUser(t, "dora@localhost", "pw")
	b := e.loggedIn(t)
	c := e.srv.Dial(t, "dora@localhost", "pw", xmpptest.DialOptions{})
	b.get("/user?jid=dora@localhost").want(t, "user page", http.StatusOK, `action="/user/disable"`, "Disable dora@localhost")
	b.post("/user/disable", url.Values{"jid": {"dora@localhost"}, "csrf": {""}}).want(t, "disable without CSRF", http.StatusForbidden)
	b.post("/user/disable", url.Values{"jid": {"dora@localhost"}}).want(t, "disable", http.StatusSeeOther)
	c.Done(t, 10*time.Second)
	if _, err := e.srv.DialErr(t, "dora@localhost", "pw", xmpptest.DialOptions{}); err == nil {
		t.Fatal("a disabled account logged in")
	}
	b.get("/user?jid=dora@localhost").want(t, "disabled user page", http.StatusOK, "This account is disabled", `action="/user/enable"`)
	b.post("/user/disable", url.Values{"jid": {"ghost@localhost"}}).want(t, "disable unknown", http.StatusNotFound, "no such account")
	b.post("/user/enable", url.Values{"jid": {"dora@localhost"}}).want(t, "enable", http.StatusSeeOther)
	e.srv.Dial(t, "dora@localhost", "pw", xmpptest.DialOptions{})
	b.get("/audit").want(t, "audit", http.StatusOK, "user.disable", "user.enable", "1 sessions ended")
}

// TestDisableUserAPI: POST /api/v1/users/{jid}/disable and /enable, and
// the "disabled" flag of GET /api/v1/users/{jid}; a disabled console user
// is logged out of the console too.
func TestDisableUserAPI(t *testing.T) {
	e := start(t)
	_, tok := e.token(t, "disable")
	b := e.loggedIn(t)
	c := e.srv.Dial(t, adminJID, adminPW, xmpptest.DialOptions{})
	e.api(t, tok, "GET", "/api/v1/users/"+adminJID, nil).want(t, "get", 200, `"disabled":false`, `"sessions":1`)
	e.api(t, tok, "POST", "/api/v1/users/"+adminJID+"/disable", nil).want(t, "disable", 200, `"disabled":true`, `"jid":"admin@localhost"`)
	c.Done(t, 10*time.Second)
	b.get("/users").want(t, "console login of a disabled admin", http.StatusSeeOther)
	e.browser(t, "127.0.0.1").login(adminJID, adminPW).want(t, "console login while disabled", http.StatusForbidden, "This account is disabled")
	e.api(t, tok, "GET", "/api/v1/users/"+adminJID, nil).want(t, "get disabled", 200, `"disabled":true`, `"sessions":0`)
	e.api(t, tok, "POST", "/api/v1/users/nobody@localhost/disable", nil).want(t, "disable unknown", 404, "no such account")
	e.api(t, tok, "POST", "/api/v1/users/x@elsewhere.example/enable", nil).want(t, "enable foreign", 400, "not a domain")
	e.api(t, tok, "POST", "/api/v1/users/"+adminJID+"/enable", nil).want(t, "enable", 200, `"disabled":false`)
	e.srv.Dial(t, adminJID, adminPW, xmpptest.DialOptions{})
	e.loggedIn(t).get("/audit").want(t, "audit", http.StatusOK, "user.disable", "user.enable", "token:")
}
