package blocking

import (
	"context"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/stanza"
)

// sessionBound starts tracking a resource (a new session at a full JID
// replaces whatever an old one left) and warms the cache, so that the
// Filter hook does not wait for the database on the first delivery.
func (m *Module) sessionBound(ctx context.Context, ev *module.Event) (bool, error) {
	m.sessMu.Lock()
	delete(m.sessions, ev.Session) // state is made when first needed
	m.sessMu.Unlock()
	_, err := m.list(ctx, ev.Session.Bare())
	return false, err
}

// sessionClosed forgets the resource (unless a new session took its JID
// over) and drops the user's list from the cache once no resource is left.
func (m *Module) sessionClosed(ctx context.Context, ev *module.Event) (bool, error) {
	if m.cfg.Host.Session(ev.Session) != nil {
		return false, nil // replaced: the state belongs to the new session
	}
	m.sessMu.Lock()
	delete(m.sessions, ev.Session)
	m.sessMu.Unlock()
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

// sessionLocked returns the tracked state of full, creating it; the
// caller holds sessMu.
func (m *Module) sessionLocked(full jid.JID) *session {
	s := m.sessions[full]
	if s == nil {
		s = &session{}
		m.sessions[full] = s
	}
	return s
}

func (m *Module) markRequested(full jid.JID) {
	m.sessMu.Lock()
	m.sessionLocked(full).requested = true
	m.sessMu.Unlock()
}

func (m *Module) requested(full jid.JID) bool {
	m.sessMu.Lock()
	defer m.sessMu.Unlock()
	s := m.sessions[full]
	return s != nil && s.requested
}

// trackPresence records whom a resource sent directed presence to (RFC
// 6121 §4.6); its broadcast presence is the presence module's
// (Config.CurrentPresence).
func (m *Module) trackPresence(from, to jid.JID, el *stanza.Element) {
	typ := el.Attr("type")
	if typ != "" && typ != "unavailable" || to.IsZero() && typ == "" {
		return // subscriptions, probes, errors; broadcast available presence
	}
	m.sessMu.Lock()
	defer m.sessMu.Unlock()
	if to.IsZero() { // broadcast unavailable ends directed presence too
		if s := m.sessions[from]; s != nil {
			s.directed = nil
		}
		return
	}
	s := m.sessionLocked(from)
	if typ == "" {
		if s.directed == nil {
			s.directed = map[jid.JID]struct{}{}
		}
		s.directed[to] = struct{}{}
		return
	}
	delete(s.directed, to)
}

// recipients returns who receives user's presence: the configured
// recipients (roster) and the directed presence of user's resources.
func (m *Module) recipients(ctx context.Context, user jid.JID) []jid.JID {
	var out []jid.JID
	if f := m.cfg.PresenceRecipients; f != nil {
		rs, err := f(ctx, user)
		if err != nil {
			m.log.Warn("presence recipients unknown; no presence sent on block change", "jid", user, "err", err)
		}
		out = append(out, rs...)
	}
	m.sessMu.Lock()
	defer m.sessMu.Unlock()
	for _, s := range m.cfg.Host.Sessions(user) {
		if st := m.sessions[s.JID()]; st != nil {
			for r := range st.directed {
				out = append(out, r)
			}
		}
	}
	return out
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
			if m.cfg.CurrentPresence != nil {
				p = m.cfg.CurrentPresence(s.JID())
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
