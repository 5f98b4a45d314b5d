package pubsub

import (
	"context"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/stanza"
)

// Subscription states (XEP-0060 §4.2).
const (
	subSubscribed = "subscribed"
	subPending    = "pending"
	subNone       = "none"
)

// fields renders subscription options as form fields.
func (o SubOptions) fields() []formField {
	v := "0"
	if o.Deliver {
		v = "1"
	}
	return []formField{{"pubsub#deliver", "boolean", []string{v}, nil}}
}

// applySubOptions reads a subscribe_options form.
func applySubOptions(o *SubOptions, f form) error {
	for name, vals := range f {
		switch name {
		case fieldFormType:
		case "pubsub#deliver":
			v := ""
			if len(vals) > 0 {
				v = vals[0]
			}
			b, ok := parseBool(v)
			if !ok {
				return pubsubError(stanza.Modify, stanza.BadRequest, "invalid-options", "pubsub#deliver must be a boolean")
			}
			o.Deliver = b
		}
	}
	return nil
}

// subscriberJID checks the 'jid' of a (un)subscribe or options request:
// it must name the requester (bare or full, XEP-0060 §6.1.3.1).
func subscriberJID(op *stanza.Element, from jid.JID) (jid.JID, error) {
	j, err := jid.Parse(op.Attr("jid"))
	if err != nil || j.Bare() != from.Bare() {
		return jid.JID{}, pubsubError(stanza.Modify, stanza.BadRequest, "invalid-jid", "the jid must be your own")
	}
	return j, nil
}

// svcSubscribed reports whether who has an approved subscription to n.
func (m *Module) svcSubscribed(ctx context.Context, sp space, n StoredNode, who jid.JID) (bool, error) {
	if sp.pep {
		return false, nil
	}
	subs, err := m.store.Subscriptions(ctx, sp.key, n.Node)
	if err != nil {
		return false, err
	}
	for _, s := range subs {
		if j, err := jid.Parse(s.JID); err == nil && j.Bare() == who.Bare() && s.State == subSubscribed {
			return true, nil
		}
	}
	return false, nil
}

// subsOf returns the subscriptions of j (exactly that JID) to n.
func (m *Module) subsOf(ctx context.Context, sp space, node string, j jid.JID) ([]Subscription, error) {
	subs, err := m.store.Subscriptions(ctx, sp.key, node)
	if err != nil {
		return nil, err
	}
	var out []Subscription
	for _, s := range subs {
		if s.JID == j.String() {
			out = append(out, s)
		}
	}
	return out, nil
}

func subscriptionElement(space, node string, s Subscription) *stanza.Element {
	el := stanza.New(space, "subscription").SetAttr("node", node).SetAttr("jid", s.JID).SetAttr("subscription", s.State)
	if s.SubID != "" {
		el.SetAttr("subid", s.SubID)
	}
	return el
}

// subscribe answers <subscribe/> (XEP-0060 §6.1) with optional
// <options/> (§6.3.7).
func (m *Module) subscribe(ctx context.Context, sp space, from jid.JID, op, opts *stanza.Element) (*stanza.Element, error) {
	if sp.pep {
		return nil, unsupported(stanza.FeatureNotImplemented, "subscribe")
	}
	name, err := nodeName(op)
	if err != nil {
		return nil, err
	}
	who, err := subscriberJID(op, from)
	if err != nil {
		return nil, err
	}
	n, err := m.node(ctx, sp, name)
	if err != nil {
		return nil, err
	}
	sub := Subscription{JID: who.String(), SubID: newID(), State: subSubscribed, Options: SubOptions{Deliver: true}}
	if f := parseForm(opts); f != nil {
		if err := applySubOptions(&sub.Options, f); err != nil {
			return nil, err
		}
	}
	if existing, err := m.subsOf(ctx, sp, name, who); err != nil {
		return nil, err
	} else if len(existing) > 0 {
		return stanza.New(NS, "pubsub").Append(subscriptionElement(NS, name, existing[0])), nil
	}
	aff, err := m.affiliation(ctx, sp, n, who)
	if err != nil {
		return nil, err
	}
	switch {
	case aff == AffOutcast:
		return nil, stanza.Errorf(stanza.Auth, stanza.Forbidden, "you are banned from this node")
	case aff == AffOwner || aff == AffPublisher || aff == AffMember:
	case n.Config.AccessModel == AccessAuthorize:
		sub.State = subPending
	default:
		if err := m.mayRead(ctx, sp, n, who); err != nil {
			return nil, err
		}
	}
	if err := m.store.PutSubscription(ctx, sp.key, name, sub); err != nil {
		return nil, err
	}
	if sub.State == subPending {
		m.askOwners(ctx, sp, n, sub)
	} else if n.Config.SendLastPublished != SendNever {
		if it, found, err := m.store.Last(ctx, sp.key, name); err == nil && found {
			ev := stanza.New(NSEvent, "event").Append(stanza.New(NSEvent, "items").SetAttr("node", name).
				Append(itemElement(NSEvent, it, n.Config.DeliverPayloads)))
			m.send(ctx, sp, n, []target{{to: who, subid: sub.SubID}}, ev)
		}
	}
	return stanza.New(NS, "pubsub").Append(subscriptionElement(NS, name, sub)), nil
}

// askOwners sends the node's owners the authorization form for a pending
// subscription (XEP-0060 §8.6).
func (m *Module) askOwners(ctx context.Context, sp space, n StoredNode, sub Subscription) {
	affs, err := m.store.Affiliations(ctx, sp.key, n.Node)
	if err != nil {
		m.log.Warn("reading owners failed", "node", n.Node, "err", err)
		return
	}
	x := renderForm("form", formSubAuth, []formField{
		{"pubsub#subid", "hidden", []string{sub.SubID}, nil},
		{"pubsub#node", "text-single", []string{n.Node}, nil},
		{"pubsub#subscriber_jid", "jid-single", []string{sub.JID}, nil},
		{"pubsub#allow", "boolean", []string{"0"}, nil},
	})
	x.Append(stanza.New(NSData, "title").AppendText("PubSub subscriber request"))
	for j, a := range affs {
		to, err := jid.Parse(j)
		if err != nil || a != AffOwner {
			continue
		}
		msg := stanza.New(stanza.NSClient, stanza.KindMessage).SetAttr("from", sp.addr.String()).
			SetAttr("to", to.String()).SetAttr("id", newID()).Append(x)
		m.host.Deliver(ctx, to, msg)
	}
}

// message takes an owner's answer to an authorization form.
func (s *service) message(ctx context.Context, sp space, from jid.JID, el *stanza.Element) error {
	x := el.Child(NSData, "x")
	if x == nil || x.Attr("type") != "submit" {
		return nil
	}
	f := parseForm(el)
	if ft, _ := f.one(fieldFormType); ft != formSubAuth {
		return nil
	}
	node, _ := f.one("pubsub#node")
	subscriber, _ := f.one("pubsub#subscriber_jid")
	subid, _ := f.one("pubsub#subid")
	allowV, _ := f.one("pubsub#allow")
	allow, _ := parseBool(allowV)
	n, err := s.m.node(ctx, sp, node)
	if err != nil {
		return err
	}
	if aff, err := s.m.affiliation(ctx, sp, n, from); err != nil {
		return err
	} else if aff != AffOwner {
		return stanza.Errorf(stanza.Auth, stanza.Forbidden, "only an owner approves subscriptions")
	}
	who, err := jid.Parse(subscriber)
	if err != nil {
		return stanza.NewError(stanza.BadRequest)
	}
	subs, err := s.m.subsOf(ctx, sp, node, who)
	if err != nil {
		return err
	}
	for _, sub := range subs {
		if sub.State != subPending || (subid != "" && sub.SubID != subid) {
			continue
		}
		if allow {
			sub.State = subSubscribed
			err = s.m.store.PutSubscription(ctx, sp.key, node, sub)
		} else {
			sub.State = subNone
			_, err = s.m.store.DeleteSubscription(ctx, sp.key, node, sub.JID, sub.SubID)
		}
		if err != nil {
			return err
		}
		ev := stanza.New(NSEvent, "event").Append(subscriptionElement(NSEvent, node, sub))
		s.m.send(ctx, sp, n, []target{{to: who}}, ev)
	}
	return nil
}

// unsubscribe answers <unsubscribe/> (XEP-0060 §6.2).
func (m *Module) unsubscribe(ctx context.Context, sp space, from jid.JID, op *stanza.Element) error {
	name, err := nodeName(op)
	if err != nil {
		return err
	}
	who, err := subscriberJID(op, from)
	if err != nil {
		return err
	}
	if _, err := m.node(ctx, sp, name); err != nil {
		return err
	}
	subs, err := m.subsOf(ctx, sp, name, who)
	if err != nil {
		return err
	}
	subid := op.Attr("subid")
	removed := 0
	for _, s := range subs {
		if subid != "" && s.SubID != subid {
			continue
		}
		if _, err := m.store.DeleteSubscription(ctx, sp.key, name, s.JID, s.SubID); err != nil {
			return err
		}
		removed++
	}
	if removed == 0 {
		if subid != "" && len(subs) > 0 {
			return pubsubError(stanza.Modify, stanza.NotAcceptable, "invalid-subid", "")
		}
		return pubsubError(stanza.Cancel, stanza.UnexpectedRequest, "not-subscribed", "")
	}
	return nil
}

// options answers a get or set of subscription options (XEP-0060 §6.3).
func (m *Module) options(ctx context.Context, sp space, from jid.JID, typ string, op *stanza.Element) (*stanza.Element, error) {
	name, err := nodeName(op)
	if err != nil {
		return nil, err
	}
	who, err := subscriberJID(op, from)
	if err != nil {
		return nil, err
	}
	if _, err := m.node(ctx, sp, name); err != nil {
		return nil, err
	}
	subs, err := m.subsOf(ctx, sp, name, who)
	if err != nil {
		return nil, err
	}
	if len(subs) == 0 {
		return nil, pubsubError(stanza.Cancel, stanza.UnexpectedRequest, "not-subscribed", "")
	}
	sub := subs[0]
	if id := op.Attr("subid"); id != "" {
		found := false
		for _, s := range subs {
			if s.SubID == id {
				sub, found = s, true
			}
		}
		if !found {
			return nil, pubsubError(stanza.Modify, stanza.NotAcceptable, "invalid-subid", "")
		}
	}
	if typ == stanza.Set {
		if err := applySubOptions(&sub.Options, parseForm(op)); err != nil {
			return nil, err
		}
		return nil, m.store.PutSubscription(ctx, sp.key, name, sub)
	}
	o := stanza.New(NS, "options").SetAttr("node", name).SetAttr("jid", sub.JID).SetAttr("subid", sub.SubID)
	o.Append(renderForm("form", formSubOpts, sub.Options.fields()))
	return stanza.New(NS, "pubsub").Append(o), nil
}

// ownSubscriptions lists the requester's subscriptions (XEP-0060 §5.6).
func (m *Module) ownSubscriptions(ctx context.Context, sp space, from jid.JID, op *stanza.Element) (*stanza.Element, error) {
	out := stanza.New(NS, "subscriptions")
	if !sp.pep {
		nodes, err := m.store.Nodes(ctx, sp.key)
		if err != nil {
			return nil, err
		}
		for _, n := range nodes {
			if only := op.Attr("node"); only != "" && only != n.Node {
				continue
			}
			subs, err := m.store.Subscriptions(ctx, sp.key, n.Node)
			if err != nil {
				return nil, err
			}
			for _, s := range subs {
				if j, err := jid.Parse(s.JID); err == nil && j.Bare() == from.Bare() {
					out.Append(subscriptionElement(NS, n.Node, s))
				}
			}
		}
	}
	return stanza.New(NS, "pubsub").Append(out), nil
}

// nodeSubscriptions lists a node's subscriptions for an owner (§8.8.1).
func (m *Module) nodeSubscriptions(ctx context.Context, sp space, from jid.JID, op *stanza.Element) (*stanza.Element, error) {
	n, err := m.ownerNode(ctx, sp, from, op)
	if err != nil {
		return nil, err
	}
	subs, err := m.store.Subscriptions(ctx, sp.key, n.Node)
	if err != nil {
		return nil, err
	}
	out := stanza.New(NSOwner, "subscriptions").SetAttr("node", n.Node)
	for _, s := range subs {
		el := subscriptionElement(NSOwner, "", s)
		el.RemoveAttr("node")
		out.Append(el)
	}
	return stanza.New(NSOwner, "pubsub").Append(out), nil
}

// setSubscriptions lets an owner change subscriptions (§8.8.2).
func (m *Module) setSubscriptions(ctx context.Context, sp space, from jid.JID, op *stanza.Element) error {
	n, err := m.ownerNode(ctx, sp, from, op)
	if err != nil {
		return err
	}
	for _, el := range op.ChildElements() {
		if el.Local != "subscription" {
			continue
		}
		j, err := jid.Parse(el.Attr("jid"))
		if err != nil {
			return stanza.Errorf(stanza.Modify, stanza.JIDMalformed, "subscription jid %q: %v", el.Attr("jid"), err)
		}
		state := el.Attr("subscription")
		subs, err := m.subsOf(ctx, sp, n.Node, j)
		if err != nil {
			return err
		}
		switch state {
		case subNone:
			for _, s := range subs {
				if _, err := m.store.DeleteSubscription(ctx, sp.key, n.Node, s.JID, s.SubID); err != nil {
					return err
				}
			}
		case subSubscribed, subPending:
			sub := Subscription{JID: j.String(), SubID: newID(), Options: SubOptions{Deliver: true}}
			if len(subs) > 0 {
				sub = subs[0]
			}
			sub.State = state
			if err := m.store.PutSubscription(ctx, sp.key, n.Node, sub); err != nil {
				return err
			}
		default:
			return stanza.Errorf(stanza.Modify, stanza.BadRequest, "unknown subscription state %q", state)
		}
	}
	return nil
}
