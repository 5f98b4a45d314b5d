package httpd

import (
	"net/http"
	"net/url"
	"strings"
)

// cors applies http.cors_origins to a public path: a preflight (OPTIONS
// with Access-Control-Request-Method) is answered here; an allowed
// origin's requests get Access-Control-Allow-Origin; a WebSocket
// handshake or preflight from another origin is refused with 403 (a
// WebSocket is not subject to the browser's CORS checks, so the server
// must refuse it itself).
func (s *Server) cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
		if origin != "" {
			w.Header().Add("Vary", "Origin")
			if !s.originAllowed(origin, r) {
				if preflight || isUpgrade(r) {
					http.Error(w, "origin "+origin+" is not allowed (http.cors_origins)", http.StatusForbidden)
					return
				}
				next.ServeHTTP(w, r) // no CORS headers: the browser withholds the answer
				return
			}
			w.Header().Set("Access-Control-Allow-Origin", origin)
		}
		if preflight {
			h := w.Header()
			h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
			if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
				h.Set("Access-Control-Allow-Headers", req)
			}
			h.Set("Access-Control-Max-Age", "86400")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if r.Method == http.MethodOptions {
			w.Header().Set("Allow", "GET, POST, OPTIONS")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// originAllowed: "*" in cors_origins, a listed origin, or the server's own
// (a page served from the same scheme and host).
func (s *Server) originAllowed(origin string, r *http.Request) bool {
	if s.anyOrig || s.origins[strings.ToLower(origin)] {
		return true
	}
	u, err := url.Parse(origin)
	return err == nil && strings.EqualFold(u.Host, r.Host)
}

func isUpgrade(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

// anyOrigin serves public, credential-free documents (host-meta) to pages
// of any origin, whatever http.cors_origins says: a web client must be
// able to discover the endpoints before it knows whether it may use them
// (XEP-0156 §3).
func anyOrigin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		if r.Method == http.MethodOptions {
			w.Header().Set("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}
