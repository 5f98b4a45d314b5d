package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"

	"github.com/parleyim/parley/internal/s2s"
)

// federation is the s2s server and its listeners (s2s.addr, s2s.tls_addr,
// components.addr).
type federation struct {
	srv               *s2s.Server
	ln, tlsLn, compLn net.Listener
}

// newFederation builds the s2s server and, when federation is enabled,
// makes it the router's route to other domains. Component domains are
// registered as services either way.
func (s *Server) newFederation() error {
	srv, err := s2s.New(s2s.Deps{Config: s.cfg, Router: s.router, Certs: s.certs, Log: s.log})
	if err != nil {
		return fmt.Errorf("server: s2s: %w", err)
	}
	s.fed.srv = srv
	if s.cfg.S2S.Enabled {
		s.router.SetRemote(srv)
	}
	return nil
}

// S2S returns the federation server (for tests and the admin surface).
func (s *Server) S2S() *s2s.Server { return s.fed.srv }

// startFederation opens the s2s and component listeners.
func (s *Server) startFederation(ctx context.Context) error {
	f := &s.fed
	var err error
	if s.cfg.S2S.Enabled {
		if f.ln, err = listen(s.cfg.S2S.Addr); err != nil {
			return fmt.Errorf("server: s2s listener: %w", err)
		}
		if f.tlsLn, err = listen(s.cfg.S2S.TLSAddr); err != nil {
			f.close()
			return fmt.Errorf("server: s2s direct TLS listener: %w", err)
		}
	}
	if f.compLn, err = listen(s.cfg.Components.Addr); err != nil {
		f.close()
		return fmt.Errorf("server: component listener: %w", err)
	}
	for _, l := range []struct {
		ln     net.Listener
		direct bool
	}{{f.ln, false}, {f.tlsLn, true}} {
		if l.ln != nil {
			s.goTracked(func() {
				if err := f.srv.Serve(ctx, l.ln, l.direct); err != nil {
					s.log.Error("s2s listener stopped", "addr", l.ln.Addr(), "err", err)
				}
			})
		}
	}
	if f.compLn != nil {
		s.goTracked(func() {
			if err := f.srv.ServeComponents(ctx, f.compLn); err != nil {
				s.log.Error("component listener stopped", "addr", f.compLn.Addr(), "err", err)
			}
		})
	}
	return nil
}

func (f *federation) close() {
	for _, ln := range []net.Listener{f.ln, f.tlsLn, f.compLn} {
		if ln != nil {
			ln.Close()
		}
	}
}

// listener returns the listener named "s2s", "s2s-tls" or "components".
func (f *federation) listener(name string) net.Listener {
	switch name {
	case "s2s":
		return f.ln
	case "s2s-tls":
		return f.tlsLn
	case "components":
		return f.compLn
	}
	return nil
}

func (s *Server) stopFederation(ctx context.Context) {
	s.fed.close()
	s.fed.srv.Shutdown(ctx)
}

// federationAdmin adds the s2s operations to the admin surface:
// GET /s2s/streams lists the streams (JSON), POST /s2s/close?domain=D
// closes those of a remote domain. `parley s2s` talks to them. They
// answer loopback clients only, and only with an API token (as the REST
// API; `parley s2s` makes a short-lived one in the database, or takes
// --token).
func (s *Server) federationAdmin(next http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", next)
	mux.Handle("/s2s/", loopbackOnly(s.adm.console.RequireToken(s2sAdmin(s.fed.srv))))
	return mux
}

// loopbackOnly refuses requests from other addresses with 403.
func loopbackOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
			http.Error(w, "the s2s operations answer loopback clients only", http.StatusForbidden)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func s2sAdmin(srv *s2s.Server) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /s2s/streams", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		list := srv.Streams()
		if list == nil {
			list = []s2s.StreamInfo{}
		}
		json.NewEncoder(w).Encode(list)
	})
	mux.HandleFunc("POST /s2s/close", func(w http.ResponseWriter, r *http.Request) {
		d := r.URL.Query().Get("domain")
		if d == "" {
			http.Error(w, "name the remote domain: /s2s/close?domain=example.net", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]int{"closed": srv.CloseDomain(d)})
	})
	return mux
}
