package server

import (
	"github.com/parleyim/parley/internal/features/adhoc"
	"github.com/parleyim/parley/internal/features/pushapp"
	"github.com/parleyim/parley/internal/module"
)

// pushAppModules wires the built-in XEP-0357 app server when enabled; its
// registration commands go to cmds (the ad-hoc module, which validation
// requires with it). A key that cannot be read is kept in s.pushErr and
// fails New.
func (s *Server) pushAppModules(cmds adhoc.Commands) []module.Registrar {
	if !s.cfg.Push.AppServer.Enabled {
		return nil
	}
	m, err := pushapp.New(pushapp.Config{
		App: s.cfg.Push.AppServer, Domains: s.cfg.Domains, DB: s.db, Host: s.router, Commands: cmds, Log: s.log,
	})
	if err != nil {
		s.pushErr = err
		return nil
	}
	s.pushApp = m
	return []module.Registrar{m}
}

// closePushApp stops the app server's workers (before storage closes).
func (s *Server) closePushApp() {
	if s.pushApp != nil {
		s.pushApp.Close()
	}
}
