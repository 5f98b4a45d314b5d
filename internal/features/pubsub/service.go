package pubsub

import (
	"context"
	"errors"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/stanza"
)

// service is the PubSub service (XEP-0060) on Subdomain.<each domain>, a
// module.Service.
type service struct {
	m       *Module
	domains map[string]bool
}

// serviceFeatures are the service's disco#info features.
var serviceFeatures = []string{
	nsInfo, nsItems, NS, NS + "#create-nodes", NS + "#instant-nodes", NS + "#config-node", NS + "#create-and-configure",
	NS + "#delete-nodes", NS + "#purge-nodes", NS + "#publish", NS + "#publish-options", NS + "#retract-items",
	NS + "#retrieve-items", NS + "#item-ids", NS + "#rsm", NS + "#persistent-items", NS + "#subscribe",
	NS + "#subscription-options", NS + "#retrieve-subscriptions", NS + "#manage-subscriptions",
	NS + "#retrieve-affiliations", NS + "#modify-affiliations", NS + "#publisher-affiliation",
	NS + "#publish-only-affiliation", NS + "#member-affiliation", NS + "#outcast-affiliation",
	NS + "#access-open", NS + "#access-presence", NS + "#access-roster", NS + "#access-whitelist",
	NS + "#access-authorize", NS + "#retrieve-default", NS + "#last-published", NS + "#meta-data",
}

func (s *service) register(reg *module.Registry) {
	for d := range s.domains {
		s.m.host.AddService(d, s)
	}
	reg.ServerItems(func(domain string) []module.DiscoItem {
		d := s.m.cfg.Subdomain + "." + domain
		if !s.domains[d] {
			return nil
		}
		return []module.DiscoItem{{JID: d, Name: "Publish-subscribe"}}
	})
}

// Route handles a stanza addressed to the service or a JID on it.
func (s *service) Route(ctx context.Context, from, to jid.JID, el *stanza.Element) error {
	typ := el.Attr("type")
	if typ == stanza.TypeError || !to.IsDomain() {
		if el.Local == stanza.KindIQ && (typ == stanza.Get || typ == stanza.Set) {
			return stanza.NewError(stanza.ServiceUnavailable)
		}
		return nil
	}
	sp := space{key: to.Domain(), addr: to}
	switch el.Local {
	case stanza.KindMessage:
		return s.message(ctx, sp, from, el)
	case stanza.KindIQ:
		if typ != stanza.Get && typ != stanza.Set {
			return nil
		}
		res, err := s.iq(ctx, sp, from, typ, el.FirstChild())
		if err != nil {
			var se *stanza.Error
			if !errors.As(err, &se) {
				s.m.log.Error("pubsub request failed", "from", from, "err", err)
				se = stanza.NewError(stanza.InternalServerError)
			}
			return se
		}
		s.m.host.Deliver(ctx, from, stanza.IQResult(el, res, to, from))
	}
	return nil
}

func (s *service) iq(ctx context.Context, sp space, from jid.JID, typ string, p *stanza.Element) (*stanza.Element, error) {
	if p == nil {
		return nil, stanza.Errorf(stanza.Modify, stanza.BadRequest, "an iq get/set needs a child")
	}
	switch {
	case p.Space == nsInfo && p.Local == "query" && typ == stanza.Get:
		return s.info(ctx, sp, from, p.Attr("node"))
	case p.Space == nsItems && p.Local == "query" && typ == stanza.Get:
		return s.discoItems(ctx, sp, from, p.Attr("node"))
	case (p.Space == NS || p.Space == NSOwner) && p.Local == "pubsub":
		return s.m.handle(ctx, sp, from, typ, p)
	}
	return nil, stanza.NewError(stanza.ServiceUnavailable)
}

// info answers disco#info on the service or a node (XEP-0060 §5.1, §5.3,
// §5.4 meta-data).
func (s *service) info(ctx context.Context, sp space, from jid.JID, node string) (*stanza.Element, error) {
	q := stanza.New(nsInfo, "query")
	if node == "" {
		q.Append(stanza.New(nsInfo, "identity").SetAttr("category", "pubsub").SetAttr("type", "service").SetAttr("name", "Publish-subscribe"))
		for _, f := range serviceFeatures {
			q.Append(stanza.New(nsInfo, "feature").SetAttr("var", f))
		}
		return q, nil
	}
	n, err := s.m.node(ctx, sp, node)
	if err != nil {
		return nil, err
	}
	q.SetAttr("node", node)
	q.Append(stanza.New(nsInfo, "identity").SetAttr("category", "pubsub").SetAttr("type", "leaf"))
	q.Append(stanza.New(nsInfo, "feature").SetAttr("var", NS))
	q.Append(renderForm("result", formMetaData, []formField{
		{"pubsub#title", "text-single", []string{n.Config.Title}, nil},
		{"pubsub#type", "text-single", []string{n.Config.Type}, nil},
		{"pubsub#access_model", "list-single", []string{n.Config.AccessModel}, nil},
		{"pubsub#owner", "jid-multi", []string{n.Creator}, nil},
	}))
	return q, nil
}

// discoItems lists the nodes of the service, or the items of a node the
// requester may read (XEP-0060 §5.2, §5.5).
func (s *service) discoItems(ctx context.Context, sp space, from jid.JID, node string) (*stanza.Element, error) {
	q := stanza.New(nsItems, "query")
	if node == "" {
		nodes, err := s.m.store.Nodes(ctx, sp.key)
		if err != nil {
			return nil, err
		}
		for _, n := range nodes {
			it := stanza.New(nsItems, "item").SetAttr("jid", sp.addr.String()).SetAttr("node", n.Node)
			if n.Config.Title != "" {
				it.SetAttr("name", n.Config.Title)
			}
			q.Append(it)
		}
		return q, nil
	}
	n, err := s.m.node(ctx, sp, node)
	if err != nil {
		return nil, err
	}
	if err := s.m.mayRead(ctx, sp, n, from); err != nil {
		return nil, err
	}
	page, _, err := s.m.store.Items(ctx, sp.key, node, ItemQuery{})
	if err != nil {
		return nil, err
	}
	q.SetAttr("node", node)
	for _, it := range page.Items {
		q.Append(stanza.New(nsItems, "item").SetAttr("jid", sp.addr.String()).SetAttr("name", it.ID))
	}
	return q, nil
}

// recipients are the node's subscribers that want notifications; a local
// bare JID is reached at its available resources.
func (s *service) recipients(ctx context.Context, sp space, n StoredNode) []target {
	subs, err := s.m.store.Subscriptions(ctx, sp.key, n.Node)
	if err != nil {
		s.m.log.Warn("reading subscribers failed", "node", n.Node, "err", err)
		return nil
	}
	var out []target
	for _, sub := range subs {
		j, err := jid.Parse(sub.JID)
		if err != nil || sub.State != subSubscribed || !sub.Options.Deliver {
			continue
		}
		if !s.m.host.IsLocal(j.Domain()) || !j.IsBare() {
			out = append(out, target{to: j, subid: sub.SubID})
			continue
		}
		for _, sess := range s.m.host.BestResources(j, "headline") {
			out = append(out, target{to: sess.JID(), subid: sub.SubID})
		}
	}
	return out
}
