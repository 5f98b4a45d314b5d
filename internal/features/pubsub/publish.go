package pubsub

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/storage"
)

// newID returns a random item or node id.
func newID() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// publish answers <publish/> (XEP-0060 §7.1) with optional
// <publish-options/> (§7.1.5, XEP-0223): on PEP a missing node is created
// with the options as its configuration (XEP-0163 §3); an existing node
// must already have them (precondition-not-met otherwise).
func (m *Module) publish(ctx context.Context, sp space, from jid.JID, op, opts *stanza.Element) (*stanza.Element, error) {
	name, err := nodeName(op)
	if err != nil {
		return nil, err
	}
	it, err := m.itemToPublish(from, op)
	if err != nil {
		return nil, err
	}
	n, err := m.nodeForPublish(ctx, sp, from, name, parseForm(opts))
	if err != nil {
		return nil, err
	}
	if n.Config.MaxPayloadBytes > 0 && len(it.Payload) > n.Config.MaxPayloadBytes {
		return nil, payloadTooBig(len(it.Payload), n.Config.MaxPayloadBytes)
	}
	if err := m.mayPublish(ctx, sp, n, from); err != nil {
		return nil, err
	}
	if n.Config.PersistItems {
		if err := m.store.Publish(ctx, sp.key, name, it, m.maxItems(n.Config)); err != nil {
			return nil, err
		}
	}
	m.notifyItem(ctx, sp, n, it)
	m.published(ctx, sp, n)
	res := stanza.New(NS, "publish").SetAttr("node", name).Append(stanza.New(NS, "item").SetAttr("id", it.ID))
	return stanza.New(NS, "pubsub").Append(res), nil
}

// maxItems is the number of items a node keeps.
func (m *Module) maxItems(c NodeConfig) int {
	if c.MaxItems <= 0 || c.MaxItems > m.cfg.MaxItems {
		return m.cfg.MaxItems
	}
	return c.MaxItems
}

func payloadTooBig(n, max int) *stanza.Error {
	return pubsubError(stanza.Modify, stanza.NotAcceptable, "payload-too-big", fmt.Sprintf("the payload is %d bytes; at most %d are accepted", n, max))
}

// itemToPublish checks the <item/> of a publish: exactly one, with one
// payload element within the size limit.
func (m *Module) itemToPublish(from jid.JID, op *stanza.Element) (Item, error) {
	items := op.ChildElements()
	if len(items) != 1 || items[0].Local != "item" {
		return Item{}, pubsubError(stanza.Modify, stanza.BadRequest, "item-required", "publish exactly one item")
	}
	payload := items[0].ChildElements()
	switch {
	case len(payload) == 0:
		return Item{}, pubsubError(stanza.Modify, stanza.BadRequest, "payload-required", "")
	case len(payload) > 1:
		return Item{}, pubsubError(stanza.Modify, stanza.BadRequest, "invalid-payload", "an item carries one payload element")
	}
	id := items[0].Attr("id")
	if id == "" {
		id = newID()
	}
	if len(id) > 1000 {
		return Item{}, stanza.Errorf(stanza.Modify, stanza.NotAcceptable, "item ids are at most 1000 bytes")
	}
	data := storage.EncodeElements(payload[0])
	if len(data) > m.cfg.MaxItemBytes {
		return Item{}, payloadTooBig(len(data), m.cfg.MaxItemBytes)
	}
	return Item{ID: id, Publisher: from.String(), Payload: data}, nil
}

// nodeForPublish returns the node published to, creating it on PEP.
func (m *Module) nodeForPublish(ctx context.Context, sp space, from jid.JID, name string, opts form) (StoredNode, error) {
	n, found, err := m.store.Node(ctx, sp.key, name)
	if err != nil {
		return StoredNode{}, err
	}
	if found {
		if opts != nil {
			if perr := n.Config.precondition(opts, m.cfg.MaxItems); perr != nil {
				return StoredNode{}, perr
			}
		}
		return n, nil
	}
	if !sp.pep {
		return StoredNode{}, stanza.Errorf(stanza.Cancel, stanza.ItemNotFound, "no node %q; create it first", name)
	}
	if !m.mayCreate(sp, from) {
		return StoredNode{}, stanza.Errorf(stanza.Auth, stanza.Forbidden, "only the account owner publishes here")
	}
	cfg := defaultConfig(true, m.cfg.MaxItems)
	if name == NSBookmarks2 {
		cfg = m.bookmarksConfig() // private by default, even without publish-options
	}
	if opts != nil {
		if err := cfg.apply(opts, m.cfg.MaxItems); err != nil {
			return StoredNode{}, preconditionNotMet(err.Text)
		}
	}
	if err := m.newNode(ctx, sp, from, name, cfg); err != nil {
		if se, ok := err.(*stanza.Error); ok && se.Condition == stanza.Conflict {
			return m.nodeForPublish(ctx, sp, from, name, opts) // created concurrently
		}
		return StoredNode{}, err
	}
	return StoredNode{Service: sp.key, Node: name, Creator: from.Bare().String(), Config: cfg}, nil
}

// retract answers <retract/> (XEP-0060 §7.2).
func (m *Module) retract(ctx context.Context, sp space, from jid.JID, op *stanza.Element) error {
	name, err := nodeName(op)
	if err != nil {
		return err
	}
	n, err := m.node(ctx, sp, name)
	if err != nil {
		return err
	}
	item := op.Child(NS, "item")
	if item == nil || item.Attr("id") == "" {
		return pubsubError(stanza.Modify, stanza.BadRequest, "item-required", "")
	}
	id := item.Attr("id")
	aff, err := m.affiliation(ctx, sp, n, from)
	if err != nil {
		return err
	}
	switch aff {
	case AffOwner, AffPublisher:
	case AffPublishOnly:
		p, _, err := m.store.Items(ctx, sp.key, name, ItemQuery{IDs: []string{id}})
		if err != nil {
			return err
		}
		if len(p.Items) == 1 && jid.MustParse(p.Items[0].Publisher).Bare() != from.Bare() {
			return stanza.Errorf(stanza.Auth, stanza.Forbidden, "publish-only entities retract only their own items")
		}
	default:
		return stanza.Errorf(stanza.Auth, stanza.Forbidden, "you may not retract items of this node")
	}
	existed, err := m.store.Retract(ctx, sp.key, name, id)
	if err != nil {
		return err
	}
	if !existed {
		return stanza.Errorf(stanza.Cancel, stanza.ItemNotFound, "no item %q", id)
	}
	notify, _ := parseBool(op.Attr("notify"))
	if notify || n.Config.NotifyRetract {
		ev := stanza.New(NSEvent, "event").Append(stanza.New(NSEvent, "items").SetAttr("node", name).
			Append(stanza.New(NSEvent, "retract").SetAttr("id", id)))
		m.notify(ctx, sp, n, ev)
	}
	m.published(ctx, sp, n)
	return nil
}

// items answers an items retrieval (XEP-0060 §6.5), with XEP-0059 paging.
func (m *Module) items(ctx context.Context, sp space, from jid.JID, op, rsm *stanza.Element) (*stanza.Element, error) {
	name, err := nodeName(op)
	if err != nil {
		return nil, err
	}
	n, err := m.node(ctx, sp, name)
	if err != nil {
		return nil, err
	}
	if err := m.mayRead(ctx, sp, n, from); err != nil {
		return nil, err
	}
	q := ItemQuery{MaxBytes: maxPageBytes}
	for _, it := range op.ChildElements() {
		if it.Local == "item" && it.Attr("id") != "" {
			q.IDs = append(q.IDs, it.Attr("id"))
		}
	}
	if v := op.Attr("max_items"); v != "" {
		if q.Max, err = strconv.Atoi(v); err != nil || q.Max < 0 {
			return nil, stanza.Errorf(stanza.Modify, stanza.BadRequest, "max_items %q is not a number", v)
		}
	}
	if rsm != nil {
		if err := pageQuery(rsm, &q); err != nil {
			return nil, err
		}
	}
	page, found, err := m.store.Items(ctx, sp.key, name, q)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, stanza.Errorf(stanza.Cancel, stanza.ItemNotFound, "the page's reference item is gone")
	}
	out := stanza.New(NS, "items").SetAttr("node", name)
	for _, it := range page.Items {
		out.Append(itemElement(NS, it, true))
	}
	res := stanza.New(NS, "pubsub").Append(out)
	truncated := len(q.IDs) == 0 && len(page.Items) < page.Count && (q.Max == 0 || len(page.Items) < q.Max) && q.After == "" && q.Before == ""
	if rsm != nil || truncated {
		// A page cut short by size says so, so that the client pages on
		// (XEP-0060 §6.5.7 with XEP-0059).
		res.Append(pageResult(page))
	}
	return res, nil
}

// maxPageBytes bounds the payloads of one items answer: a node of large
// items is answered in pages (the rest is paged to with RSM) instead of in
// one stanza that could exceed what the session may queue.
const maxPageBytes = 1 << 20

// pageQuery reads a XEP-0059 <set/> into q.
func pageQuery(rsm *stanza.Element, q *ItemQuery) error {
	if v := rsm.ChildText(NSRSM, "max"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return stanza.Errorf(stanza.Modify, stanza.BadRequest, "RSM max %q is not a number", v)
		}
		q.Max = n
	}
	q.After = rsm.ChildText(NSRSM, "after")
	if b := rsm.Child(NSRSM, "before"); b != nil {
		q.Before = b.Text()
		if q.Before == "" {
			return stanza.Errorf(stanza.Cancel, stanza.FeatureNotImplemented, "paging back from the end is not supported; the first page is the newest")
		}
	}
	return nil
}

// pageResult is the XEP-0059 <set/> describing page.
func pageResult(p Page) *stanza.Element {
	set := stanza.New(NSRSM, "set")
	if len(p.Items) > 0 {
		set.Append(stanza.New(NSRSM, "first").AppendText(p.Items[0].ID))
		set.Append(stanza.New(NSRSM, "last").AppendText(p.Items[len(p.Items)-1].ID))
	}
	return set.Append(stanza.New(NSRSM, "count").AppendText(strconv.Itoa(p.Count)))
}

// itemElement renders a stored item in space (pubsub or pubsub#event).
func itemElement(space string, it Item, payload bool) *stanza.Element {
	el := stanza.New(space, "item").SetAttr("id", it.ID)
	if it.Publisher != "" && space == NSEvent {
		if p, err := jid.Parse(it.Publisher); err == nil {
			el.SetAttr("publisher", p.Bare().String())
		}
	}
	if payload {
		if els, err := storage.DecodeElements(it.Payload); err == nil {
			el.Append(els...)
		}
	}
	return el
}

// notifyItem sends the notification of a published item.
func (m *Module) notifyItem(ctx context.Context, sp space, n StoredNode, it Item) {
	if !n.Config.DeliverNotify {
		return
	}
	ev := stanza.New(NSEvent, "event").Append(stanza.New(NSEvent, "items").SetAttr("node", n.Node).
		Append(itemElement(NSEvent, it, n.Config.DeliverPayloads)))
	m.notify(ctx, sp, n, ev)
}

// target is one notification recipient.
type target struct {
	to    jid.JID
	subid string
}

// notify sends ev to whoever should hear of node n.
func (m *Module) notify(ctx context.Context, sp space, n StoredNode, ev *stanza.Element) {
	m.send(ctx, sp, n, m.recipients(ctx, sp, n), ev)
}

// recipients returns who hears of n: on PEP the available resources of
// the owner and of contacts allowed to read n whose entity capabilities
// ask for n+notify (XEP-0163 §4.3.1); on the service its subscribers.
func (m *Module) recipients(ctx context.Context, sp space, n StoredNode) []target {
	if sp.pep {
		return m.pepRecipients(ctx, sp, n)
	}
	return m.svc.recipients(ctx, sp, n)
}

// send delivers ev to each target in a message of the node's notification
// type.
func (m *Module) send(ctx context.Context, sp space, n StoredNode, targets []target, ev *stanza.Element) {
	typ := n.Config.NotificationType
	if typ == "" {
		typ = "headline"
	}
	for _, t := range targets {
		msg := stanza.New(stanza.NSClient, stanza.KindMessage).SetAttr("from", sp.addr.String()).
			SetAttr("to", t.to.String()).SetAttr("type", typ).SetAttr("id", newID())
		msg.Append(ev)
		if t.subid != "" {
			msg.Append(shim("SubID", t.subid))
		}
		m.host.Deliver(ctx, t.to, msg)
	}
}

// shim is a XEP-0131 header block with one header.
func shim(name, value string) *stanza.Element {
	return stanza.New("http://jabber.org/protocol/shim", "headers").Append(
		stanza.New("http://jabber.org/protocol/shim", "header").SetAttr("name", name).AppendText(value))
}
