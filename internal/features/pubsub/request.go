package pubsub

import (
	"context"
	"errors"
	"fmt"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/storage"
)

// handle answers one <pubsub/> request (either namespace) to sp.
func (m *Module) handle(ctx context.Context, sp space, from jid.JID, typ string, ps *stanza.Element) (*stanza.Element, error) {
	children := ps.ChildElements()
	if len(children) == 0 {
		return nil, stanza.Errorf(stanza.Modify, stanza.BadRequest, "the pubsub element is empty")
	}
	op := children[0]
	if ps.Space == NSOwner {
		return m.handleOwner(ctx, sp, from, typ, op)
	}
	switch {
	case typ == stanza.Set && op.Local == "publish":
		return m.publish(ctx, sp, from, op, ps.Child(NS, "publish-options"))
	case typ == stanza.Set && op.Local == "retract":
		return nil, m.retract(ctx, sp, from, op)
	case typ == stanza.Set && op.Local == "create":
		return m.create(ctx, sp, from, op, ps.Child(NS, "configure"))
	case typ == stanza.Get && op.Local == "items":
		return m.items(ctx, sp, from, op, ps.Child(NSRSM, "set"))
	case typ == stanza.Get && op.Local == "affiliations":
		return m.ownAffiliations(ctx, sp, from, op)
	case typ == stanza.Get && op.Local == "subscriptions":
		return m.ownSubscriptions(ctx, sp, from, op)
	case typ == stanza.Get && op.Local == "default":
		return m.defaultForm(sp, NS, formSubOpts), nil
	case typ == stanza.Set && op.Local == "subscribe":
		return m.subscribe(ctx, sp, from, op, ps.Child(NS, "options"))
	case typ == stanza.Set && op.Local == "unsubscribe":
		return nil, m.unsubscribe(ctx, sp, from, op)
	case op.Local == "options":
		return m.options(ctx, sp, from, typ, op)
	}
	return nil, unsupported(stanza.FeatureNotImplemented, op.Local)
}

func (m *Module) handleOwner(ctx context.Context, sp space, from jid.JID, typ string, op *stanza.Element) (*stanza.Element, error) {
	switch {
	case op.Local == "configure" && typ == stanza.Get:
		return m.configGet(ctx, sp, from, op)
	case op.Local == "configure" && typ == stanza.Set:
		return nil, m.configSet(ctx, sp, from, op)
	case op.Local == "default" && typ == stanza.Get:
		return m.defaultForm(sp, NSOwner, formNodeCfg), nil
	case op.Local == "delete" && typ == stanza.Set:
		return nil, m.deleteNode(ctx, sp, from, op)
	case op.Local == "purge" && typ == stanza.Set:
		return nil, m.purge(ctx, sp, from, op)
	case op.Local == "affiliations" && typ == stanza.Get:
		return m.nodeAffiliations(ctx, sp, from, op)
	case op.Local == "affiliations" && typ == stanza.Set:
		return nil, m.setAffiliations(ctx, sp, from, op)
	case op.Local == "subscriptions" && typ == stanza.Get:
		return m.nodeSubscriptions(ctx, sp, from, op)
	case op.Local == "subscriptions" && typ == stanza.Set:
		return nil, m.setSubscriptions(ctx, sp, from, op)
	}
	return nil, unsupported(stanza.FeatureNotImplemented, op.Local)
}

// unsupported is feature-not-implemented with <unsupported feature='…'/>.
func unsupported(cond, feature string) *stanza.Error {
	e := pubsubError(stanza.Cancel, cond, "unsupported", "")
	e.App.SetAttr("feature", feature)
	return e
}

// nodeName returns the op's 'node', or the nodeid-required error.
func nodeName(op *stanza.Element) (string, error) {
	n := op.Attr("node")
	if n == "" {
		return "", pubsubError(stanza.Modify, stanza.BadRequest, "nodeid-required", "")
	}
	if len(n) > 1000 {
		return "", stanza.Errorf(stanza.Modify, stanza.NotAcceptable, "node names are at most 1000 bytes")
	}
	return n, nil
}

// node loads a node, or fails with item-not-found.
func (m *Module) node(ctx context.Context, sp space, name string) (StoredNode, error) {
	n, found, err := m.store.Node(ctx, sp.key, name)
	if err != nil {
		return StoredNode{}, err
	}
	if !found {
		return StoredNode{}, stanza.Errorf(stanza.Cancel, stanza.ItemNotFound, "no node %q", name)
	}
	return n, nil
}

// ownerNode loads a node from an owner request: item-not-found, or
// forbidden for anyone but an owner.
func (m *Module) ownerNode(ctx context.Context, sp space, from jid.JID, op *stanza.Element) (StoredNode, error) {
	name, err := nodeName(op)
	if err != nil {
		return StoredNode{}, err
	}
	n, err := m.node(ctx, sp, name)
	if err != nil {
		return StoredNode{}, err
	}
	aff, err := m.affiliation(ctx, sp, n, from)
	if err != nil {
		return StoredNode{}, err
	}
	if aff != AffOwner {
		return StoredNode{}, stanza.Errorf(stanza.Auth, stanza.Forbidden, "only an owner of the node may do this")
	}
	return n, nil
}

// newNode creates a node on sp for from with cfg, applying the per-user
// node limit.
func (m *Module) newNode(ctx context.Context, sp space, from jid.JID, name string, cfg NodeConfig) error {
	err := m.store.CreateNode(ctx, StoredNode{Service: sp.key, Node: name, Creator: from.Bare().String(), Config: cfg}, m.cfg.MaxNodesPerUser)
	switch {
	case errors.Is(err, ErrExists):
		return stanza.Errorf(stanza.Cancel, stanza.Conflict, "node %q exists", name)
	case errors.Is(err, storage.ErrLimit):
		return pubsubError(stanza.Cancel, stanza.PolicyViolation, "max-nodes-exceeded",
			fmt.Sprintf("a user may create at most %d nodes here", m.cfg.MaxNodesPerUser))
	}
	return err
}

// create answers <create/> (XEP-0060 §8.1), with an optional <configure/>.
func (m *Module) create(ctx context.Context, sp space, from jid.JID, op, configure *stanza.Element) (*stanza.Element, error) {
	if !m.mayCreate(sp, from) {
		return nil, stanza.Errorf(stanza.Auth, stanza.Forbidden, "you may not create nodes here")
	}
	name := op.Attr("node")
	instant := name == ""
	if instant {
		name = newID()
	}
	cfg := defaultConfig(sp.pep, m.cfg.MaxItems)
	if f := parseForm(configure); f != nil {
		if err := cfg.apply(f, m.cfg.MaxItems); err != nil {
			return nil, err
		}
	}
	if len(name) > 1000 {
		return nil, stanza.Errorf(stanza.Modify, stanza.NotAcceptable, "node names are at most 1000 bytes")
	}
	if err := m.newNode(ctx, sp, from, name, cfg); err != nil {
		return nil, err
	}
	if !instant {
		return nil, nil
	}
	return stanza.New(NS, "pubsub").Append(stanza.New(NS, "create").SetAttr("node", name)), nil
}

// configGet answers an owner's configure get (XEP-0060 §8.2.1).
func (m *Module) configGet(ctx context.Context, sp space, from jid.JID, op *stanza.Element) (*stanza.Element, error) {
	n, err := m.ownerNode(ctx, sp, from, op)
	if err != nil {
		return nil, err
	}
	c := stanza.New(NSOwner, "configure").SetAttr("node", n.Node).Append(renderForm("form", formNodeCfg, n.Config.fields(m.cfg.MaxItems)))
	return stanza.New(NSOwner, "pubsub").Append(c), nil
}

// configSet answers an owner's configure set (XEP-0060 §8.2.4).
func (m *Module) configSet(ctx context.Context, sp space, from jid.JID, op *stanza.Element) error {
	n, err := m.ownerNode(ctx, sp, from, op)
	if err != nil {
		return err
	}
	if x := op.Child(NSData, "x"); x != nil && x.Attr("type") == "cancel" {
		return nil
	}
	f := parseForm(op)
	if f == nil {
		return stanza.Errorf(stanza.Modify, stanza.BadRequest, "the configure element needs a data form")
	}
	cfg := n.Config
	if err := cfg.apply(f, m.cfg.MaxItems); err != nil {
		return err
	}
	if err := m.store.SetConfig(ctx, sp.key, n.Node, cfg); err != nil {
		return err
	}
	if cfg.NotifyConfig {
		ev := stanza.New(NSEvent, "event").Append(stanza.New(NSEvent, "configuration").SetAttr("node", n.Node))
		m.notify(ctx, sp, StoredNode{Service: n.Service, Node: n.Node, Creator: n.Creator, Config: cfg}, ev)
	}
	return nil
}

// defaultForm answers a request for the default node or subscription
// configuration.
func (m *Module) defaultForm(sp space, space_, formType string) *stanza.Element {
	d := stanza.New(space_, "default")
	if formType == formNodeCfg {
		d.Append(renderForm("form", formNodeCfg, defaultConfig(sp.pep, m.cfg.MaxItems).fields(m.cfg.MaxItems)))
	} else {
		d.Append(renderForm("form", formSubOpts, SubOptions{Deliver: true}.fields()))
	}
	return stanza.New(space_, "pubsub").Append(d)
}

// deleteNode answers an owner's delete (XEP-0060 §8.4), notifying
// subscribers when the node says so.
func (m *Module) deleteNode(ctx context.Context, sp space, from jid.JID, op *stanza.Element) error {
	n, err := m.ownerNode(ctx, sp, from, op)
	if err != nil {
		return err
	}
	// Who to tell is read before the subscriptions go with the node.
	targets := m.recipients(ctx, sp, n)
	if _, err := m.store.DeleteNode(ctx, sp.key, n.Node); err != nil {
		return err
	}
	if n.Config.NotifyDelete {
		m.send(ctx, sp, n, targets, stanza.New(NSEvent, "event").Append(stanza.New(NSEvent, "delete").SetAttr("node", n.Node)))
	}
	return nil
}

// purge answers an owner's purge (XEP-0060 §8.5).
func (m *Module) purge(ctx context.Context, sp space, from jid.JID, op *stanza.Element) error {
	n, err := m.ownerNode(ctx, sp, from, op)
	if err != nil {
		return err
	}
	if err := m.store.Purge(ctx, sp.key, n.Node); err != nil {
		return err
	}
	if n.Config.NotifyRetract {
		m.notify(ctx, sp, n, stanza.New(NSEvent, "event").Append(stanza.New(NSEvent, "purge").SetAttr("node", n.Node)))
	}
	return nil
}
