package roster

import (
	"context"
	"errors"
	"unicode/utf8"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/stanza"
)

// ownRoster checks that a roster iq is addressed to the sender's own
// account (RFC 6121 §2.1.5: no 'to', or the user's bare JID).
func ownRoster(iq stanza.IQ) (jid.JID, error) {
	user := iq.From.Bare()
	if !iq.To.IsZero() && iq.To != user {
		return jid.JID{}, stanza.Errorf(stanza.Auth, stanza.Forbidden, "you may only access your own roster")
	}
	return user, nil
}

// handleGet answers a roster get (RFC 6121 §2.1.3) and makes the resource
// interested. With a 'ver' equal to the current version the answer is
// empty (XEP-0237 §4.2); otherwise it is the whole roster.
func (m *Module) handleGet(ctx context.Context, iq stanza.IQ) (*stanza.Element, error) {
	user, err := ownRoster(iq)
	if err != nil {
		return nil, err
	}
	view, err := m.View(ctx, user)
	if err != nil {
		return nil, err
	}
	versioned := iq.Payload.HasAttr("ver")
	m.setInterested(iq.From, versioned)
	if versioned && iq.Payload.Attr("ver") == view.Version() {
		return nil, nil
	}
	q := stanza.New(NS, "query")
	if versioned {
		q.SetAttr("ver", view.Version())
	}
	for _, it := range view.Items() {
		q.Append(it.Element())
	}
	return q, nil
}

// handleSet adds, updates (RFC 6121 §2.3, §2.4) or removes (§2.5) an item.
func (m *Module) handleSet(ctx context.Context, iq stanza.IQ) (*stanza.Element, error) {
	user, err := ownRoster(iq)
	if err != nil {
		return nil, err
	}
	el, err := singleItem(iq.Payload)
	if err != nil {
		return nil, err
	}
	contact, err := jid.Parse(el.Attr("jid"))
	switch {
	case err != nil || el.Attr("jid") == "":
		return nil, stanza.Errorf(stanza.Modify, stanza.JIDMalformed, "the item's 'jid' is not a valid JID")
	case !contact.IsBare():
		return nil, stanza.Errorf(stanza.Modify, stanza.BadRequest, "roster items are bare JIDs (no resource)")
	}
	if el.Attr("subscription") == "remove" {
		return nil, m.remove(ctx, user, contact)
	}
	name, groups, err := m.checkItem(el)
	if err != nil {
		return nil, err
	}
	return nil, m.write(ctx, func(tx *Tx, b *batch) error {
		it, err := tx.Item(user, contact)
		if err != nil {
			return err
		}
		if it == nil {
			if err := m.checkRoom(tx, user); err != nil {
				return err
			}
			it = &Item{JID: contact}
		}
		it.Name, it.Groups = name, groups
		if err := tx.PutItem(user, it); err != nil {
			return err
		}
		b.add(user, contact, it)
		return nil
	})
}

// singleItem returns the one <item/> of a roster set (RFC 6121 §2.3.3).
func singleItem(q *stanza.Element) (*stanza.Element, error) {
	var item *stanza.Element
	for _, c := range q.ChildElements() {
		if item != nil || c.Local != "item" || c.Space != NS {
			return nil, stanza.Errorf(stanza.Modify, stanza.BadRequest, "a roster set carries exactly one <item/>")
		}
		item = c
	}
	if item == nil {
		return nil, stanza.Errorf(stanza.Modify, stanza.BadRequest, "a roster set carries exactly one <item/>")
	}
	return item, nil
}

// checkItem validates the name and groups of a roster set against the
// configured limits (RFC 6121 §2.3.3). 'subscription' (other than remove),
// 'ask' and 'approved' from the client are ignored (§2.1.2).
func (m *Module) checkItem(el *stanza.Element) (string, []string, error) {
	name := el.Attr("name")
	if len(name) > m.lim.MaxNameBytes {
		return "", nil, stanza.Errorf(stanza.Modify, stanza.NotAcceptable, "the name is longer than %d bytes", m.lim.MaxNameBytes)
	}
	if !utf8.ValidString(name) {
		return "", nil, stanza.Errorf(stanza.Modify, stanza.NotAcceptable, "the name is not valid UTF-8")
	}
	var groups []string
	for _, g := range el.ChildElements() {
		if g.Local != "group" || g.Space != NS {
			continue
		}
		if len(groups) == m.lim.MaxGroupsPerItem {
			return "", nil, stanza.Errorf(stanza.Wait, stanza.ResourceConstraint, "an item may be in at most %d groups", m.lim.MaxGroupsPerItem)
		}
		t := g.Text()
		switch {
		case t == "":
			return "", nil, stanza.Errorf(stanza.Modify, stanza.NotAcceptable, "a group name may not be empty")
		case len(t) > m.lim.MaxGroupNameBytes:
			return "", nil, stanza.Errorf(stanza.Modify, stanza.NotAcceptable, "a group name is longer than %d bytes", m.lim.MaxGroupNameBytes)
		}
		groups = append(groups, t)
	}
	groups, dup := normalizeGroups(groups)
	if dup {
		return "", nil, stanza.Errorf(stanza.Modify, stanza.BadRequest, "a group is listed twice")
	}
	return name, groups, nil
}

// errRosterFull is returned when a roster is at roster.max_items.
func (m *Module) errRosterFull() error {
	return stanza.Errorf(stanza.Wait, stanza.ResourceConstraint, "the roster is full (%d items)", m.lim.MaxItems)
}

// checkRoom fails when user's roster cannot take one more item.
func (m *Module) checkRoom(tx *Tx, user jid.JID) error {
	n, err := tx.CountItems(user)
	if err != nil {
		return err
	}
	if n >= m.lim.MaxItems {
		return m.errRosterFull()
	}
	return nil
}

// isStanzaError reports whether err carries a stanza error for the client.
func isStanzaError(err error) bool {
	var se *stanza.Error
	return errors.As(err, &se)
}
