package roster

import (
	"context"
	"fmt"
	"time"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/storage"
)

// Subscribe processes a subscription stanza (RFC 6121 §3) of type typ from
// 'from' to 'to' (bare JIDs). outbound says 'from' is a local account (the
// user's server part, Appendix A.2), inbound that 'to' is one (the
// contact's server part, A.3); when both are local both parts, and the
// auto-reply of a pre-approved or already granted request, commit in one
// transaction. el is the stanza (stored for a pending request). Roster
// pushes for every changed item are sent before it returns. A *stanza.Error
// (a full roster) means nothing changed.
func (m *Module) Subscribe(ctx context.Context, from, to jid.JID, typ string, el *stanza.Element, outbound, inbound bool) (Outcome, error) {
	if !IsSubscriptionType(typ) {
		return Outcome{}, fmt.Errorf("roster: %q is not a subscription type", typ)
	}
	var o Outcome
	err := m.write(ctx, func(tx *Tx, b *batch) error {
		o = Outcome{}
		var sender *side
		if outbound {
			s, err := m.loadSide(tx, from, to)
			if err != nil {
				return err
			}
			sender = s
			sender.next, o.Route = Outbound(sender.old, typ)
		}
		if inbound && (!outbound || o.Route) {
			rcpt, err := m.loadSide(tx, to, from)
			if err != nil {
				return err
			}
			o.Inbound = true
			rcpt.next, o.Deliver, o.AutoReply = Inbound(rcpt.old, typ)
			if typ == TypeSubscribe {
				rcpt.request = el
			}
			if o.AutoReply && sender != nil {
				sender.next, o.ReplyDeliver, _ = Inbound(sender.next, TypeSubscribed)
			}
			if o.RecipientChanged, err = m.apply(tx, b, rcpt); err != nil {
				return err
			}
		}
		if sender != nil {
			changed, err := m.apply(tx, b, sender)
			o.SenderChanged = changed
			return err
		}
		return nil
	})
	if err != nil {
		if isStanzaError(err) {
			return Outcome{}, err
		}
		return Outcome{}, fmt.Errorf("roster: %s from %s to %s: %w", typ, from, to, err)
	}
	return o, nil
}

// side is one account's view of a subscription being processed.
type side struct {
	user, contact jid.JID
	item          *Item // nil when the contact is not in the roster
	old, next     State
	request       *stanza.Element // a subscription request to keep pending
}

func (m *Module) loadSide(tx *Tx, user, contact jid.JID) (*side, error) {
	it, err := tx.Item(user, contact)
	if err != nil {
		return nil, err
	}
	in, err := tx.PendingIn(user, contact)
	if err != nil {
		return nil, err
	}
	s := &side{user: user, contact: contact, item: it}
	if it != nil {
		s.old = it.State
	}
	s.old.PendingIn = in
	return s, nil
}

// apply stores the change of one side: the pending request, and the item
// (created when the new state needs one, within roster.max_items).
func (m *Module) apply(tx *Tx, b *batch, s *side) (bool, error) {
	if s.old == s.next {
		return false, nil
	}
	if err := m.applyPending(tx, s); err != nil {
		return false, err
	}
	if itemState(s.old) == itemState(s.next) {
		return true, nil
	}
	it := s.item
	if it == nil {
		if itemState(s.next) == (State{}) {
			return true, nil
		}
		if err := m.checkRoom(tx, s.user); err != nil {
			return false, err
		}
		it = &Item{JID: s.contact}
	} else {
		it = it.clone()
	}
	it.State = itemState(s.next)
	if err := tx.PutState(s.user, s.contact, it.State); err != nil {
		return false, err
	}
	b.add(s.user, s.contact, it)
	return true, nil
}

func (m *Module) applyPending(tx *Tx, s *side) error {
	switch {
	case s.next.PendingIn && !s.old.PendingIn:
		n, err := tx.CountPending(s.user)
		if err != nil {
			return err
		}
		if n >= m.lim.MaxItems {
			return stanza.Errorf(stanza.Wait, stanza.ResourceConstraint, "too many subscription requests are pending for %s", s.user)
		}
		var data []byte
		if s.request != nil {
			data = storage.EncodeElements(s.request)
		}
		return tx.PutPending(s.user, s.contact, data, time.Now())
	case !s.next.PendingIn && s.old.PendingIn:
		return tx.DeletePending(s.user, s.contact)
	}
	return nil
}

// remove deletes contact from user's roster, cancelling the subscriptions
// both ways; a local contact's roster changes in the same transaction.
func (m *Module) remove(ctx context.Context, user, contact jid.JID) error {
	if view, err := m.View(ctx, user); err != nil {
		return err
	} else if view.IsShared(contact) {
		return stanza.Errorf(stanza.Cancel, stanza.NotAllowed, "%s is in your roster through a shared group", contact)
	}
	inbound, err := m.isLocalAccount(ctx, contact)
	if err != nil {
		return err
	}
	var r Removal
	err = m.write(ctx, func(tx *Tx, b *batch) error {
		r = Removal{}
		s, err := m.loadSide(tx, user, contact)
		if err != nil {
			return err
		}
		if s.item == nil {
			return stanza.Errorf(stanza.Cancel, stanza.ItemNotFound, "%s is not in your roster", contact)
		}
		r.Unsubscribe = s.old.PendingOut || s.old.Sub.HasTo()
		r.Unsubscribed = s.old.PendingIn || s.old.Sub.HasFrom()
		if err := tx.DeleteItem(user, contact); err != nil {
			return err
		}
		if s.old.PendingIn {
			if err := tx.DeletePending(user, contact); err != nil {
				return err
			}
		}
		b.add(user, contact, nil)
		if !inbound || (!r.Unsubscribe && !r.Unsubscribed) {
			return nil
		}
		return m.removeAtContact(tx, b, user, contact, &r)
	})
	if err != nil {
		return err
	}
	if h := m.onRemove.Load(); h != nil {
		(*h)(ctx, user, contact, r)
	}
	return nil
}

func (m *Module) removeAtContact(tx *Tx, b *batch, user, contact jid.JID, r *Removal) error {
	c, err := m.loadSide(tx, contact, user)
	if err != nil {
		return err
	}
	r.Inbound = true
	c.next = c.old
	if r.Unsubscribe {
		c.next, r.DeliverUnsubscribe, _ = Inbound(c.next, TypeUnsubscribe)
	}
	if r.Unsubscribed {
		c.next, r.DeliverUnsubscribed, _ = Inbound(c.next, TypeUnsubscribed)
	}
	_, err = m.apply(tx, b, c)
	return err
}

// isLocalAccount reports whether j is an account on a served domain.
func (m *Module) isLocalAccount(ctx context.Context, j jid.JID) (bool, error) {
	ok, err := m.host.AccountExists(ctx, j)
	if err != nil {
		return false, fmt.Errorf("roster: look up %s: %w", j, err)
	}
	return ok, nil
}

// IsLocalAccount reports whether j is an account on a served domain.
func (m *Module) IsLocalAccount(ctx context.Context, j jid.JID) (bool, error) {
	return m.isLocalAccount(ctx, j)
}
