package server

import (
	"fmt"
	"net/http"

	"github.com/parleyim/parley/internal/c2s"
	"github.com/parleyim/parley/internal/httpd"
)

// listenHTTP makes the public HTTP server (WebSocket, BOSH, host-meta)
// and binds its listeners; Start serves them once everything else is up.
// Shutdown closes the sessions on them with the other client sessions
// (c2s), then stops the server.
func (s *Server) listenHTTP() error {
	s.web = httpd.New(httpd.Deps{
		Config: s.cfg, C2S: s.c2s, BOSH: c2s.NewBOSH(s.c2s, s.cfg.HTTP.BOSH), Certs: s.certs, Log: s.log,
		Upload: s.uploadHandler(),
	})
	if err := s.web.Listen(); err != nil {
		return fmt.Errorf("server: %w", err)
	}
	return nil
}

// HTTPHandler is the public HTTP server's handler, for tests that serve it
// themselves (as if from another address).
func (s *Server) HTTPHandler() http.Handler { return s.web.Handler() }
