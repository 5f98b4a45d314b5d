package pubsub

import (
	"context"
	"maps"
	"slices"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/stanza"
)

// affiliation returns who's affiliation with n: the PEP account owns all
// its nodes; otherwise the stored one (none when there is none).
func (m *Module) affiliation(ctx context.Context, sp space, n StoredNode, who jid.JID) (Affiliation, error) {
	if sp.pep && who.Bare() == sp.owner {
		return AffOwner, nil
	}
	affs, err := m.store.Affiliations(ctx, sp.key, n.Node)
	if err != nil {
		return AffNone, err
	}
	if a, ok := affs[who.Bare().String()]; ok {
		return a, nil
	}
	return AffNone, nil
}

// nodeOwner is the entity whose roster the presence and roster access
// models consult: the PEP account, or the node's creator on the service.
func nodeOwner(sp space, n StoredNode) jid.JID {
	if sp.pep {
		return sp.owner
	}
	j, _ := jid.Parse(n.Creator)
	return j
}

// mayRead checks the node's access model for who (XEP-0060 §6.5.9 for
// the errors): nil when who may retrieve items and receive notifications.
func (m *Module) mayRead(ctx context.Context, sp space, n StoredNode, who jid.JID) error {
	aff, err := m.affiliation(ctx, sp, n, who)
	if err != nil {
		return err
	}
	switch aff {
	case AffOutcast:
		return stanza.Errorf(stanza.Auth, stanza.Forbidden, "you are banned from this node")
	case AffOwner, AffPublisher, AffMember:
		return nil
	}
	switch n.Config.AccessModel {
	case AccessOpen:
		return nil
	case AccessPresence, AccessRoster:
		return m.rosterAccess(ctx, sp, n, who)
	case AccessAuthorize:
		ok, err := m.svcSubscribed(ctx, sp, n, who)
		if err != nil {
			return err
		}
		if !ok {
			return pubsubError(stanza.Auth, stanza.NotAuthorized, "not-subscribed", "the node's owner must approve your subscription first")
		}
		return nil
	}
	return pubsubError(stanza.Cancel, stanza.NotAllowed, "closed-node", "you are not on the node's whitelist")
}

// rosterAccess applies the presence and roster access models.
func (m *Module) rosterAccess(ctx context.Context, sp space, n StoredNode, who jid.JID) error {
	owner := nodeOwner(sp, n)
	if who.Bare() == owner {
		return nil
	}
	presence, inRoster, groups, err := m.contacts.Relation(ctx, owner, who.Bare())
	if err != nil {
		return err
	}
	if n.Config.AccessModel == AccessPresence {
		if !presence {
			return pubsubError(stanza.Auth, stanza.NotAuthorized, "presence-subscription-required", "")
		}
		return nil
	}
	if inRoster && len(n.Config.RosterGroups) == 0 {
		return nil
	}
	for _, g := range groups {
		if contains(n.Config.RosterGroups, g) {
			return nil
		}
	}
	return pubsubError(stanza.Auth, stanza.NotAuthorized, "not-in-roster-group", "")
}

// mayPublish checks the publish model (XEP-0060 §7.1.3.1).
func (m *Module) mayPublish(ctx context.Context, sp space, n StoredNode, who jid.JID) error {
	aff, err := m.affiliation(ctx, sp, n, who)
	if err != nil {
		return err
	}
	switch aff {
	case AffOwner, AffPublisher, AffPublishOnly:
		return nil
	case AffOutcast:
		return stanza.Errorf(stanza.Auth, stanza.Forbidden, "you are banned from this node")
	}
	switch n.Config.PublishModel {
	case "open":
		return nil
	case "subscribers":
		ok, err := m.svcSubscribed(ctx, sp, n, who)
		if err != nil {
			return err
		}
		if ok || aff == AffMember {
			return nil
		}
	}
	return stanza.Errorf(stanza.Auth, stanza.Forbidden, "you may not publish to this node")
}

// ownAffiliations answers a request for the requester's affiliations
// (XEP-0060 §5.7).
func (m *Module) ownAffiliations(ctx context.Context, sp space, from jid.JID, op *stanza.Element) (*stanza.Element, error) {
	nodes, err := m.store.Nodes(ctx, sp.key)
	if err != nil {
		return nil, err
	}
	out := stanza.New(NS, "affiliations")
	only := op.Attr("node")
	for _, n := range nodes {
		if only != "" && n.Node != only {
			continue
		}
		aff, err := m.affiliation(ctx, sp, n, from)
		if err != nil {
			return nil, err
		}
		if aff != AffNone {
			out.Append(stanza.New(NS, "affiliation").SetAttr("node", n.Node).SetAttr("affiliation", string(aff)))
		}
	}
	return stanza.New(NS, "pubsub").Append(out), nil
}

// nodeAffiliations answers an owner's affiliation list (XEP-0060 §8.9.1).
func (m *Module) nodeAffiliations(ctx context.Context, sp space, from jid.JID, op *stanza.Element) (*stanza.Element, error) {
	n, err := m.ownerNode(ctx, sp, from, op)
	if err != nil {
		return nil, err
	}
	affs, err := m.store.Affiliations(ctx, sp.key, n.Node)
	if err != nil {
		return nil, err
	}
	out := stanza.New(NSOwner, "affiliations").SetAttr("node", n.Node)
	if sp.pep {
		out.Append(stanza.New(NSOwner, "affiliation").SetAttr("jid", sp.owner.String()).SetAttr("affiliation", string(AffOwner)))
	}
	for j, a := range affs {
		if sp.pep && j == sp.owner.String() {
			continue
		}
		out.Append(stanza.New(NSOwner, "affiliation").SetAttr("jid", j).SetAttr("affiliation", string(a)))
	}
	return stanza.New(NSOwner, "pubsub").Append(out), nil
}

// setAffiliations answers an owner's affiliation change (XEP-0060
// §8.9.2): every entry is checked before any is applied; an owner cannot
// remove the last owner.
func (m *Module) setAffiliations(ctx context.Context, sp space, from jid.JID, op *stanza.Element) error {
	n, err := m.ownerNode(ctx, sp, from, op)
	if err != nil {
		return err
	}
	type change struct {
		j   jid.JID
		aff Affiliation
	}
	var changes []change
	for _, el := range op.ChildElements() {
		if el.Local != "affiliation" {
			continue
		}
		j, err := jid.Parse(el.Attr("jid"))
		if err != nil {
			return stanza.Errorf(stanza.Modify, stanza.JIDMalformed, "affiliation jid %q: %v", el.Attr("jid"), err)
		}
		a := el.Attr("affiliation")
		if !validAffiliation(a) {
			return stanza.Errorf(stanza.Modify, stanza.BadRequest, "unknown affiliation %q", a)
		}
		if sp.pep && (j.Bare() == sp.owner || Affiliation(a) == AffOwner) {
			return stanza.Errorf(stanza.Modify, stanza.NotAcceptable, "a PEP node has exactly one owner, the account")
		}
		changes = append(changes, change{j.Bare(), Affiliation(a)})
	}
	affs, err := m.store.Affiliations(ctx, sp.key, n.Node)
	if err != nil {
		return err
	}
	for _, c := range changes {
		if c.aff == AffNone {
			delete(affs, c.j.String())
		} else {
			affs[c.j.String()] = c.aff
		}
	}
	owners := 0
	for _, a := range affs {
		if a == AffOwner {
			owners++
		}
	}
	if !sp.pep && owners == 0 {
		return stanza.Errorf(stanza.Modify, stanza.NotAcceptable, "a node keeps at least one owner")
	}
	for _, c := range changes {
		if err := m.store.SetAffiliation(ctx, sp.key, n.Node, c.j.String(), c.aff); err != nil {
			return err
		}
	}
	return nil
}

func sortedKeys(m map[string]Affiliation) []string {
	return slices.Sorted(maps.Keys(m))
}
