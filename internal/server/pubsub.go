package server

import (
	"context"
	"fmt"

	"github.com/parleyim/parley/internal/features/presence"
	"github.com/parleyim/parley/internal/features/private"
	"github.com/parleyim/parley/internal/features/pubsub"
	"github.com/parleyim/parley/internal/features/roster"
	"github.com/parleyim/parley/internal/features/vcard"
	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/module"
)

// pubsubModules wires PEP and the PubSub service (when [pubsub] is
// enabled): presence rights from the roster, XEP-0411 bookmark conversion
// with private XML, the XEP-0153 avatar hash from the vCard (presence sent
// again when the photo changes).
func (s *Server) pubsubModules(rosters *roster.Module, pres *presence.Module, priv *private.Module, vc *vcard.Module) []module.Registrar {
	c := s.cfg.PubSub
	if !c.Enabled {
		return nil
	}
	ps := pubsub.New(pubsub.Config{
		Host: s.router, DB: s.db, Log: s.log, Contacts: rosterContacts{rosters},
		Domains: s.cfg.Domains, Subdomain: c.Subdomain, Create: c.Create, Admins: c.Admins,
		MaxItemBytes: c.MaxItemBytes, MaxNodesPerUser: c.MaxNodesPerUser, MaxItems: c.MaxItems,
		Private: priv, VCards: vc, Republish: pres.Republish,
	})
	priv.SetChangeHook(ps.PrivateChanged)
	return []module.Registrar{ps}
}

// rosterContacts is pubsub.Contacts over the roster module.
type rosterContacts struct{ r roster.Rosters }

func (c rosterContacts) Relation(ctx context.Context, owner, contact jid.JID) (presence, inRoster bool, groups []string, err error) {
	v, err := c.r.View(ctx, owner)
	if err != nil {
		return false, false, nil, fmt.Errorf("roster of %s: %w", owner, err)
	}
	it, ok := v.Lookup(contact.Bare())
	if !ok {
		return false, false, nil, nil
	}
	return it.State.Sub.HasFrom(), true, it.Groups, nil
}

func (c rosterContacts) Watchers(ctx context.Context, owner jid.JID) ([]jid.JID, error) {
	return c.filter(ctx, owner, roster.Sub.HasFrom)
}

func (c rosterContacts) Watched(ctx context.Context, user jid.JID) ([]jid.JID, error) {
	return c.filter(ctx, user, roster.Sub.HasTo)
}

func (c rosterContacts) filter(ctx context.Context, user jid.JID, keep func(roster.Sub) bool) ([]jid.JID, error) {
	v, err := c.r.View(ctx, user)
	if err != nil {
		return nil, fmt.Errorf("roster of %s: %w", user, err)
	}
	var out []jid.JID
	v.Range(func(contact jid.JID, sub roster.Sub) bool {
		if keep(sub) {
			out = append(out, contact)
		}
		return true
	})
	return out, nil
}
