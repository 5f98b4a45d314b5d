package admin_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/admin"
)

// TestLoginLogout: a wrong password is refused in words; the right one
// sets an HttpOnly, SameSite=Strict cookie and opens the dashboard;
// logging out needs the CSRF token and ends the login.
func TestLoginLogout(t *testing.T) {
	e := start(t)
	b := e.browser(t, "127.0.0.1")
	b.get("/").want(t, "dashboard before login", http.StatusSeeOther)
	b.login(adminJID, "wrong").want(t, "wrong password", http.StatusUnauthorized, "do not match an administrator account")
	// An existing account that is not in admin.users cannot log in.
	e.srv.AddUser(t, "bob@localhost", "bobpw")
	b.login("bob@localhost", "bobpw").want(t, "not an admin", http.StatusUnauthorized, "do not match")
	r := b.login(adminJID, adminPW)
	r.want(t, "login", http.StatusSeeOther)
	ck := r.h.Get("Set-Cookie")
	for _, attr := range []string{"parley_admin=", "HttpOnly", "SameSite=Strict", "Path=/"} {
		if !strings.Contains(ck, attr) {
			t.Errorf("cookie %q lacks %s", ck, attr)
		}
	}
	if strings.Contains(ck, "Secure") {
		t.Errorf("cookie %q is Secure over plain HTTP: the browser would never send it", ck)
	}
	b.get("/").want(t, "dashboard", http.StatusOK, "<h1>Dashboard</h1>", "Messages per second", "<svg", adminJID)
	b.post("/logout", url.Values{"csrf": {""}}).want(t, "logout without CSRF", http.StatusForbidden, "did not come from this console")
	b.post("/logout", nil).want(t, "logout", http.StatusSeeOther)
	b.get("/").want(t, "dashboard after logout", http.StatusSeeOther)
	b.post("/users", url.Values{"jid": {"x@localhost"}, "password": {"p"}}).want(t, "post after logout", http.StatusForbidden, "not logged in")
}

// TestLoginThrottle: login_failures (3 here) failures from one address
// lock that address out, even with the right password; failures for one
// account lock the account out from any address.
func TestLoginThrottle(t *testing.T) {
	e := start(t)
	a := e.browser(t, "127.0.0.1")
	for _, u := range []string{"x@localhost", "y@localhost", "z@localhost"} {
		a.login(u, "nope").want(t, "failure", http.StatusUnauthorized)
	}
	a.login(adminJID, adminPW).want(t, "right password from a throttled address", http.StatusTooManyRequests, "Too many failed logins")
	// Another address may still log in, until the account itself is throttled.
	b := e.browser(t, "127.0.0.2")
	b.login(adminJID, adminPW).want(t, "other address", http.StatusSeeOther)
	c := e.browser(t, "127.0.0.3")
	for range 3 {
		c.login(adminJID, "nope").want(t, "account failure", http.StatusUnauthorized)
	}
	d := e.browser(t, "127.0.0.4")
	d.login(adminJID, adminPW).want(t, "throttled account from a fresh address", http.StatusTooManyRequests)
}

// TestSessionExpiry: a login unused for admin.session_ttl is gone: pages
// send to the login form, forms are refused; using it renews it.
func TestSessionExpiry(t *testing.T) {
	e := start(t)
	now := time.Now()
	var at time.Time = now
	admin.SetClock(e.srv.Console(), func() time.Time { return at })
	b := e.loggedIn(t)
	ttl := e.srv.Config.Admin.SessionTTL.D()
	at = now.Add(ttl - time.Second)
	b.get("/users").want(t, "before expiry", http.StatusOK)
	at = at.Add(ttl - time.Second) // renewed by the last request
	b.get("/users").want(t, "renewed", http.StatusOK)
	at = at.Add(ttl)
	r := b.get("/users")
	r.want(t, "expired", http.StatusSeeOther)
	if loc := r.h.Get("Location"); !strings.HasPrefix(loc, "/login?next=") {
		t.Errorf("redirect to %q", loc)
	}
	b.post("/users", url.Values{"jid": {"x@localhost"}, "password": {"p"}}).want(t, "post after expiry", http.StatusForbidden)
}

// TestDeletedAdminLoggedOut: deleting a console user's account ends its
// console logins at once.
func TestDeletedAdminLoggedOut(t *testing.T) {
	e := start(t)
	b := e.loggedIn(t)
	other := e.loggedIn(t)
	b.post("/user/delete", url.Values{"jid": {adminJID}}).want(t, "delete own account", http.StatusSeeOther)
	other.get("/users").want(t, "other login after delete", http.StatusSeeOther)
	e.browser(t, "127.0.0.1").login(adminJID, adminPW).want(t, "login after delete", http.StatusUnauthorized)
}
