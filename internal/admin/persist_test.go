package admin_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/xmpptest"
)

// TestLoginSurvivesRestart: a console login is kept in the database, so
// the cookie still works after the server restarts on the same data
// directory; a logged-out login stays refused across the restart.
func TestLoginSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	onDir := func(c *config.Config) { c.DataDir = dir }
	e := start(t, onDir)
	b := e.loggedIn(t)
	gone := e.loggedIn(t)
	gone.post("/logout", nil).want(t, "logout", http.StatusSeeOther)
	gone.get("/users").want(t, "after logout", http.StatusSeeOther)
	csrf := b.csrf

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	srv := xmpptest.Start(t, func(c *config.Config) {
		c.Admin.Users = []string{adminJID}
		c.DataDir = dir
	})
	e2 := &env{srv: srv, base: "http://" + srv.Addr("admin")}
	b.e, gone.e = e2, e2
	b.get("/users").want(t, "login after restart", http.StatusOK, adminJID)
	if b.csrf != csrf {
		t.Errorf("CSRF token changed across the restart")
	}
	b.post("/users", url.Values{"jid": {"after@localhost"}, "password": {"pw"}}).want(t, "form after restart", http.StatusSeeOther)
	gone.get("/users").want(t, "logged-out cookie after restart", http.StatusSeeOther)
	// A cookie that was never issued, and a login's cookie with its
	// CSRF token from another login, are refused.
	stranger := e2.browser(t, "127.0.0.1")
	u, _ := url.Parse(e2.base)
	stranger.c.Jar.SetCookies(u, []*http.Cookie{{Name: "parley_admin", Value: "made-up"}})
	stranger.get("/users").want(t, "made-up cookie", http.StatusSeeOther)
	other := e2.loggedIn(t)
	other.post("/users", url.Values{"jid": {"x@localhost"}, "password": {"pw"}, "csrf": {csrf + "x"}}).want(t, "wrong CSRF", http.StatusForbidden)
}
