package presence

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/parleyim/parley/internal/features/roster"
	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/storage"
)

// Deps is what the presence module needs.
type Deps struct {
	Log    *slog.Logger
	DB     *storage.DB
	Host   module.Host
	Roster roster.Rosters
}

// Module tracks and distributes presence.
type Module struct {
	log    *slog.Logger
	host   module.Host
	roster roster.Rosters
	last   *lastStore

	// mu guards sessions (the map; each session has its own lock). Keyed
	// by the session, so that a session replaced at the same full JID
	// (RFC 6120 §7.7.2.2) never clobbers the state of the new one.
	mu       sync.RWMutex
	sessions map[module.Conn]*session
}

// session is the presence state of one bound resource.
type session struct {
	mu        sync.Mutex
	available bool
	pres      *stanza.Element      // latest available presence, 'from' stamped
	directed  map[jid.JID]struct{} // directed presence recipients (§4.6)
	status    string               // <status/> of the last undirected unavailable presence
}

// New returns the presence module; it installs itself as the roster's
// removal hook.
func New(d Deps) *Module {
	m := &Module{
		log:      d.Log.With("component", "presence"),
		host:     d.Host,
		roster:   d.Roster,
		last:     newLastStore(d.DB),
		sessions: map[module.Conn]*session{},
	}
	d.Roster.SetRemovalHook(m.removed)
	d.Roster.SetSharedHook(m.sharedChanged)
	return m
}

// Register declares the hooks.
func (m *Module) Register(reg *module.Registry) {
	reg.Hook(module.InboundPresence, 0, m.inbound)
	reg.Hook(module.Available, 0, m.available)
	reg.Hook(module.SessionClosed, 0, m.sessionClosed)
}

// state returns the presence state of the session c (nil c: none).
func (m *Module) state(c module.Conn, create bool) *session {
	if c == nil {
		return nil
	}
	m.mu.RLock()
	st := m.sessions[c]
	m.mu.RUnlock()
	if st != nil || !create {
		return st
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if st = m.sessions[c]; st == nil {
		st = &session{}
		m.sessions[c] = st
	}
	return st
}

// sessionAt returns the session bound at full, as a map key (nil when
// none is bound).
func (m *Module) sessionAt(full jid.JID) module.Conn {
	if s := m.host.Session(full); s != nil {
		return s
	}
	return nil
}

// Current returns a copy of the latest available presence of the session
// bound at full ('from' stamped), or nil when it is not available.
// Blocking re-sends it to contacts a user unblocks.
func (m *Module) Current(full jid.JID) *stanza.Element {
	if p := m.current(m.sessionAt(full)); p != nil {
		return p.Copy()
	}
	return nil
}

// Republish lets edit change the current available presence of the
// session bound at full (a copy of it); when edit reports a change, the
// changed presence becomes the session's and goes to the contacts and the
// user's own resources, as if the client had sent it. The avatar hash of
// XEP-0153 uses it when the user's vCard photo changes.
func (m *Module) Republish(ctx context.Context, full jid.JID, edit func(*stanza.Element) bool) {
	st := m.state(m.sessionAt(full), false)
	if st == nil {
		return
	}
	st.mu.Lock()
	if !st.available || st.pres == nil {
		st.mu.Unlock()
		return
	}
	p := st.pres.Copy()
	if !edit(p) {
		st.mu.Unlock()
		return
	}
	st.pres = p
	st.mu.Unlock()
	m.toContacts(ctx, m.view(ctx, full.Bare()), p)
	m.toOwn(ctx, full.Bare(), p)
}

// UnavailableStatus returns the status text of the undirected unavailable
// presence session c sent last (none since it was last available: ""). Last
// activity records it at logout (XEP-0012 §4); ask before the presence
// module's SessionClosed hook (priority 0) forgets the session.
func (m *Module) UnavailableStatus(c module.Conn) string {
	st := m.state(c, false)
	if st == nil {
		return ""
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.status
}

// Recipients returns who receives owner's presence (RFC 6121 §4.2.2,
// §4.6): the contacts subscribed to it and the entities owner's resources
// sent directed presence to. Blocking asks it when a block changes.
func (m *Module) Recipients(ctx context.Context, owner jid.JID) ([]jid.JID, error) {
	v, err := m.roster.View(ctx, owner.Bare())
	if err != nil {
		return nil, fmt.Errorf("presence: roster of %s: %w", owner, err)
	}
	var out []jid.JID
	v.Range(func(contact jid.JID, sub roster.Sub) bool {
		if sub.HasFrom() {
			out = append(out, contact)
		}
		return true
	})
	for _, s := range m.host.Sessions(owner.Bare()) {
		if st := m.state(s, false); st != nil {
			st.mu.Lock()
			for to := range st.directed {
				out = append(out, to)
			}
			st.mu.Unlock()
		}
	}
	return out, nil
}

// current returns the latest available presence of session c, or nil.
func (m *Module) current(c module.Conn) *stanza.Element {
	st := m.state(c, false)
	if st == nil {
		return nil
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if !st.available {
		return nil
	}
	return st.pres
}

// inbound is the InboundPresence hook.
func (m *Module) inbound(ctx context.Context, ev *module.Event) (bool, error) {
	typ := ev.Stanza.Attr("type")
	if !m.host.IsLocal(ev.From.Domain()) {
		return m.fromRemote(ctx, ev, typ)
	}
	switch {
	case roster.IsSubscriptionType(typ):
		return true, m.subscription(ctx, ev, typ)
	case typ == "probe":
		return true, m.clientProbe(ctx, ev)
	case typ == stanza.TypeError:
		return false, nil
	case typ != "" && typ != "unavailable":
		return true, stanza.Errorf(stanza.Modify, stanza.BadRequest, "unknown presence type %q", typ)
	case ev.To.IsZero():
		m.broadcast(ctx, ev.From, ev.Stanza, typ)
		return true, nil
	}
	m.directed(ctx, ev.From, ev.To, typ)
	return false, nil
}

// broadcast handles undirected presence (RFC 6121 §4.2, §4.4, §4.5).
func (m *Module) broadcast(ctx context.Context, from jid.JID, el *stanza.Element, typ string) {
	st := m.state(m.sessionAt(from), true)
	if st == nil {
		return // the session is gone already
	}
	st.mu.Lock()
	wasAvailable := st.available
	var directed map[jid.JID]struct{}
	if typ == "" {
		st.available, st.pres, st.status = true, el, ""
	} else {
		st.available, st.pres, st.status = false, nil, el.ChildText(el.Space, "status")
		directed, st.directed = st.directed, nil
	}
	st.mu.Unlock()
	if typ == "unavailable" {
		m.unavailable(ctx, from, el, wasAvailable, directed)
		return
	}
	view := m.view(ctx, from.Bare())
	m.toContacts(ctx, view, el)
	m.toOwn(ctx, from.Bare(), el)
	if !wasAvailable {
		m.probe(ctx, view, from)
		m.ownPresenceTo(ctx, from)
	}
}

// unavailable distributes an unavailable presence of from: to the
// contacts and own resources if it was available, to the directed
// presence recipients in any case, and stores it as the last one.
func (m *Module) unavailable(ctx context.Context, from jid.JID, el *stanza.Element, wasAvailable bool, directed map[jid.JID]struct{}) {
	if wasAvailable {
		view := m.view(ctx, from.Bare())
		m.toContacts(ctx, view, el)
		m.toOwn(ctx, from.Bare(), el)
		if err := m.last.Put(ctx, from.Bare(), el, time.Now()); err != nil {
			m.log.Warn("storing last presence failed", "jid", from, "err", err)
		}
	}
	for to := range directed {
		m.host.Deliver(ctx, to, readdressed(el, to.String()))
	}
}

// view returns user's roster, or an empty one if it cannot be read.
func (m *Module) view(ctx context.Context, user jid.JID) *roster.View {
	v, err := m.roster.View(ctx, user)
	if err != nil {
		m.log.Warn("reading roster failed", "jid", user, "err", err)
		return nil
	}
	return v
}

// toContacts sends el to every contact subscribed to the user.
func (m *Module) toContacts(ctx context.Context, view *roster.View, el *stanza.Element) {
	if view == nil {
		return
	}
	view.Range(func(contact jid.JID, sub roster.Sub) bool {
		if sub.HasFrom() {
			m.send(ctx, contact, el)
		}
		return true
	})
}

// send delivers el to a contact's bare JID: to its available resources
// when it is local, through the router otherwise.
func (m *Module) send(ctx context.Context, to jid.JID, el *stanza.Element) {
	if !m.host.IsLocal(to.Domain()) {
		m.host.Deliver(ctx, to, readdressed(el, to.String()))
		return
	}
	var c *stanza.Element
	for _, s := range m.host.Sessions(to) {
		if avail, _ := s.Presence(); !avail {
			continue
		}
		if c == nil {
			c = readdressed(el, to.String())
		}
		m.host.Deliver(ctx, s.JID(), c)
	}
}

// toOwn sends el to the user's available resources (including the one
// that sent it, RFC 6121 §4.2.2, §4.4.2).
func (m *Module) toOwn(ctx context.Context, user jid.JID, el *stanza.Element) {
	m.send(ctx, user, el)
}

// ownPresenceTo gives a newly available resource the presence of the
// user's other available resources.
func (m *Module) ownPresenceTo(ctx context.Context, full jid.JID) {
	for _, s := range m.host.Sessions(full.Bare()) {
		if s.JID() == full {
			continue
		}
		if p := m.current(s); p != nil {
			m.host.Deliver(ctx, full, readdressed(p, full.String()))
		}
	}
}

// directed tracks directed presence (RFC 6121 §4.6) from an available
// resource to an entity not subscribed to the user, so that the
// unavailable broadcast reaches it too. The router delivers the stanza.
func (m *Module) directed(ctx context.Context, from, to jid.JID, typ string) {
	st := m.state(m.sessionAt(from), false)
	if st == nil {
		return
	}
	st.mu.Lock()
	avail := st.available
	st.mu.Unlock()
	if !avail {
		return
	}
	if v := m.view(ctx, from.Bare()); v != nil {
		if sub, _ := v.Sub(to.Bare()); sub.HasFrom() {
			return
		}
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if typ == "unavailable" {
		delete(st.directed, to)
		return
	}
	if st.directed == nil {
		st.directed = map[jid.JID]struct{}{}
	}
	st.directed[to] = struct{}{}
}

// sessionClosed sends the unavailable presence of a session that ended
// without one (RFC 6121 §4.5.2: gracefully or not).
func (m *Module) sessionClosed(ctx context.Context, ev *module.Event) (bool, error) {
	if ev.Conn == nil {
		return false, nil
	}
	m.mu.Lock()
	st := m.sessions[ev.Conn]
	delete(m.sessions, ev.Conn)
	m.mu.Unlock()
	if st == nil {
		return false, nil
	}
	st.mu.Lock()
	wasAvailable, directed := st.available, st.directed
	st.available, st.directed = false, nil
	st.mu.Unlock()
	if wasAvailable && m.availableAgain(ev) {
		// Replaced (RFC 6120 §7.7.2.2) by a session that is available
		// already: the resource is available, and its contacts have the
		// new presence. Only the old directed presence ends.
		wasAvailable = false
	}
	if wasAvailable || len(directed) > 0 {
		el := newPresence("unavailable", ev.Session.String(), "")
		m.unavailable(ctx, ev.Session, el, wasAvailable, directed)
	}
	return false, nil
}

// availableAgain reports whether the session that closed (ev.Conn) was
// replaced at its full JID by a session that already sent available
// presence.
func (m *Module) availableAgain(ev *module.Event) bool {
	cur := m.sessionAt(ev.Session)
	return cur != nil && cur != ev.Conn && m.current(cur) != nil
}

// available is the Available hook: it delivers the pending subscription
// requests to the resource that just became available (RFC 6121 §3.1.3).
func (m *Module) available(ctx context.Context, ev *module.Event) (bool, error) {
	user := ev.Session.Bare()
	pending, err := m.roster.Pending(ctx, user)
	if err != nil {
		return false, err
	}
	var dec storage.ElementDecoder
	for _, p := range pending {
		var el *stanza.Element
		if els, err := dec.Decode(p.Stanza); err == nil && len(els) == 1 {
			el = els[0]
		} else {
			el = newPresence(roster.TypeSubscribe, "", "")
		}
		el.SetAttr("from", p.From.String())
		el.SetAttr("to", user.String())
		m.host.Deliver(ctx, ev.Session, el)
	}
	return false, nil
}

var _ module.Registrar = (*Module)(nil)
