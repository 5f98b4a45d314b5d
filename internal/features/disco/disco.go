// Package disco implements XEP-0030: Service Discovery, for the server
// itself and on behalf of accounts. What is advertised comes from the
// module registry, so each feature module declares its own features.
package disco

import (
	"context"

	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/stanza"
)

// Namespaces of XEP-0030.
const (
	NSInfo  = "http://jabber.org/protocol/disco#info"
	NSItems = "http://jabber.org/protocol/disco#items"
)

// Module answers disco#info and disco#items queries.
type Module struct {
	reg *module.Registry
}

// New returns the disco module.
func New() *Module { return &Module{} }

// Register declares the handlers and the server identity.
func (m *Module) Register(reg *module.Registry) {
	m.reg = reg
	reg.Identity(module.Identity{Category: "server", Type: "im", Name: "Parley"})
	reg.Feature(NSInfo, NSItems)
	reg.AccountFeature(NSInfo, NSItems)
	reg.IQ(module.Server, stanza.Get, NSInfo, "query", m.serverInfo)
	reg.IQ(module.Server, stanza.Get, NSItems, "query", m.items)
	reg.IQ(module.Account, stanza.Get, NSInfo, "query", m.accountInfo)
	reg.IQ(module.Account, stanza.Get, NSItems, "query", m.items)
}

func (m *Module) serverInfo(ctx context.Context, iq stanza.IQ) (*stanza.Element, error) {
	if node := iq.Payload.Attr("node"); node != "" {
		n, ok := m.reg.Node(ctx, iq.From, iq.To.Domain(), node)
		if !ok {
			return nil, stanza.NewError(stanza.ItemNotFound)
		}
		return infoResult(n.Identities, n.Features).SetAttr("node", node), nil
	}
	return infoResult(m.reg.Identities(), m.reg.Features()), nil
}

func (m *Module) accountInfo(_ context.Context, iq stanza.IQ) (*stanza.Element, error) {
	if iq.Payload.Attr("node") != "" {
		return nil, stanza.NewError(stanza.ItemNotFound)
	}
	ids := append([]module.Identity{{Category: "account", Type: "registered"}}, m.reg.AccountIdentities()...)
	return infoResult(ids, m.reg.AccountFeatures()), nil
}

func (m *Module) items(ctx context.Context, iq stanza.IQ) (*stanza.Element, error) {
	q := stanza.New(NSItems, "query")
	items := []module.DiscoItem(nil)
	switch node := iq.Payload.Attr("node"); {
	case node != "" && iq.To.IsDomain():
		n, ok := m.reg.Node(ctx, iq.From, iq.To.Domain(), node)
		if !ok {
			return nil, stanza.NewError(stanza.ItemNotFound)
		}
		q.SetAttr("node", node)
		items = n.Items
	case node != "":
		return nil, stanza.NewError(stanza.ItemNotFound)
	case !iq.To.IsDomain():
		account := iq.From.Bare()
		if !iq.To.IsZero() {
			account = iq.To.Bare()
		}
		var err error
		if items, err = m.reg.ItemsOf(ctx, account, iq.From); err != nil {
			return nil, err
		}
	default:
		items = m.reg.Items(iq.To.Domain())
	}
	for _, it := range items {
		el := stanza.New(NSItems, "item").SetAttr("jid", it.JID)
		if it.Node != "" {
			el.SetAttr("node", it.Node)
		}
		if it.Name != "" {
			el.SetAttr("name", it.Name)
		}
		q.Append(el)
	}
	return q, nil
}

func infoResult(ids []module.Identity, features []string) *stanza.Element {
	q := stanza.New(NSInfo, "query")
	for _, id := range ids {
		el := stanza.New(NSInfo, "identity").SetAttr("category", id.Category).SetAttr("type", id.Type)
		if id.Name != "" {
			el.SetAttr("name", id.Name)
		}
		q.Append(el)
	}
	for _, f := range features {
		q.Append(stanza.New(NSInfo, "feature").SetAttr("var", f))
	}
	return q
}

var _ module.Registrar = (*Module)(nil)
