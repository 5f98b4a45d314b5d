package admin_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/xmpptest"
)

// consolePosts are every form action of the console, with a valid form.
var consolePosts = map[string]url.Values{
	"/logout":                nil,
	"/users":                 {"jid": {"eve@localhost"}, "password": {"pw"}},
	"/user/delete":           {"jid": {"admin@localhost"}},
	"/user/password":         {"jid": {"admin@localhost"}, "password": {"x"}},
	"/user/kick":             {"jid": {"admin@localhost"}},
	"/groups":                {"name": {"g"}},
	"/groups/delete":         {"name": {"g"}},
	"/groups/members":        {"name": {"g"}, "members": {"admin@localhost"}},
	"/groups/members/remove": {"name": {"g"}, "member": {"admin@localhost"}},
	"/sessions/kick":         {"jid": {"admin@localhost/r"}},
	"/rooms":                 {"room": {"r"}},
	"/room/configure":        {"room": {"r"}},
	"/room/destroy":          {"room": {"r"}},
}

// TestPostsNeedLoginAndCSRF: every form action is refused (403, nothing
// done) without a login, without the CSRF token, with a wrong one, and
// from another origin with the right one.
func TestPostsNeedLoginAndCSRF(t *testing.T) {
	e := start(t)
	anon := e.browser(t, "127.0.0.1")
	b := e.loggedIn(t)
	for path, form := range consolePosts {
		f := url.Values{}
		for k, v := range form {
			f[k] = v
		}
		anon.post(path, f).want(t, path+" without login", http.StatusForbidden)
		f.Set("csrf", "")
		b.post(path, f).want(t, path+" without CSRF token", http.StatusForbidden)
		f.Set("csrf", "forged")
		b.post(path, f).want(t, path+" with a wrong token", http.StatusForbidden)
		f.Set("csrf", b.csrf)
		req, _ := http.NewRequest("POST", e.base+path, strings.NewReader(f.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "https://evil.example")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		b.do(req).want(t, path+" from another origin", http.StatusForbidden)
	}
	// Nothing happened: the admin still logs in with the old password.
	e.browser(t, "127.0.0.1").login(adminJID, adminPW).want(t, "login after refused posts", http.StatusSeeOther)
	b.get("/users").want(t, "users", http.StatusOK)
	if r := b.get("/users?q=eve"); strings.Contains(r.body, "eve@localhost") {
		t.Fatal("a refused form created an account")
	}
}

// TestNoCORS: no answer carries Access-Control-* headers, preflights are
// refused, and the listener is on loopback by default.
func TestNoCORS(t *testing.T) {
	e := start(t)
	_, tok := e.token(t, "cors")
	for _, path := range []string{"/", "/login", "/api/v1/users", "/api/v1/openapi.json", "/metrics", "/static/style.css"} {
		for _, m := range []string{"OPTIONS", "GET"} {
			req, _ := http.NewRequest(m, e.base+path, nil)
			req.Header.Set("Origin", "https://evil.example")
			req.Header.Set("Access-Control-Request-Method", "GET")
			req.Header.Set("Authorization", "Bearer "+tok)
			r, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			r.Body.Close()
			for k := range r.Header {
				if strings.HasPrefix(k, "Access-Control-") {
					t.Errorf("%s %s answered %s", m, path, k)
				}
			}
			if m == "OPTIONS" && r.StatusCode != http.StatusMethodNotAllowed {
				t.Errorf("preflight %s: %d", path, r.StatusCode)
			}
		}
	}
	if def := config.Default().Admin.Addr; !strings.HasPrefix(def, "127.0.0.1:") {
		t.Errorf("default admin.addr %q is not loopback", def)
	}
}

// TestPages: every page answers a logged-in administrator and sends
// anyone else to the login form.
func TestPages(t *testing.T) {
	e := start(t)
	b := e.loggedIn(t)
	anon := e.browser(t, "127.0.0.1")
	for path, want := range map[string]string{
		"/":                         "Sessions",
		"/live":                     "<svg",
		"/users":                    adminJID,
		"/users?q=adm":              adminJID,
		"/user?jid=admin@localhost": "Reset the password",
		"/groups":                   "Create a group",
		"/sessions":                 "Online sessions",
		"/rooms":                    "Create a room",
		"/config":                   "admin.session_ttl",
		"/audit":                    "console.login",
	} {
		b.get(path).want(t, path, http.StatusOK, want)
		r := anon.get(path)
		r.want(t, path+" without login", http.StatusSeeOther)
		if !strings.HasPrefix(r.h.Get("Location"), "/login") {
			t.Errorf("%s without login goes to %q", path, r.h.Get("Location"))
		}
	}
	b.get("/user?jid=nobody@localhost").want(t, "unknown user", http.StatusNotFound, "There is no such account")
	b.get("/user?jid=a@elsewhere.example").want(t, "other domain", http.StatusBadRequest, "not a domain this server serves")
	b.get("/room?jid=nope").want(t, "unknown room", http.StatusNotFound, "There is no room")
	b.get("/static/style.css").want(t, "stylesheet", http.StatusOK, ":focus-visible")
	r := b.get("/")
	if csp := r.h.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("CSP %q", csp)
	}
}

// TestUserLifecycle: an account created in the console logs in with a
// real client (mellium) and shows on the sessions page with its address,
// transport and TLS version; kicking ends its stream; a password reset
// takes effect; deleting the account ends its sessions; the audit log has
// it all.
func TestUserLifecycle(t *testing.T) {
	e := start(t)
	b := e.loggedIn(t)
	b.post("/users", url.Values{"jid": {"carol"}, "password": {"first pw"}}).want(t, "create", http.StatusSeeOther)
	b.post("/users", url.Values{"jid": {"carol@localhost"}, "password": {"x"}}).want(t, "create twice", http.StatusConflict, "already exists")
	b.post("/users", url.Values{"jid": {"dave@localhost"}, "password": {""}}).want(t, "empty password", http.StatusBadRequest, "must not be empty")
	b.get("/users?q=carol").want(t, "search", http.StatusOK, "carol@localhost")

	c := e.srv.Dial(t, "carol@localhost", "first pw", xmpptest.DialOptions{})
	full := c.JID.String()
	var page string
	poll(t, "session on the sessions page", func() string {
		page = b.get("/sessions").body
		if !strings.Contains(page, full) {
			return "no " + full
		}
		return ""
	})
	for _, want := range []string{"127.0.0.1", "tcp", "TLS 1.3"} {
		if !strings.Contains(page, want) {
			t.Errorf("sessions page lacks %q", want)
		}
	}
	b.get("/user?jid=carol@localhost").want(t, "user page", http.StatusOK, "TLS 1.3", "Disconnect all sessions")
	b.post("/sessions/kick", url.Values{"jid": {full}}).want(t, "kick", http.StatusSeeOther)
	c.Done(t, 10*time.Second)
	poll(t, "session gone", func() string {
		if strings.Contains(b.get("/sessions").body, full) {
			return "still listed"
		}
		return ""
	})
	b.post("/sessions/kick", url.Values{"jid": {full}}).want(t, "kick again", http.StatusNotFound, "already ended")

	b.post("/user/password", url.Values{"jid": {"carol@localhost"}, "password": {"second pw"}}).want(t, "reset", http.StatusSeeOther)
	if _, err := e.srv.DialErr(t, "carol@localhost", "first pw", xmpptest.DialOptions{}); err == nil {
		t.Fatal("old password still works")
	}
	c2 := e.srv.Dial(t, "carol@localhost", "second pw", xmpptest.DialOptions{})
	b.post("/user/delete", url.Values{"jid": {"carol@localhost"}}).want(t, "delete", http.StatusSeeOther)
	c2.Done(t, 10*time.Second)
	b.get("/user?jid=carol@localhost").want(t, "deleted user", http.StatusNotFound)
	b.get("/audit").want(t, "audit", http.StatusOK, "user.create", "session.kick", "user.password", "user.delete", "carol@localhost")
}
