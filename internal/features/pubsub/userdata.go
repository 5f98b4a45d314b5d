package pubsub

import (
	"context"
	"errors"
	"fmt"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/storage"
)

// UserData is PEP's section of XEP-0227 import and export (§ Personal
// Eventing Protocol of XEP-0227 1.1): a <pubsub xmlns='…pubsub#owner'/>
// with each node's <configure/> (a submitted node_config form) and
// <affiliations/>, and a <pubsub xmlns='…pubsub'/> with each node's
// <items/>, oldest first.
type UserData struct{ store *Store }

// NewUserData returns the section over db.
func NewUserData(db *storage.DB) *UserData { return &UserData{store: NewStore(db)} }

var _ module.UserData = (*UserData)(nil)

// importLimit lets imported max_items values through as they are.
const importLimit = 1 << 30

// ExportUser returns user's PEP nodes and items.
func (u *UserData) ExportUser(ctx context.Context, user jid.JID) ([]*stanza.Element, error) {
	nodes, err := u.store.Nodes(ctx, user.String())
	if err != nil {
		return nil, fmt.Errorf("pubsub: export %s: %w", user, err)
	}
	if len(nodes) == 0 {
		return nil, nil
	}
	own, pub := stanza.New(NSOwner, "pubsub"), stanza.New(NS, "pubsub")
	for _, n := range nodes {
		form := renderForm("submit", formNodeCfg, n.Config.fields(importLimit))
		own.Append(stanza.New(NSOwner, "configure").SetAttr("node", n.Node).Append(form))
		affs, err := u.store.Affiliations(ctx, user.String(), n.Node)
		if err != nil {
			return nil, fmt.Errorf("pubsub: export %s: %w", user, err)
		}
		if list := affiliationList(n.Node, affs, user); list != nil {
			own.Append(list)
		}
		page, _, err := u.store.Items(ctx, user.String(), n.Node, ItemQuery{})
		if err != nil {
			return nil, fmt.Errorf("pubsub: export %s: %w", user, err)
		}
		items := stanza.New(NS, "items").SetAttr("node", n.Node)
		for i := len(page.Items) - 1; i >= 0; i-- {
			items.Append(itemElement(NS, page.Items[i], true))
		}
		pub.Append(items)
	}
	return []*stanza.Element{own, pub}, nil
}

// affiliationList lists the affiliations other than the owner's, or nil.
func affiliationList(node string, affs map[string]Affiliation, owner jid.JID) *stanza.Element {
	list := stanza.New(NSOwner, "affiliations").SetAttr("node", node)
	any := false
	for _, j := range sortedKeys(affs) {
		if j == owner.String() {
			continue
		}
		any = true
		list.Append(stanza.New(NSOwner, "affiliation").SetAttr("jid", j).SetAttr("affiliation", string(affs[j])))
	}
	if !any {
		return nil
	}
	return list
}

// Accepts takes both <pubsub/> elements.
func (u *UserData) Accepts(el *stanza.Element) bool {
	return el.Local == "pubsub" && (el.Space == NS || el.Space == NSOwner)
}

type importNode struct {
	name  string
	cfg   NodeConfig
	affs  map[string]Affiliation
	items []Item
}

// PlanImport reads the nodes, their configuration, affiliations and
// items; what does not parse is left out and noted.
func (u *UserData) PlanImport(user jid.JID, els []*stanza.Element, note func(string)) func(context.Context) error {
	nodes, order := map[string]*importNode{}, []string{}
	get := func(name string) *importNode {
		n := nodes[name]
		if n == nil {
			n = &importNode{name: name, cfg: defaultConfig(true, importLimit), affs: map[string]Affiliation{}}
			n.cfg.MaxItems = DefaultMaxItems
			nodes[name] = n
			order = append(order, name)
		}
		return n
	}
	for _, el := range els {
		for _, c := range el.ChildElements() {
			name := c.Attr("node")
			if name == "" {
				note("a PEP element without a node name is skipped")
				continue
			}
			switch {
			case el.Space == NSOwner && c.Local == "configure":
				if err := get(name).cfg.apply(parseForm(c), importLimit); err != nil {
					note(fmt.Sprintf("node %q: %s; its default configuration is used", name, err.Text))
				}
			case el.Space == NSOwner && c.Local == "affiliations":
				readAffiliations(get(name), c, note)
			case el.Space == NS && c.Local == "items":
				readItems(get(name), user, c, note)
			default:
				note(fmt.Sprintf("PEP element <%s/> is not imported", c.Local))
			}
		}
	}
	if len(order) == 0 {
		return nil
	}
	return func(ctx context.Context) error {
		for _, name := range order {
			if err := u.importNode(ctx, user, nodes[name]); err != nil {
				return fmt.Errorf("pubsub: import node %q of %s: %w", name, user, err)
			}
		}
		return nil
	}
}

func readAffiliations(n *importNode, list *stanza.Element, note func(string)) {
	for _, a := range list.ChildElements() {
		j, err := jid.Parse(a.Attr("jid"))
		aff := a.Attr("affiliation")
		if err != nil || !validAffiliation(aff) || Affiliation(aff) == AffOwner || Affiliation(aff) == AffNone {
			note(fmt.Sprintf("node %q: affiliation %q of %q is not imported", n.name, aff, a.Attr("jid")))
			continue
		}
		n.affs[j.Bare().String()] = Affiliation(aff)
	}
}

func readItems(n *importNode, user jid.JID, items *stanza.Element, note func(string)) {
	for _, it := range items.ChildElements() {
		payload := it.ChildElements()
		if it.Local != "item" || len(payload) != 1 {
			note(fmt.Sprintf("node %q: an item without exactly one payload is not imported", n.name))
			continue
		}
		id := it.Attr("id")
		if id == "" {
			id = newID()
		}
		n.items = append(n.items, Item{ID: id, Publisher: user.String(), Payload: storage.EncodeElements(payload[0])})
	}
}

func (u *UserData) importNode(ctx context.Context, user jid.JID, n *importNode) error {
	key := user.String()
	err := u.store.CreateNode(ctx, StoredNode{Service: key, Node: n.name, Creator: key, Config: n.cfg}, 0)
	if errors.Is(err, ErrExists) {
		err = u.store.SetConfig(ctx, key, n.name, n.cfg)
	}
	if err != nil {
		return err
	}
	for j, a := range n.affs {
		if err := u.store.SetAffiliation(ctx, key, n.name, j, a); err != nil {
			return err
		}
	}
	for _, it := range n.items {
		if err := u.store.Publish(ctx, key, n.name, it, n.cfg.MaxItems); err != nil {
			return err
		}
	}
	return nil
}
