package pubsub

import (
	"context"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/stanza"
)

// Namespaces of XEP-0402 and XEP-0048.
const (
	NSBookmarks2 = "urn:xmpp:bookmarks:1"
	NSBookmarks1 = "storage:bookmarks"
)

// Private is what XEP-0411 conversion needs of private XML storage
// (XEP-0049; the server passes the private module).
type Private interface {
	// Fragment returns user's stored private XML element {space}local,
	// or nil when there is none.
	Fragment(ctx context.Context, user jid.JID, space, local string) (*stanza.Element, error)
	// PutFragment stores el as user's private XML, replacing the element
	// of the same name, without telling the change hook.
	PutFragment(ctx context.Context, user jid.JID, el *stanza.Element) error
}

// bookmarksConfig is the configuration XEP-0402 §3 asks for.
func (m *Module) bookmarksConfig() NodeConfig {
	c := defaultConfig(true, m.cfg.MaxItems)
	c.AccessModel, c.MaxItems, c.SendLastPublished = AccessWhitelist, m.cfg.MaxItems, SendNever
	return c
}

// published runs after an item was published or retracted on a node:
// XEP-0402 bookmarks are mirrored into XEP-0048 private XML (XEP-0411).
func (m *Module) published(ctx context.Context, sp space, n StoredNode) {
	if !sp.pep || n.Node != NSBookmarks2 || m.cfg.Private == nil {
		return
	}
	page, _, err := m.store.Items(ctx, sp.key, n.Node, ItemQuery{})
	if err != nil {
		m.log.Warn("reading bookmarks failed", "jid", sp.owner, "err", err)
		return
	}
	storage := stanza.New(NSBookmarks1, "storage")
	if old, err := m.cfg.Private.Fragment(ctx, sp.owner, NSBookmarks1, "storage"); err == nil && old != nil {
		for _, u := range old.ChildElements() {
			if u.Local == "url" { // XEP-0402 has no URL bookmarks: keep them
				storage.Append(u)
			}
		}
	}
	for i := len(page.Items) - 1; i >= 0; i-- {
		if c := toLegacyBookmark(page.Items[i]); c != nil {
			storage.Append(c)
		}
	}
	if err := m.cfg.Private.PutFragment(ctx, sp.owner, storage); err != nil {
		m.log.Warn("mirroring bookmarks into private XML failed", "jid", sp.owner, "err", err)
	}
}

// toLegacyBookmark converts a XEP-0402 item into a XEP-0048 <conference/>.
func toLegacyBookmark(it Item) *stanza.Element {
	conf := itemElement(NS, it, true).Child(NSBookmarks2, "conference")
	if conf == nil {
		return nil
	}
	c := stanza.New(NSBookmarks1, "conference").SetAttr("jid", it.ID)
	if v := conf.Attr("name"); v != "" {
		c.SetAttr("name", v)
	}
	if a, _ := parseBool(conf.Attr("autojoin")); a {
		c.SetAttr("autojoin", "true")
	}
	for _, k := range []string{"nick", "password"} {
		if v := conf.Child(NSBookmarks2, k); v != nil {
			c.Append(stanza.New(NSBookmarks1, k).AppendText(v.Text()))
		}
	}
	return c
}

// toBookmark converts a XEP-0048 <conference/> into a XEP-0402 payload.
func toBookmark(c *stanza.Element) (id string, payload *stanza.Element) {
	j, err := jid.Parse(c.Attr("jid"))
	if err != nil || j.Local() == "" {
		return "", nil
	}
	p := stanza.New(NSBookmarks2, "conference")
	if v := c.Attr("name"); v != "" {
		p.SetAttr("name", v)
	}
	if a, _ := parseBool(c.Attr("autojoin")); a {
		p.SetAttr("autojoin", "true")
	}
	for _, k := range []string{"nick", "password"} {
		if v := c.Child(NSBookmarks1, k); v != nil {
			p.Append(stanza.New(NSBookmarks2, k).AppendText(v.Text()))
		}
	}
	return j.Bare().String(), p
}

// PrivateChanged is the private module's change hook: XEP-0048 bookmarks
// stored through private XML replace the XEP-0402 node's items, and the
// owner's resources hear of each change.
func (m *Module) PrivateChanged(ctx context.Context, user jid.JID, el *stanza.Element) {
	if el.Space != NSBookmarks1 || el.Local != "storage" {
		return
	}
	sp := space{key: user.String(), addr: user, pep: true, owner: user}
	n, found, err := m.store.Node(ctx, sp.key, NSBookmarks2)
	if err == nil && !found {
		n = StoredNode{Service: sp.key, Node: NSBookmarks2, Creator: user.String(), Config: m.bookmarksConfig()}
		if err = m.newNode(ctx, sp, user, NSBookmarks2, n.Config); err != nil {
			if se, ok := err.(*stanza.Error); ok && se.Condition == stanza.Conflict {
				n, _, err = m.store.Node(ctx, sp.key, NSBookmarks2)
			}
		}
	}
	if err != nil {
		m.log.Warn("converting bookmarks failed", "jid", user, "err", err)
		return
	}
	keep := map[string]bool{}
	for _, c := range el.ChildElements() {
		if c.Local != "conference" {
			continue
		}
		id, payload := toBookmark(c)
		if payload == nil || keep[id] {
			continue
		}
		keep[id] = true
		it := Item{ID: id, Publisher: user.String(), Payload: encode(payload)}
		if err := m.store.Publish(ctx, sp.key, NSBookmarks2, it, m.maxItems(n.Config)); err != nil {
			m.log.Warn("converting bookmarks failed", "jid", user, "err", err)
			return
		}
		m.notifyItem(ctx, sp, n, it)
	}
	m.retractExcept(ctx, sp, n, keep)
}

// retractExcept retracts the items of n whose ids are not in keep,
// notifying the retractions.
func (m *Module) retractExcept(ctx context.Context, sp space, n StoredNode, keep map[string]bool) {
	page, _, err := m.store.Items(ctx, sp.key, n.Node, ItemQuery{})
	if err != nil {
		m.log.Warn("reading bookmarks failed", "jid", sp.owner, "err", err)
		return
	}
	for _, it := range page.Items {
		if keep[it.ID] {
			continue
		}
		if _, err := m.store.Retract(ctx, sp.key, n.Node, it.ID); err != nil {
			m.log.Warn("retracting a bookmark failed", "jid", sp.owner, "err", err)
			continue
		}
		ev := stanza.New(NSEvent, "event").Append(stanza.New(NSEvent, "items").SetAttr("node", n.Node).
			Append(stanza.New(NSEvent, "retract").SetAttr("id", it.ID)))
		m.notify(ctx, sp, n, ev)
	}
}
