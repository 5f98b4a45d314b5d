package server

import (
	"time"

	"github.com/parleyim/parley/internal/features/blocking"
	"github.com/parleyim/parley/internal/features/lastactivity"
	"github.com/parleyim/parley/internal/features/offline"
	"github.com/parleyim/parley/internal/features/presence"
	"github.com/parleyim/parley/internal/features/private"
	"github.com/parleyim/parley/internal/features/roster"
	"github.com/parleyim/parley/internal/features/vcard"
	"github.com/parleyim/parley/internal/module"
)

// imModules wires the per-user instant-messaging features: last activity
// (XEP-0012), blocking (XEP-0191), vCards (XEP-0054), private XML
// (XEP-0049) and, when enabled, offline messages (XEP-0160). Presence
// rights come from the roster.
func (s *Server) imModules(rosters *roster.Module, pres *presence.Module) []module.Registrar {
	blk := blocking.New(blocking.Config{DB: s.db, Host: s.router, Log: s.log, Presence: pres})
	vc, priv := vcard.New(vcard.Config{DB: s.db}), private.New(private.Config{DB: s.db})
	mods := []module.Registrar{
		&lastactivity.Module{
			Started: time.Now(), DB: s.db, Host: s.router, Log: s.log,
			Authorized: rosters.Subscribed, Presence: pres,
		},
		blk,
		vc, priv,
	}
	if arch := s.mamModule(rosters); arch != nil {
		mods = append(mods, arch)
	}
	mods = append(mods, s.pubsubModules(rosters, pres, priv, vc)...)
	if s.cfg.Offline.Enabled {
		mods = append(mods, offline.New(offline.Config{
			DB: s.db, Host: s.router, Log: s.log, Blocked: blk.Blocks, Synced: s.archiveSynced(),
			MaxPerUser: s.cfg.Offline.MaxMessagesPerUser, MaxBurstBytes: s.cfg.Limits.MaxOutboundBytes / 2,
		}))
	}
	return mods
}
