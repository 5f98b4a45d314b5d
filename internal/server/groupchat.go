package server

import (
	"slices"

	"github.com/parleyim/parley/internal/features/muc"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/storage"
)

// groupchatModules wires the group chat service (XEP-0045) when enabled.
// The server's admins may always create rooms.
func (s *Server) groupchatModules() []module.Registrar {
	m := s.cfg.MUC
	if !m.Enabled {
		return nil
	}
	var archive *storage.Archive
	if m.Archive {
		archive = s.db.Archive()
	}
	s.adm.muc = muc.New(muc.Config{
		Host: s.router, DB: s.db, Log: s.log, Domains: s.cfg.Domains, Subdomain: m.Subdomain,
		HistorySize: m.HistorySize, MaxOccupants: m.MaxOccupants, Create: m.Create,
		Admins:          slices.Concat(m.Admins, s.cfg.Admins),
		MaxRoomsPerUser: m.MaxRoomsPerUser, MessageRate: m.MessageRate, MessageBurst: m.MessageBurst,
		HistoryBytes: m.HistoryBytes, HistoryTotalBytes: m.HistoryTotalBytes, Archive: archive,
	})
	return []module.Registrar{s.adm.muc} // s.adm: the admin console's rooms (admin.go)
}
