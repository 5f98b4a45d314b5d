package server

import (
	"github.com/parleyim/parley/internal/features/carbons"
	"github.com/parleyim/parley/internal/features/csi"
	"github.com/parleyim/parley/internal/features/disco"
	"github.com/parleyim/parley/internal/features/entitytime"
	"github.com/parleyim/parley/internal/features/ping"
	"github.com/parleyim/parley/internal/features/presence"
	"github.com/parleyim/parley/internal/features/push"
	"github.com/parleyim/parley/internal/features/register"
	"github.com/parleyim/parley/internal/features/roster"
	"github.com/parleyim/parley/internal/features/sharedgroup"
	"github.com/parleyim/parley/internal/features/version"
	"github.com/parleyim/parley/internal/module"
)

// Version is the server version reported by XEP-0092 and `parley version`.
var Version = "dev"

// modules is the explicit list of feature modules, in registration order.
func (s *Server) modules() []module.Registrar {
	mods := []module.Registrar{
		disco.New(),
		ping.Module{},
		&version.Module{Name: "Parley", Version: Version,
			AskClients: s.cfg.Clients.AskVersion, AskTimeout: s.cfg.Clients.AskTimeout.D()},
		&entitytime.Module{},
		carbons.New(carbons.Config{Host: s.router, Log: s.log}),
		push.New(push.Config{DB: s.db, Host: s.router, Log: s.log}),
		csi.New(csi.Config{Log: s.log}),
		register.New(register.Config{
			Accounts: s.accounts, Host: s.router, Limiter: s.limiter, Enabled: s.cfg.AllowRegistration, Log: s.log,
		}),
	}
	s.adm.shared = sharedgroup.NewStore(s.db)
	rosters := roster.New(roster.Deps{
		Log: s.log, DB: s.db, Host: s.router, Limits: s.cfg.Roster, Shared: s.adm.shared,
	})
	s.adm.rosters = rosters
	pres := presence.New(presence.Deps{Log: s.log, DB: s.db, Host: s.router, Roster: rosters})
	mods = append(mods, rosters, pres)
	mods = append(mods, s.imModules(rosters, pres)...)
	mods = append(mods, s.groupchatModules()...)
	mods = append(mods, s.adhocModules()...)
	mods = append(mods, s.uploadModules()...)
	return mods
}
