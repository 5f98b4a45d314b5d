package pubsub

import (
	"context"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/stanza"
)

// Bounds of capability discovery, so that a flood of unknown hashes costs
// little: a session has at most maxQueriesPerSession hashes queried in its
// life and one query outstanding; the server at most maxOutstanding.
const (
	maxQueriesPerSession = 8
	maxOutstanding       = 256
	queryTimeout         = 30 * time.Second
)

// sessionCaps is what PEP knows of one session's entity capabilities.
type sessionCaps struct {
	ref      capsRef
	features map[string]bool // nil until the hash is verified
	asked    int             // disco#info queries sent to this session
	tried    string          // the hash last asked of it
	waiting  bool            // a query to it is outstanding
	wantLast bool            // it became available before its caps were known
}

// capsQuery is an outstanding disco#info query.
type capsQuery struct {
	ref  capsRef
	conn module.Conn // the local session asked, or nil
	to   jid.JID     // the full JID asked
}

var queryIDs atomic.Uint64

// pendingQueries holds the outstanding queries by iq id.
type pendingQueries struct {
	byID  map[string]*capsQuery
	byKey map[string]bool
}

func (m *Module) pending() *pendingQueries {
	if m.queries == nil {
		m.queries = &pendingQueries{byID: map[string]*capsQuery{}, byKey: map[string]bool{}}
	}
	return m.queries
}

// state returns (creating) the caps state of c; call with m.mu held.
func (m *Module) state(c module.Conn) *sessionCaps {
	sc := m.sessions[c]
	if sc == nil {
		sc = &sessionCaps{}
		m.sessions[c] = sc
	}
	return sc
}

// inboundPresence follows the entity capabilities in every undirected
// available presence of a local session (and adds the XEP-0153 avatar
// hash). It never handles the stanza: the presence module does.
func (m *Module) inboundPresence(ctx context.Context, ev *module.Event) (bool, error) {
	if !m.host.IsLocal(ev.From.Domain()) {
		m.remotePresence(ctx, ev)
		return false, nil
	}
	if ev.Stanza.Attr("type") == "subscribed" && !ev.To.IsZero() {
		owner, contact := ev.From.Bare(), ev.To.Bare()
		module.AfterReply(ctx, func() { m.approved(ctx, owner, contact) })
		return false, nil
	}
	if !ev.To.IsZero() || ev.Stanza.Attr("type") != "" {
		return false, nil
	}
	if m.avatars != nil {
		m.avatars.stamp(ctx, ev.From.Bare(), ev.Stanza)
	}
	conn := m.host.Session(ev.From)
	if conn == nil {
		return false, nil
	}
	m.observeCaps(ctx, conn, ev.Stanza)
	return false, nil
}

// approved sends a contact that was just allowed to see owner's presence
// the last items of owner's nodes its available resources want (XEP-0163
// §4.3.2: on subscription as on presence).
func (m *Module) approved(ctx context.Context, owner, contact jid.JID) {
	if !m.host.IsLocal(contact.Domain()) {
		m.mu.Lock()
		var fulls []jid.JID
		var feats []map[string]bool
		for full, rc := range m.remote[contact] {
			if rc.features != nil {
				fulls, feats = append(fulls, full), append(feats, rc.features)
			}
		}
		m.mu.Unlock()
		for i, full := range fulls {
			m.sendLastOf(ctx, owner, full, feats[i])
		}
		return
	}
	for _, s := range m.host.Sessions(contact) {
		if avail, _ := s.Presence(); !avail {
			continue
		}
		m.mu.Lock()
		var feats map[string]bool
		if sc := m.sessions[s]; sc != nil {
			feats = sc.features
		}
		m.mu.Unlock()
		if feats != nil {
			m.sendLastOf(ctx, owner, s.JID(), feats)
		}
	}
}

// observeCaps records the caps a session advertises and, for an unknown
// hash, asks the session for its disco#info (once per hash, bounded).
func (m *Module) observeCaps(ctx context.Context, conn module.Conn, pres *stanza.Element) {
	ref, ok := parseCaps(pres)
	if !ok {
		// A session without caps has no state (idle memory: most have
		// none); one that had caps forgets them.
		m.mu.Lock()
		if sc := m.sessions[conn]; sc != nil {
			sc.ref, sc.features = capsRef{}, nil
		}
		m.mu.Unlock()
		return
	}
	m.mu.Lock()
	sc := m.state(conn)
	same := sc.ref.key == ref.key
	sc.ref = ref
	if !same {
		sc.features = nil
	}
	m.mu.Unlock()
	if same {
		return
	}
	feats, known, err := m.caps.features(ctx, ref.key)
	if err != nil {
		m.log.Warn("reading the caps cache failed", "hash", ref.key, "err", err)
		return
	}
	if known {
		m.mu.Lock()
		if sc.ref.key == ref.key {
			sc.features = feats
		}
		m.mu.Unlock()
		return
	}
	m.query(ctx, conn, ref)
}

// query sends a disco#info query for ref to conn, unless the limits say
// no or the hash is known to be false or asked already.
func (m *Module) query(ctx context.Context, conn module.Conn, ref capsRef) {
	m.mu.Lock()
	sc := m.state(conn)
	p := m.pending()
	if sc.waiting || sc.tried == ref.key || sc.asked >= maxQueriesPerSession || len(p.byID) >= maxOutstanding || p.byKey[ref.key] {
		m.mu.Unlock()
		return
	}
	sc.waiting, sc.tried = true, ref.key
	sc.asked++
	id := m.addQuery(p, &capsQuery{ref: ref, conn: conn, to: conn.JID()})
	m.mu.Unlock()
	m.sendQuery(ctx, id, conn.JID().Domain(), conn.JID(), ref)
}

// addQuery registers an outstanding query and returns its iq id; call
// with m.mu held.
func (m *Module) addQuery(p *pendingQueries, q *capsQuery) string {
	id := "caps" + strconv.FormatUint(queryIDs.Add(1), 36)
	p.byID[id] = q
	p.byKey[q.ref.key] = true
	return id
}

// sendQuery sends the disco#info query id for ref from our domain to a
// full JID, and forgets it after queryTimeout.
func (m *Module) sendQuery(ctx context.Context, id, from string, to jid.JID, ref capsRef) {
	time.AfterFunc(queryTimeout, func() {
		if q := m.finishQuery(id); q != nil && q.conn != nil {
			m.askAnother(context.Background(), q.ref)
		}
	})
	iq := stanza.New(stanza.NSClient, stanza.KindIQ).SetAttr("type", stanza.Get).SetAttr("id", id).
		SetAttr("from", from).SetAttr("to", to.String())
	iq.Append(stanza.New(nsInfo, "query").SetAttr("node", ref.node))
	m.host.Deliver(ctx, to, iq)
}

// finishQuery forgets an outstanding query and returns it (nil when it
// was answered or timed out already).
func (m *Module) finishQuery(id string) *capsQuery {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := m.pending()
	q := p.byID[id]
	if q == nil {
		return nil
	}
	delete(p.byID, id)
	delete(p.byKey, q.ref.key)
	if q.conn == nil {
		m.remoteAnswered(q.to)
	} else if sc := m.sessions[q.conn]; sc != nil {
		sc.waiting = false
	}
	return q
}

// inboundIQ takes the answers to our disco#info queries.
func (m *Module) inboundIQ(ctx context.Context, ev *module.Event) (bool, error) {
	typ := ev.Stanza.Attr("type")
	if typ != stanza.Result && typ != stanza.TypeError {
		m.vcardChanged(ctx, ev)
		return false, nil
	}
	if !ev.To.IsZero() && !(ev.To.IsDomain() && m.host.IsLocal(ev.To.Domain())) {
		return false, nil
	}
	id := ev.Stanza.Attr("id")
	m.mu.Lock()
	q := m.pending().byID[id]
	m.mu.Unlock()
	if q == nil || q.to != ev.From {
		return false, nil
	}
	m.finishQuery(id)
	info := ev.Stanza.Child(nsInfo, "query")
	if typ == stanza.TypeError || info == nil || !verify(q.ref, info) {
		// Not cached; another session advertising the same hash may
		// answer truly, so one of them is asked next.
		m.log.Debug("capability hash not verified", "jid", ev.From, "hash", q.ref.key)
		if q.conn != nil {
			m.askAnother(ctx, q.ref)
		}
		return true, nil
	}
	if err := m.caps.put(ctx, q.ref.key, info); err != nil {
		m.log.Warn("caching capabilities failed", "hash", q.ref.key, "err", err)
	}
	m.capsKnown(ctx, q.ref.key)
	return true, nil
}

// askAnother queries the next session advertising ref that was not asked
// for it yet.
func (m *Module) askAnother(ctx context.Context, ref capsRef) {
	var next module.Conn
	m.mu.Lock()
	for c, sc := range m.sessions {
		if sc.ref.key == ref.key && sc.tried != ref.key && sc.features == nil {
			next = c
			break
		}
	}
	m.mu.Unlock()
	if next != nil {
		m.query(ctx, next, ref)
	}
}

// capsKnown gives a newly verified hash to every session advertising it,
// and sends the last items to those that became available meanwhile.
func (m *Module) capsKnown(ctx context.Context, key string) {
	feats := m.caps.lookup(key)
	var late []module.Conn
	m.mu.Lock()
	for c, sc := range m.sessions {
		if sc.ref.key != key {
			continue
		}
		sc.features = feats
		if sc.wantLast {
			sc.wantLast = false
			late = append(late, c)
		}
	}
	m.mu.Unlock()
	for _, c := range late {
		m.sendLast(ctx, c, feats)
	}
	m.remoteCapsKnown(ctx, key, feats)
}

// available sends a session that just became available the last items
// of the nodes it wants notifications of (XEP-0163 §4.3.2), now or once
// its capabilities are verified.
func (m *Module) available(ctx context.Context, ev *module.Event) (bool, error) {
	if ev.Conn == nil {
		return false, nil
	}
	m.mu.Lock()
	var feats map[string]bool
	if sc := m.sessions[ev.Conn]; sc != nil { // none: no caps, nothing to wait for
		feats = sc.features
		if feats == nil {
			sc.wantLast = sc.ref.key != ""
		}
	}
	m.mu.Unlock()
	if feats != nil {
		m.sendLast(ctx, ev.Conn, feats)
	}
	return false, nil
}

// sessionClosed forgets the session.
func (m *Module) sessionClosed(_ context.Context, ev *module.Event) (bool, error) {
	if ev.Conn == nil {
		return false, nil
	}
	m.mu.Lock()
	delete(m.sessions, ev.Conn)
	m.mu.Unlock()
	return false, nil
}

// wants reports whether session c asked for notifications of a node
// (feature node+"+notify" in its capabilities).
func (m *Module) wants(c module.Conn, notify string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	sc := m.sessions[c]
	return sc != nil && sc.features[notify]
}

// pepRecipients is recipients for a PEP node.
func (m *Module) pepRecipients(ctx context.Context, sp space, n StoredNode) []target {
	notify := n.Node + "+notify"
	var out []target
	add := func(bare jid.JID) {
		for _, s := range m.host.Sessions(bare) {
			if avail, _ := s.Presence(); avail && m.wants(s, notify) {
				out = append(out, target{to: s.JID()})
			}
		}
	}
	add(sp.owner)
	watchers, err := m.contacts.Watchers(ctx, sp.owner)
	if err != nil {
		m.log.Warn("reading whom to notify failed", "owner", sp.owner, "node", n.Node, "err", err)
		return out
	}
	for _, w := range watchers {
		if !m.host.IsLocal(w.Domain()) {
			out = append(out, m.remoteTargets(ctx, sp, n, w.Bare(), notify)...)
			continue
		}
		if w.Bare() == sp.owner || len(m.host.Sessions(w)) == 0 {
			continue
		}
		if n.Config.AccessModel != AccessPresence && n.Config.AccessModel != AccessOpen {
			if m.mayRead(ctx, sp, n, w) != nil {
				continue
			}
		}
		add(w)
	}
	return out
}

// sendLast sends session c the last item of every PEP node, its own
// account's and its contacts', that it wants notifications of and may
// read.
func (m *Module) sendLast(ctx context.Context, c module.Conn, feats map[string]bool) {
	user := c.JID().Bare()
	owners := []jid.JID{user}
	watched, err := m.contacts.Watched(ctx, user)
	if err != nil {
		m.log.Warn("reading contacts failed", "jid", user, "err", err)
	}
	for _, w := range watched {
		if m.host.IsLocal(w.Domain()) && w.Bare() != user {
			owners = append(owners, w.Bare())
		}
	}
	for _, o := range owners {
		m.sendLastOf(ctx, o, c.JID(), feats)
	}
}

// sendLastOf sends to (a local session or a remote resource) the last item
// of each of owner's PEP nodes that it wants (node+"+notify" in feats) and
// may read (XEP-0163 §4.3.2).
func (m *Module) sendLastOf(ctx context.Context, owner, to jid.JID, feats map[string]bool) {
	sp := space{key: owner.String(), addr: owner, pep: true, owner: owner}
	nodes, err := m.store.Nodes(ctx, sp.key)
	if err != nil {
		m.log.Warn("reading PEP nodes failed", "owner", owner, "err", err)
		return
	}
	for _, n := range nodes {
		if !feats[n.Node+"+notify"] || n.Config.SendLastPublished == SendNever || !n.Config.DeliverNotify {
			continue
		}
		if m.mayRead(ctx, sp, n, to) != nil {
			continue
		}
		it, found, err := m.store.Last(ctx, sp.key, n.Node)
		if err != nil || !found {
			continue
		}
		ev := stanza.New(NSEvent, "event").Append(stanza.New(NSEvent, "items").SetAttr("node", n.Node).
			Append(itemElement(NSEvent, it, n.Config.DeliverPayloads)))
		m.send(ctx, sp, n, []target{{to: to}}, ev)
	}
}
