package admin

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestPprofLoopbackOnly: profiles are answered to loopback clients only,
// and not at all unless enabled.
func TestPprofLoopbackOnly(t *testing.T) {
	healthy := func(context.Context) error { return nil }
	for _, tc := range []struct {
		name   string
		pprof  bool
		remote string
		want   int
	}{
		{"ipv4 loopback", true, "127.0.0.1:4000", http.StatusOK},
		{"ipv6 loopback", true, "[::1]:4000", http.StatusOK},
		{"other loopback address", true, "127.0.0.8:4000", http.StatusOK},
		{"remote", true, "192.0.2.7:4000", http.StatusForbidden},
		{"unparsable remote", true, "somewhere", http.StatusForbidden},
		{"disabled", false, "127.0.0.1:4000", http.StatusNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/debug/pprof/heap?debug=1", nil)
			r.RemoteAddr = tc.remote
			w := httptest.NewRecorder()
			Handler(healthy, tc.pprof).ServeHTTP(w, r)
			if w.Code != tc.want {
				t.Fatalf("status %d, want %d", w.Code, tc.want)
			}
		})
	}
}
