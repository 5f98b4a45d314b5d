package server

import (
	"context"

	"github.com/parleyim/parley/internal/features/mam"
	"github.com/parleyim/parley/internal/features/roster"
	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/storage"
)

// mamModule builds the message archive module (XEP-0313) when mam.enabled,
// with the roster for the "roster" preference; nil otherwise.
func (s *Server) mamModule(rosters *roster.Module) *mam.Module {
	if !s.cfg.MAM.Enabled {
		return nil
	}
	s.mam = mam.New(mam.Config{
		DB: s.db, Host: s.router, Log: s.log, MAM: s.cfg.MAM, MaxPageBytes: s.cfg.Limits.MaxOutboundBytes / 4,
		Groupchat: s.groupchatDomain,
		InRoster: func(ctx context.Context, owner, contact jid.JID) (bool, error) {
			v, err := rosters.View(ctx, owner)
			if err != nil {
				return false, err
			}
			_, ok := v.Sub(contact)
			return ok, nil
		},
	})
	return s.mam
}

// archiveSynced is offline storage's Synced: whether a session syncs with
// the archive (nil when there is no archive).
func (s *Server) archiveSynced() func(module.Conn) bool {
	if s.mam == nil {
		return nil
	}
	return s.mam.Synced
}

// startMAM runs the archive's retention job until ctx ends.
func (s *Server) startMAM(ctx context.Context) {
	if s.mam != nil {
		s.goTracked(func() { s.mam.RunRetention(ctx) })
	}
}

// Archive returns the message archive store (for tests and tools).
func (s *Server) Archive() *storage.Archive { return s.db.Archive() }
