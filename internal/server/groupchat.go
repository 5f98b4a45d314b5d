package server

import (
	"context"
	"slices"
	"strings"

	"github.com/parleyim/parley/internal/features/muc"
	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/stanza"
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
	var archivePrivate func(ctx context.Context, owner, with jid.JID, el *stanza.Element) error
	if s.mam != nil { // private messages go to the recipient's archive
		archivePrivate = s.mam.ArchiveReceived
	}
	s.adm.muc = muc.New(muc.Config{
		Host: s.router, DB: s.db, Log: s.log, Domains: s.cfg.Domains, Subdomain: m.Subdomain,
		HistorySize: m.HistorySize, MaxOccupants: m.MaxOccupants, Create: m.Create,
		Admins:          slices.Concat(m.Admins, s.cfg.Admins),
		MaxRoomsPerUser: m.MaxRoomsPerUser, MessageRate: m.MessageRate, MessageBurst: m.MessageBurst,
		HistoryBytes: m.HistoryBytes, HistoryTotalBytes: m.HistoryTotalBytes, Archive: archive,
		ArchivePrivate: archivePrivate,
	})
	return []module.Registrar{s.adm.muc} // s.adm: the admin console's rooms (admin.go)
}

// groupchatDomain reports whether domain is the group chat service's
// (muc.subdomain under a served domain), for the message archive, which
// marks a user's private messages to occupants there.
func (s *Server) groupchatDomain(domain string) bool {
	sub, parent, ok := strings.Cut(domain, ".")
	return s.cfg.MUC.Enabled && ok && sub == s.cfg.MUC.Subdomain && s.router.IsLocal(parent)
}
