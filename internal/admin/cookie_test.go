package admin

import (
	"crypto/tls"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestCookieSecureUnderTLS: the login cookie is Secure when the request
// came over TLS (a TLS listener in front of the console), never readable
// by scripts, and never sent cross-site.
func TestCookieSecureUnderTLS(t *testing.T) {
	for _, overTLS := range []bool{false, true} {
		r := httptest.NewRequest("POST", "/login", nil)
		if overTLS {
			r.TLS = &tls.ConnectionState{}
		}
		w := httptest.NewRecorder()
		(&Console{}).setCookie(w, r, "v", 0)
		ck := w.Header().Get("Set-Cookie")
		if strings.Contains(ck, "Secure") != overTLS || !strings.Contains(ck, "HttpOnly") || !strings.Contains(ck, "SameSite=Strict") {
			t.Errorf("TLS %v: cookie %q", overTLS, ck)
		}
	}
}

// TestSafeNext: the post-login redirect stays on this site.
func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"/users?q=a": "/users?q=a", "": "/", "//evil.example/": "/", "/\\evil.example": "/",
		"https://evil.example/": "/", "users": "/",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}
