package server

import (
	"github.com/parleyim/parley/internal/features/adhoc"
	"github.com/parleyim/parley/internal/module"
)

// adhocModules wires XEP-0050 ad-hoc commands with the XEP-0133
// administration commands for the configured admins.
func (s *Server) adhocModules() []module.Registrar {
	if !s.cfg.AdHoc.Enabled {
		return nil
	}
	return []module.Registrar{adhoc.New(adhoc.Config{
		Host: s.router, DB: s.db, Log: s.log, Accounts: s.accounts, Online: s.router.All,
		Admins: s.cfg.Admins, SessionTimeout: s.cfg.AdHoc.SessionTimeout.D(),
	})}
}
