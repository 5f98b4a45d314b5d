package server

import (
	"context"

	"github.com/parleyim/parley/internal/c2s"
	"github.com/parleyim/parley/internal/features/adhoc"
	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/module"
)

// adhocModules wires XEP-0050 ad-hoc commands with the XEP-0133
// administration commands for the configured admins.
func (s *Server) adhocModules() []module.Registrar {
	if !s.cfg.AdHoc.Enabled {
		return nil
	}
	cmds := adhoc.New(adhoc.Config{
		Host: s.router, DB: s.db, Log: s.log, Accounts: s.accounts, Online: s.router.All,
		RosterSize: s.rosterSize, Addr: sessionAddr,
		Admins: s.cfg.Admins, SessionTimeout: s.cfg.AdHoc.SessionTimeout.D(),
	})
	return append([]module.Registrar{cmds}, s.pushAppModules(cmds)...)
}

// rosterSize counts the items of user's roster as the user sees it
// (shared groups included), for the user-stats command.
func (s *Server) rosterSize(ctx context.Context, user jid.JID) (int, error) {
	v, err := s.adm.rosters.View(ctx, user)
	if err != nil {
		return 0, err
	}
	return len(v.Items()), nil
}

// sessionAddr is the client's IP address of a c2s session ("" for other
// kinds of session).
func sessionAddr(ms module.Session) string {
	if i, ok := ms.(interface{ Info() c2s.Info }); ok {
		return i.Info().Addr
	}
	return ""
}
