package pubsub

import (
	"context"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/stanza"
)

// PEP for contacts on other servers (XEP-0163 §4.3.1 over federation):
// their resources' presence reaches local users through the same
// InboundPresence hook; the capabilities it carries are verified like a
// local session's (the disco#info query goes out over s2s from the local
// user's domain) and kept per remote full JID until its unavailable
// presence, in a map bounded by maxRemote.

// maxRemote bounds the remote resources whose capabilities are kept.
const maxRemote = 65536

// remoteCaps is what PEP knows of one remote resource.
type remoteCaps struct {
	ref      capsRef
	features map[string]bool
	asked    int
	tried    string
	waiting  bool
	// users are the local users it sent available presence to; each is
	// sent the last items it wants once its caps are known.
	users map[jid.JID]bool
}

// remoteEntry returns (creating, within the bound) the state of a remote
// full JID; call with m.mu held.
func (m *Module) remoteEntry(full jid.JID, create bool) *remoteCaps {
	bare := full.Bare()
	rc := m.remote[bare][full]
	if rc != nil || !create || m.remoteCount >= maxRemote {
		return rc
	}
	if m.remote[bare] == nil {
		m.remote[bare] = map[jid.JID]*remoteCaps{}
	}
	rc = &remoteCaps{users: map[jid.JID]bool{}}
	m.remote[bare][full] = rc
	m.remoteCount++
	return rc
}

// forgetRemote drops a remote resource; call with m.mu held.
func (m *Module) forgetRemote(full jid.JID) {
	bare := full.Bare()
	if _, ok := m.remote[bare][full]; !ok {
		return
	}
	delete(m.remote[bare], full)
	m.remoteCount--
	if len(m.remote[bare]) == 0 {
		delete(m.remote, bare)
	}
}

// remotePresence follows the presence of a remote resource to a local
// user.
func (m *Module) remotePresence(ctx context.Context, ev *module.Event) {
	if ev.To.IsZero() || !m.host.IsLocal(ev.To.Domain()) || ev.From.IsBare() {
		return
	}
	user := ev.To.Bare()
	switch ev.Stanza.Attr("type") {
	case "unavailable":
		m.mu.Lock()
		m.forgetRemote(ev.From)
		m.mu.Unlock()
		return
	case "":
	default:
		return
	}
	ref, ok := parseCaps(ev.Stanza)
	m.mu.Lock()
	rc := m.remoteEntry(ev.From, ok)
	if rc == nil {
		m.mu.Unlock()
		return
	}
	if !ok {
		rc.ref, rc.features = capsRef{}, nil
		m.mu.Unlock()
		return
	}
	if rc.ref.key != ref.key {
		rc.ref, rc.features = ref, nil
	}
	feats, first := rc.features, !rc.users[user]
	rc.users[user] = true
	m.mu.Unlock()
	if feats == nil {
		m.resolveRemote(ctx, ev.From, user, ref)
		return
	}
	if first {
		m.sendLastRemote(ctx, ev.From, user, feats)
	}
}

// resolveRemote finds the features of a remote resource's hash: from the
// cache, or by a bounded disco#info query.
func (m *Module) resolveRemote(ctx context.Context, full, user jid.JID, ref capsRef) {
	_, known, err := m.caps.features(ctx, ref.key)
	if err != nil {
		m.log.Warn("reading the caps cache failed", "hash", ref.key, "err", err)
		return
	}
	if known {
		m.capsKnown(ctx, ref.key)
		return
	}
	m.mu.Lock()
	rc := m.remoteEntry(full, false)
	p := m.pending()
	if rc == nil || rc.waiting || rc.tried == ref.key || rc.asked >= maxQueriesPerSession || len(p.byID) >= maxOutstanding || p.byKey[ref.key] {
		m.mu.Unlock()
		return
	}
	rc.waiting, rc.tried = true, ref.key
	rc.asked++
	id := m.addQuery(p, &capsQuery{ref: ref, to: full})
	m.mu.Unlock()
	m.sendQuery(ctx, id, user.Domain(), full, ref)
}

// remoteAnswered marks a remote resource's query done; call with m.mu
// held.
func (m *Module) remoteAnswered(full jid.JID) {
	if rc := m.remoteEntry(full, false); rc != nil {
		rc.waiting = false
	}
}

// remoteCapsKnown gives a verified hash to the remote resources
// advertising it and sends each the last items of the local users it is
// a contact of.
func (m *Module) remoteCapsKnown(ctx context.Context, key string, feats map[string]bool) {
	type pending struct {
		full  jid.JID
		users []jid.JID
	}
	var todo []pending
	m.mu.Lock()
	for _, byFull := range m.remote {
		for full, rc := range byFull {
			if rc.ref.key != key || rc.features != nil {
				continue
			}
			rc.features = feats
			p := pending{full: full}
			for u := range rc.users {
				p.users = append(p.users, u)
			}
			todo = append(todo, p)
		}
	}
	m.mu.Unlock()
	for _, p := range todo {
		for _, u := range p.users {
			m.sendLastRemote(ctx, p.full, u, feats)
		}
	}
}

// remoteTargets are the resources of a remote contact that want n.
func (m *Module) remoteTargets(ctx context.Context, sp space, n StoredNode, contact jid.JID, notify string) []target {
	var out []target
	m.mu.Lock()
	for full, rc := range m.remote[contact] {
		if rc.features[notify] && rc.users[sp.owner] {
			out = append(out, target{to: full})
		}
	}
	m.mu.Unlock()
	if len(out) > 0 && n.Config.AccessModel != AccessPresence && n.Config.AccessModel != AccessOpen {
		if m.mayRead(ctx, sp, n, contact) != nil {
			return nil
		}
	}
	return out
}

// sendLastRemote sends a remote resource the last items of user's nodes
// it wants and may read.
func (m *Module) sendLastRemote(ctx context.Context, full, user jid.JID, feats map[string]bool) {
	sp := space{key: user.String(), addr: user, pep: true, owner: user}
	nodes, err := m.store.Nodes(ctx, sp.key)
	if err != nil {
		m.log.Warn("reading PEP nodes failed", "owner", user, "err", err)
		return
	}
	for _, n := range nodes {
		if !feats[n.Node+"+notify"] || n.Config.SendLastPublished == SendNever || !n.Config.DeliverNotify {
			continue
		}
		if m.mayRead(ctx, sp, n, full) != nil {
			continue
		}
		it, found, err := m.store.Last(ctx, sp.key, n.Node)
		if err != nil || !found {
			continue
		}
		ev := stanza.New(NSEvent, "event").Append(stanza.New(NSEvent, "items").SetAttr("node", n.Node).
			Append(itemElement(NSEvent, it, n.Config.DeliverPayloads)))
		m.send(ctx, sp, n, []target{{to: full}}, ev)
	}
}
