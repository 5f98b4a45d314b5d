package admin

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/parleyim/parley/internal/metrics"
)

// Health reports whether the server can serve; a non-nil error makes
// /healthz answer 503.
type Health func(ctx context.Context) error

// Handler returns the admin mux. With pprof, Go's runtime profiles are
// served under /debug/pprof/ to loopback clients only (see Pprof).
func Handler(health Health, pprof bool) http.Handler {
	mux := http.NewServeMux()
	if pprof {
		mux.Handle("/debug/pprof/", Pprof())
	}
	mux.Handle("GET /metrics", metrics.Handler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if err := health(r.Context()); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			json.NewEncoder(w).Encode(map[string]string{"status": "unhealthy", "error": err.Error()})
			return
		}
		json.NewEncoder(w).Encode(map[string]string{"status": "ok"})
	})
	return mux
}
