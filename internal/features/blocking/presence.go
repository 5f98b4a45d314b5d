package blocking

import (
	"context"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/stanza"
)

// sessionBound warms the cache, so that the Filter hook does not wait
// for the database on the first delivery.
func (m *Module) sessionBound(ctx context.Context, ev *module.Event) (bool, error) {
	_, err := m.list(ctx, ev.Session.Bare())
	return false, err
}

// sessionClosed forgets the session and drops the user's list from the
// cache once no resource is left.
func (m *Module) sessionClosed(ctx context.Context, ev *module.Event) (bool, error) {
	if ev.Conn != nil {
		m.sessMu.Lock()
		delete(m.requested, ev.Conn)
		m.sessMu.Unlock()
	}
	user := ev.Session.Bare()
	mu := m.lock(user)
	mu.Lock()
	if len(m.cfg.Host.Sessions(user)) == 0 {
		m.cacheMu.Lock()
		delete(m.lists, user)
		m.cacheMu.Unlock()
	}
	mu.Unlock()
	return false, nil
}

// markRequested records that the session bound at full asked for the
// list.
func (m *Module) markRequested(full jid.JID) {
	s := m.cfg.Host.Session(full)
	if s == nil {
		return
	}
	m.sessMu.Lock()
	m.requested[s] = true
	m.sessMu.Unlock()
}

func (m *Module) hasRequested(c module.Conn) bool {
	m.sessMu.Lock()
	defer m.sessMu.Unlock()
	return m.requested[c]
}

// recipients returns who receives user's presence, as the presence module
// knows it.
func (m *Module) recipients(ctx context.Context, user jid.JID) []jid.JID {
	if m.cfg.Presence == nil {
		return nil
	}
	rs, err := m.cfg.Presence.Recipients(ctx, user)
	if err != nil {
		m.log.Warn("presence recipients unknown; no presence sent on block change", "jid", user, "err", err)
	}
	return rs
}

// available returns user's resources that sent available presence.
func (m *Module) available(user jid.JID) []module.Session {
	var out []module.Session
	for _, s := range m.cfg.Host.Sessions(user) {
		if avail, _ := s.Presence(); avail {
			out = append(out, s)
		}
	}
	return out
}

// presenceOnBlock sends unavailable presence from each available resource
// of user to every presence recipient the block newly covers (§3.3),
// straight to the recipient's sessions: the Filter already blocks them.
func (m *Module) presenceOnBlock(ctx context.Context, user jid.JID, old, next *list) {
	res := m.available(user)
	if len(res) == 0 {
		return
	}
	for _, r := range m.recipients(ctx, user) {
		if !next.matches(r) || old.matches(r) {
			continue
		}
		for _, s := range res {
			p := stanza.New(stanza.NSClient, stanza.KindPresence).
				SetAttr("type", "unavailable").SetAttr("from", s.JID().String()).SetAttr("to", r.String())
			m.deliverUnfiltered(ctx, s.JID(), r, p)
		}
	}
}

// presenceOnUnblock sends the current presence of each available resource
// of user to every presence recipient no longer blocked (§3.4).
func (m *Module) presenceOnUnblock(ctx context.Context, user jid.JID, old, next *list) {
	res := m.available(user)
	if len(res) == 0 {
		return
	}
	for _, r := range m.recipients(ctx, user) {
		if !old.matches(r) || next.matches(r) {
			continue
		}
		for _, s := range res {
			var p *stanza.Element
			if m.cfg.Presence != nil {
				p = m.cfg.Presence.Current(s.JID())
			}
			if p == nil {
				p = stanza.New(stanza.NSClient, stanza.KindPresence)
			}
			p.SetAttr("from", s.JID().String()).SetAttr("to", r.String())
			m.cfg.Host.Deliver(ctx, r, p)
		}
	}
}

// deliverUnfiltered delivers p from a user's resource to r without the
// Filter hooks (unless r itself blocked the user).
func (m *Module) deliverUnfiltered(ctx context.Context, from, r jid.JID, p *stanza.Element) {
	rt := m.cfg.Host
	if !rt.IsLocal(r.Domain()) {
		rt.Deliver(ctx, r, p) // remote: the Filter does not run there anyway
		return
	}
	if in, err := m.recipientBlocks(ctx, from, r); err != nil || in {
		return
	}
	targets := rt.Sessions(r.Bare())
	if !r.IsBare() {
		targets = nil
		if s := rt.Session(r); s != nil {
			targets = append(targets, s)
		}
	}
	for _, s := range targets {
		if err := s.Deliver(p); err != nil {
			m.log.Debug("unavailable presence to closing session dropped", "jid", s.JID(), "err", err)
		}
	}
}
