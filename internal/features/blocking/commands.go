package blocking

import (
	"context"
	"errors"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/storage"
)

// owner returns the account an iq to one's own account concerns: the
// blocking iqs have no 'to' (§3.2), or the user's own bare JID.
func owner(iq stanza.IQ) (jid.JID, error) {
	if !iq.To.IsZero() && iq.To != iq.From.Bare() {
		return jid.JID{}, stanza.Errorf(stanza.Auth, stanza.Forbidden, "a block list can only be managed by its owner")
	}
	return iq.From.Bare(), nil
}

// getList answers a blocklist get (§3.2) and marks the resource as
// wanting pushes.
func (m *Module) getList(ctx context.Context, iq stanza.IQ) (*stanza.Element, error) {
	user, err := owner(iq)
	if err != nil {
		return nil, err
	}
	l, err := m.list(ctx, user)
	if err != nil {
		return nil, err
	}
	m.markRequested(iq.From)
	return itemsElement("blocklist", l.items), nil
}

func itemsElement(name string, items []jid.JID) *stanza.Element {
	el := stanza.New(NS, name)
	for _, j := range items {
		el.Append(stanza.New(NS, "item").SetAttr("jid", j.String()))
	}
	return el
}

// parseItems reads the <item jid='...'/> children of a block or unblock
// command.
func parseItems(payload *stanza.Element) ([]jid.JID, error) {
	var items []jid.JID
	for _, c := range payload.ChildElements() {
		if c.Space != NS || c.Local != "item" {
			return nil, stanza.Errorf(stanza.Modify, stanza.BadRequest, "unexpected <%s/> in <%s/>", c.Local, payload.Local)
		}
		j, err := jid.Parse(c.Attr("jid"))
		if err != nil {
			return nil, stanza.Errorf(stanza.Modify, stanza.JIDMalformed, "item %q is not a valid JID", c.Attr("jid"))
		}
		items = append(items, j)
	}
	return items, nil
}

// block handles the block command (§3.3).
func (m *Module) block(ctx context.Context, iq stanza.IQ) (*stanza.Element, error) {
	user, err := owner(iq)
	if err != nil {
		return nil, err
	}
	items, err := parseItems(iq.Payload)
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, stanza.Errorf(stanza.Modify, stanza.BadRequest, "<block/> needs at least one <item/>")
	}
	if err := m.change(ctx, user, items, true); err != nil {
		return nil, err
	}
	m.push(ctx, user, itemsElement("block", items))
	return nil, nil
}

// unblock handles the unblock command, of some contacts or, without
// items, of all (§3.4, §3.5).
func (m *Module) unblock(ctx context.Context, iq stanza.IQ) (*stanza.Element, error) {
	user, err := owner(iq)
	if err != nil {
		return nil, err
	}
	items, err := parseItems(iq.Payload)
	if err != nil {
		return nil, err
	}
	if err := m.change(ctx, user, items, false); err != nil {
		return nil, err
	}
	m.push(ctx, user, itemsElement("unblock", items))
	return nil, nil
}

// change blocks or unblocks items (unblock with no items: everything).
// The store is written first and the cache follows, under the user's
// lock; presence follows the change, outside the lock: unavailable
// presence to the newly blocked contacts (sent past the Filter, which
// already blocks them), the user's current presence to the unblocked ones.
func (m *Module) change(ctx context.Context, user jid.JID, items []jid.JID, block bool) error {
	mu := m.lock(user)
	mu.Lock()
	old, err := m.loadLocked(ctx, user)
	var next *list
	switch {
	case err != nil:
	case block:
		next, err = m.addItems(ctx, user, old, items)
	default:
		next, err = m.removeItems(ctx, user, old, items)
	}
	if err == nil {
		m.setCached(user, next)
	}
	mu.Unlock()
	if err != nil {
		return err
	}
	if block {
		m.presenceOnBlock(ctx, user, old, next)
	} else {
		m.presenceOnUnblock(ctx, user, old, next)
	}
	return nil
}

func (m *Module) addItems(ctx context.Context, user jid.JID, old *list, items []jid.JID) (*list, error) {
	var recs []storage.Record
	for _, j := range items {
		if !old.has(keyOf(j)) {
			recs = append(recs, storage.Record{Name: j.String()})
		}
	}
	if len(recs) == 0 {
		return old, nil
	}
	err := m.recs.Put(ctx, user, recs, m.cfg.MaxItems)
	switch {
	case errors.Is(err, storage.ErrLimit):
		return nil, stanza.Errorf(stanza.Wait, stanza.ResourceConstraint, "a block list holds at most %d items", m.cfg.MaxItems)
	case err != nil:
		return nil, wrapErr("block for "+user.String(), err)
	}
	return old.with(items), nil
}

func (m *Module) removeItems(ctx context.Context, user jid.JID, old *list, items []jid.JID) (*list, error) {
	if len(items) == 0 {
		if _, err := m.recs.DeleteAll(ctx, user); err != nil {
			return nil, wrapErr("unblock all for "+user.String(), err)
		}
		return emptyList, nil
	}
	names := make([]string, len(items))
	for i, j := range items {
		names[i] = j.String()
	}
	if _, err := m.recs.Delete(ctx, user, names...); err != nil {
		return nil, wrapErr("unblock for "+user.String(), err)
	}
	return old.without(items), nil
}

// push sends the change to every resource of user that requested the
// block list (§3.3, §3.4, §3.5).
func (m *Module) push(ctx context.Context, user jid.JID, payload *stanza.Element) {
	for _, s := range m.cfg.Host.Sessions(user) {
		if !m.hasRequested(s) {
			continue
		}
		iq := stanza.New(stanza.NSClient, stanza.KindIQ).
			SetAttr("id", m.nextID()).SetAttr("type", stanza.Set).SetAttr("to", s.JID().String())
		iq.Append(payload.Copy())
		m.cfg.Host.Deliver(ctx, s.JID(), iq)
	}
}
