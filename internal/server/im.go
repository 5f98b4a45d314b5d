package server

import (
	"context"
	"fmt"
	"time"

	"github.com/parleyim/parley/internal/features/blocking"
	"github.com/parleyim/parley/internal/features/lastactivity"
	"github.com/parleyim/parley/internal/features/offline"
	"github.com/parleyim/parley/internal/features/presence"
	"github.com/parleyim/parley/internal/features/private"
	"github.com/parleyim/parley/internal/features/roster"
	"github.com/parleyim/parley/internal/features/vcard"
	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/module"
)

// imModules wires the per-user instant-messaging features: last activity
// (XEP-0012), blocking (XEP-0191), vCards (XEP-0054), private XML
// (XEP-0049) and, when enabled, offline messages (XEP-0160). Presence
// rights come from the roster.
func (s *Server) imModules(rosters *roster.Module, pres *presence.Module) []module.Registrar {
	blk := blocking.New(blocking.Config{
		DB: s.db, Host: s.router, Log: s.log,
		PresenceRecipients: func(ctx context.Context, owner jid.JID) ([]jid.JID, error) {
			return presenceSubscribers(ctx, rosters, owner)
		},
		CurrentPresence: pres.Current,
	})
	mods := []module.Registrar{
		&lastactivity.Module{
			Started: time.Now(), DB: s.db, Host: s.router, Log: s.log,
			Authorized: rosters.Subscribed,
		},
		blk,
		vcard.New(vcard.Config{DB: s.db}),
		private.New(private.Config{DB: s.db}),
	}
	if s.cfg.Offline.Enabled {
		mods = append(mods, offline.New(offline.Config{
			DB: s.db, Host: s.router, Log: s.log, Blocked: blk.Blocks,
			MaxPerUser: s.cfg.Offline.MaxMessagesPerUser, MaxBurstBytes: s.cfg.Limits.MaxOutboundBytes / 2,
		}))
	}
	return mods
}

// presenceSubscribers lists the contacts subscribed to owner's presence.
func presenceSubscribers(ctx context.Context, rosters *roster.Module, owner jid.JID) ([]jid.JID, error) {
	v, err := rosters.View(ctx, owner)
	if err != nil {
		return nil, fmt.Errorf("server: roster of %s: %w", owner, err)
	}
	var out []jid.JID
	v.Range(func(contact jid.JID, sub roster.Sub) bool {
		if sub.HasFrom() {
			out = append(out, contact)
		}
		return true
	})
	return out, nil
}
