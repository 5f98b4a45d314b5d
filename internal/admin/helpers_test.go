package admin_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/xmpptest"
)

const (
	adminJID = "admin@localhost"
	adminPW  = "s3cret admin pw"
)

// env is a running server with a console user, and its admin base URL.
type env struct {
	srv  *xmpptest.Server
	base string
}

func start(t *testing.T, opts ...xmpptest.Option) *env {
	t.Helper()
	opts = append([]xmpptest.Option{func(c *config.Config) {
		c.Admin.Users = []string{adminJID}
		c.Admin.LoginFailures = 3
	}}, opts...)
	srv := xmpptest.Start(t, opts...)
	srv.AddUser(t, adminJID, adminPW)
	return &env{srv: srv, base: "http://" + srv.Addr("admin")}
}

// browser is an HTTP client with cookies that does not follow redirects,
// from the loopback address local (e.g. "127.0.0.1").
type browser struct {
	t    *testing.T
	e    *env
	c    *http.Client
	csrf string
}

func (e *env) browser(t *testing.T, local string) *browser {
	jar, _ := cookiejar.New(nil)
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}, Timeout: 5 * time.Second}
	tr := &http.Transport{DialContext: d.DialContext}
	t.Cleanup(tr.CloseIdleConnections)
	return &browser{t: t, e: e, c: &http.Client{
		Jar: jar, Transport: tr, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// resp is a finished response.
type resp struct {
	code int
	h    http.Header
	body string
}

func (b *browser) do(req *http.Request) resp {
	b.t.Helper()
	r, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer r.Body.Close()
	body, _ := io.ReadAll(r.Body)
	if m := csrfRE.FindStringSubmatch(string(body)); m != nil {
		b.csrf = m[1]
	}
	return resp{r.StatusCode, r.Header, string(body)}
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (b *browser) get(path string) resp {
	b.t.Helper()
	req, _ := http.NewRequest("GET", b.e.base+path, nil)
	return b.do(req)
}

// post sends a form; the CSRF token last seen is added unless the form
// has a "csrf" entry already (use "" to leave it out).
func (b *browser) post(path string, form url.Values) resp {
	b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf"]; !ok {
		form.Set("csrf", b.csrf)
	} else if form.Get("csrf") == "" {
		form.Del("csrf")
	}
	req, _ := http.NewRequest("POST", b.e.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

func (b *browser) login(user, pw string) resp {
	b.t.Helper()
	b.get("/login")
	return b.post("/login", url.Values{"user": {user}, "password": {pw}, "next": {"/"}})
}

// loggedIn returns a browser logged in as the console user, with a CSRF
// token.
func (e *env) loggedIn(t *testing.T) *browser {
	t.Helper()
	b := e.browser(t, "127.0.0.1")
	if r := b.login(adminJID, adminPW); r.code != http.StatusSeeOther {
		t.Fatalf("login: %d %s", r.code, r.body)
	}
	if r := b.get("/"); r.code != 200 || b.csrf == "" {
		t.Fatalf("dashboard after login: %d", r.code)
	}
	return b
}

// want fails unless r has status code and its body contains each of subs.
func (r resp) want(t *testing.T, what string, code int, subs ...string) {
	t.Helper()
	if r.code != code {
		t.Fatalf("%s: status %d, want %d; body:\n%s", what, r.code, code, r.body)
	}
	for _, s := range subs {
		if !strings.Contains(r.body, s) {
			t.Fatalf("%s: body lacks %q:\n%s", what, s, r.body)
		}
	}
}

// api sends a REST request with token tok ("" for none).
func (e *env) api(t *testing.T, tok, method, path string, body any) resp {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = strings.NewReader(string(b))
	}
	req, _ := http.NewRequest(method, e.base+path, rd)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return resp{r.StatusCode, r.Header, string(b)}
}

// token creates an API token directly in the store.
func (e *env) token(t *testing.T, name string) (id, secret string) {
	t.Helper()
	tok, s, err := e.srv.Console().Store().CreateToken(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return tok.ID, s
}

// poll retries check until it returns "" or the deadline passes.
func poll(t *testing.T, what string, check func() string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		msg := check()
		if msg == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %s", what, msg)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
