package admin_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/parleyim/parley/internal/admin"
	"github.com/parleyim/parley/internal/xmpptest"
)

// apiCase is one request of the API walk.
type apiCase struct {
	method, path string
	body         any
	want         int
	contains     string
}

// TestAPIAuth: every endpoint refuses a request without a token, with a
// malformed one and with a revoked one (401, JSON error), and answers a
// valid one.
func TestAPIAuth(t *testing.T) {
	e := start(t)
	id, tok := e.token(t, "walk")
	revokedID, revoked := e.token(t, "old")
	if err := e.srv.Console().Store().RevokeToken(context.Background(), revokedID); err != nil {
		t.Fatal(err)
	}
	for _, rt := range admin.APIRoutes(e.srv.Console()) {
		method, path, _ := strings.Cut(rt, " ")
		path = strings.NewReplacer("{jid}", "nobody@localhost", "{name}", "nogroup").Replace(path)
		for _, bad := range []struct{ tok, code string }{{"", "unauthorized"}, {"garbage", "invalid_token"}, {revoked, "invalid_token"}, {tok + "x", "invalid_token"}} {
			r := e.api(t, bad.tok, method, path, map[string]string{})
			r.want(t, rt+" with token "+bad.code, http.StatusUnauthorized)
			var je struct{ Code, Message string }
			if err := json.Unmarshal([]byte(r.body), &je); err != nil || je.Code != bad.code || je.Message == "" {
				t.Errorf("%s: error body %q", rt, r.body)
			}
		}
		if r := e.api(t, tok, method, path, map[string]string{}); r.code == http.StatusUnauthorized || r.code == http.StatusMethodNotAllowed {
			t.Errorf("%s with a valid token: %d %s", rt, r.code, r.body)
		}
	}
	_ = id
}

// TestAPIWalk: every endpoint with a valid token, in a story: accounts,
// a session of a real client (listed, then kicked), shared groups, rooms,
// a broadcast the client receives, stats; errors as JSON with words.
func TestAPIWalk(t *testing.T) {
	e := start(t)
	_, tok := e.token(t, "walk")
	do := func(c apiCase) resp {
		t.Helper()
		r := e.api(t, tok, c.method, c.path, c.body)
		r.want(t, c.method+" "+c.path, c.want, c.contains)
		if r.code >= 400 {
			var je struct{ Code, Message string }
			if err := json.Unmarshal([]byte(r.body), &je); err != nil || je.Code == "" || je.Message == "" {
				t.Fatalf("%s %s: error body %q is not {code, message}", c.method, c.path, r.body)
			}
		}
		return r
	}
	for _, c := range []apiCase{
		{"POST", "/api/v1/users", map[string]string{"jid": "erin@localhost", "password": "pw1"}, 201, "erin@localhost"},
		{"POST", "/api/v1/users", map[string]string{"jid": "frank", "password": "pw"}, 201, "frank@localhost"},
		{"POST", "/api/v1/users", map[string]string{"jid": "erin@localhost", "password": "pw1"}, 409, "already exists"},
		{"POST", "/api/v1/users", map[string]string{"jid": "x@other.example", "password": "pw"}, 400, "not a domain this server serves"},
		{"POST", "/api/v1/users", map[string]string{"jid": "x@localhost", "pass": "pw"}, 400, "not valid"},
		{"GET", "/api/v1/users?q=erin", nil, 200, `"erin@localhost"`},
		{"PUT", "/api/v1/users/erin@localhost/password", map[string]string{"password": "pw2"}, 204, ""},
		{"PUT", "/api/v1/users/nobody@localhost/password", map[string]string{"password": "pw2"}, 404, "no such account"},
	} {
		do(c)
	}
	if r := do(apiCase{"GET", "/api/v1/users?q=erin", nil, 200, ""}); strings.Contains(r.body, "frank") {
		t.Errorf("search for erin found frank: %s", r.body)
	}
	c := e.srv.Dial(t, "erin@localhost", "pw2", xmpptest.DialOptions{})
	c.Send(t, `<presence/>`)
	poll(t, "session listed", func() string {
		if r := e.api(t, tok, "GET", "/api/v1/sessions", nil); !strings.Contains(r.body, c.JID.String()) || !strings.Contains(r.body, `"tls_version":"TLS 1.3"`) {
			return r.body
		}
		return ""
	})
	r := do(apiCase{"POST", "/api/v1/broadcast", map[string]string{"subject": "Maintenance", "body": "Back in 5 minutes"}, 200, `"sessions":1`})
	_ = r
	c.Expect(t, 5*time.Second, "broadcast", func(s xmpptest.Stanza) bool {
		return s.XMLName.Local == "message" && s.Attr("from") == "localhost" && strings.Contains(s.Inner, "Back in 5 minutes")
	})
	do(apiCase{"POST", "/api/v1/broadcast", map[string]string{"body": " "}, 400, "needs a body"})
	stats := do(apiCase{"GET", "/api/v1/stats", nil, 200, `"sessions":1`})
	if !strings.Contains(stats.body, `"sessions_by_transport":{"tcp":1}`) || !strings.Contains(stats.body, `"database":"ok"`) {
		t.Errorf("stats %s", stats.body)
	}
	do(apiCase{"DELETE", "/api/v1/sessions/" + url.PathEscape(c.JID.String()), nil, 200, `"closed":1`})
	c.Done(t, 10*time.Second)
	do(apiCase{"DELETE", "/api/v1/sessions/erin@localhost", nil, 404, "No session"})

	for _, c := range []apiCase{
		{"POST", "/api/v1/groups", map[string]any{"name": "team", "display": "The Team", "members": []string{"erin", "frank@localhost"}}, 201, "team"},
		{"POST", "/api/v1/groups", map[string]any{"name": "team"}, 409, "already exists"},
		{"POST", "/api/v1/groups", map[string]any{"name": "other", "members": []string{"ghost@localhost"}}, 400, "existing account"},
		{"GET", "/api/v1/groups", nil, 200, `"members":["erin@localhost","frank@localhost"]`},
		{"POST", "/api/v1/groups/team/members", map[string]any{"members": []string{"admin@localhost"}}, 204, ""},
		{"POST", "/api/v1/groups/nope/members", map[string]any{"members": []string{"admin@localhost"}}, 404, "no such group"},
		{"DELETE", "/api/v1/groups/team/members/frank@localhost", nil, 204, ""},
		{"DELETE", "/api/v1/groups/team/members/frank@localhost", nil, 404, "not a member"},
		{"GET", "/api/v1/groups", nil, 200, `"members":["admin@localhost","erin@localhost"]`},
		{"PUT", "/api/v1/groups/team", map[string]string{"display": "Crew"}, 204, ""},
		{"PUT", "/api/v1/groups/team", map[string]string{"display": ""}, 400, "1 to 256"},
		{"PUT", "/api/v1/groups/nope", map[string]string{"display": "X"}, 404, "no such group"},
		{"GET", "/api/v1/groups", nil, 200, `"display":"Crew"`},
		{"DELETE", "/api/v1/groups/team", nil, 204, ""},
		{"DELETE", "/api/v1/groups/team", nil, 404, "no such group"},

		{"POST", "/api/v1/rooms", map[string]any{"jid": "lobby", "owner": "erin", "name": "Lobby", "persistent": true, "public": true}, 201, "lobby@conference.localhost"},
		{"POST", "/api/v1/rooms", map[string]any{"jid": "lobby", "owner": "erin"}, 409, "already exists"},
		{"POST", "/api/v1/rooms", map[string]any{"jid": "x@conference.elsewhere", "owner": "erin"}, 400, "not a group chat service"},
		{"PUT", "/api/v1/rooms/lobby@conference.localhost", map[string]any{"name": "Main lobby", "persistent": true, "max_users": 10}, 204, ""},
		{"GET", "/api/v1/rooms", nil, 200, `"name":"Main lobby"`},
		{"PUT", "/api/v1/rooms/none@conference.localhost", map[string]any{"name": "x"}, 404, "no such room"},
		{"DELETE", "/api/v1/rooms/lobby@conference.localhost?reason=closing", nil, 204, ""},
		{"DELETE", "/api/v1/rooms/lobby@conference.localhost", nil, 404, "no such room"},

		{"DELETE", "/api/v1/users/frank@localhost", nil, 204, ""},
		{"DELETE", "/api/v1/users/frank@localhost", nil, 404, "no such account"},
		{"GET", "/api/v1/nothing", nil, 404, "no such API endpoint"},
		{"PATCH", "/api/v1/users", nil, 405, "use GET, POST"},
	} {
		do(c)
	}
	b := e.loggedIn(t)
	b.get("/audit").want(t, "audit", http.StatusOK, "token:", "broadcast", "room.destroy", "group.members.remove")
}

// TestOpenAPI: the document served at /api/v1/openapi.json is the one in
// the repository, is valid OpenAPI 3, documents every route the console
// serves with its method, and every documented route is served.
func TestOpenAPI(t *testing.T) {
	e := start(t)
	r := e.api(t, "", "GET", "/api/v1/openapi.json", nil)
	r.want(t, "openapi.json", http.StatusOK)
	if r.body != string(admin.OpenAPIDocument) {
		t.Fatal("served document differs from internal/admin/openapi.json")
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(admin.OpenAPIDocument)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("not valid OpenAPI 3: %v", err)
	}
	prefix := doc.Servers[0].URL
	var documented []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented = append(documented, method+" "+prefix+path)
		}
	}
	served := admin.APIRoutes(e.srv.Console())
	slices.Sort(documented)
	slices.Sort(served)
	for _, d := range documented {
		if !slices.Contains(served, d) {
			t.Errorf("documented but not served: %s", d)
		}
	}
	for _, s := range served {
		if !slices.Contains(documented, s) {
			t.Errorf("served but not documented: %s", s)
		}
	}
	// And over HTTP: each documented route is routed (the catch-all 404
	// and the mux's 405 say it is not).
	_, tok := e.token(t, "probe")
	param := regexp.MustCompile(`\{[a-z]+\}`)
	for _, d := range documented {
		method, path, _ := strings.Cut(d, " ")
		r := e.api(t, tok, method, param.ReplaceAllString(path, "zz"), map[string]string{})
		if r.code == http.StatusMethodNotAllowed || strings.Contains(r.body, "no such API endpoint") {
			t.Errorf("%s is not routed: %d %s", d, r.code, r.body)
		}
	}
}
