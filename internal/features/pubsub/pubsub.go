package pubsub

import (
	"context"
	"log/slog"
	"slices"
	"sync"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/storage"
)

// Namespaces of XEP-0060 and XEP-0163.
const (
	NS      = "http://jabber.org/protocol/pubsub"
	NSOwner = "http://jabber.org/protocol/pubsub#owner"
	NSEvent = "http://jabber.org/protocol/pubsub#event"
	NSRSM   = "http://jabber.org/protocol/rsm"
	nsInfo  = "http://jabber.org/protocol/disco#info"
	nsItems = "http://jabber.org/protocol/disco#items"
)

// Defaults for zero Config fields.
const (
	DefaultMaxItemBytes    = 256 << 10
	DefaultMaxNodesPerUser = 1000
	DefaultMaxItems        = 1000
)

// Contacts is what PEP needs of the roster (the server passes an adapter
// over the roster module).
type Contacts interface {
	// Relation says how contact stands in owner's roster: whether contact
	// receives owner's presence (subscription from or both), whether it
	// has an item at all, and its groups.
	Relation(ctx context.Context, owner, contact jid.JID) (presence, inRoster bool, groups []string, err error)
	// Watchers returns the contacts that receive owner's presence.
	Watchers(ctx context.Context, owner jid.JID) ([]jid.JID, error)
	// Watched returns the contacts whose presence user receives
	// (subscription to or both).
	Watched(ctx context.Context, user jid.JID) ([]jid.JID, error)
}

// Config is what the module needs.
type Config struct {
	Host     module.Host
	DB       *storage.DB
	Log      *slog.Logger
	Contacts Contacts
	// Domains are the served domains; with Subdomain set, a PubSub
	// service runs on Subdomain.<each domain>.
	Domains   []string
	Subdomain string
	// Create says who may create nodes on the service: "everyone",
	// "local" (accounts of the served domains) or "admins".
	Create string
	Admins []string
	// MaxItemBytes bounds one item's payload; MaxNodesPerUser the nodes
	// one user creates (on their account or on the service); MaxItems the
	// items a node keeps (pubsub#max_items=max).
	MaxItemBytes    int
	MaxNodesPerUser int
	MaxItems        int
	// Private, when set, mirrors XEP-0402 bookmarks into XEP-0048 private
	// XML and back (XEP-0411).
	Private Private
	// VCards, when set, adds the XEP-0153 avatar hash to presence.
	VCards VCards
	// Republish, when set (with VCards), sends a session's presence again
	// after edit changed it (the presence module's Republish): a vCard
	// whose photo changed updates the hash in the presence contacts have.
	Republish func(ctx context.Context, full jid.JID, edit func(*stanza.Element) bool)
}

// Module is PEP on every account and, when configured, the PubSub service.
type Module struct {
	cfg      Config
	log      *slog.Logger
	host     module.Host
	store    *Store
	contacts Contacts
	caps     *capsCache
	svc      *service
	admins   map[jid.JID]bool
	avatars  *avatars

	// mu guards sessions, queries and remote.
	mu          sync.Mutex
	sessions    map[module.Conn]*sessionCaps
	queries     *pendingQueries
	remote      map[jid.JID]map[jid.JID]*remoteCaps // bare → full → caps
	remoteCount int
}

// New returns the module.
func New(cfg Config) *Module {
	if cfg.MaxItemBytes <= 0 {
		cfg.MaxItemBytes = DefaultMaxItemBytes
	}
	if cfg.MaxNodesPerUser <= 0 {
		cfg.MaxNodesPerUser = DefaultMaxNodesPerUser
	}
	if cfg.MaxItems <= 0 {
		cfg.MaxItems = DefaultMaxItems
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	m := &Module{
		cfg: cfg, log: cfg.Log.With("component", "pubsub"), host: cfg.Host, contacts: cfg.Contacts,
		store: NewStore(cfg.DB), admins: map[jid.JID]bool{}, sessions: map[module.Conn]*sessionCaps{},
		remote: map[jid.JID]map[jid.JID]*remoteCaps{},
	}
	for _, a := range cfg.Admins {
		if j, err := jid.Parse(a); err == nil {
			m.admins[j.Bare()] = true
		}
	}
	m.caps = newCapsCache(m.store)
	if cfg.VCards != nil {
		m.avatars = newAvatars(cfg.VCards)
	}
	if cfg.Subdomain != "" {
		m.svc = &service{m: m, domains: map[string]bool{}}
		for _, d := range cfg.Domains {
			m.svc.domains[cfg.Subdomain+"."+d] = true
		}
	}
	return m
}

// pepFeatures are the PubSub features of every account (XEP-0163 §4).
var pepFeatures = []string{
	NS, NS + "#publish", NS + "#auto-create", NS + "#auto-subscribe", NS + "#publish-options",
	NS + "#retrieve-items", NS + "#retract-items", NS + "#purge-nodes", NS + "#delete-nodes",
	NS + "#config-node", NS + "#create-nodes", NS + "#access-presence", NS + "#access-open",
	NS + "#access-roster", NS + "#access-whitelist", NS + "#persistent-items", NS + "#last-published",
	NS + "#filtered-notifications", NS + "#item-ids", NS + "#rsm", NS + "#multi-items",
	NS + "#retrieve-default", NS + "#modify-affiliations", NS + "#retrieve-affiliations",
}

// Register declares PEP's iq handlers, disco features, the hooks that
// follow entity capabilities, and the service.
func (m *Module) Register(reg *module.Registry) {
	reg.AccountFeature(pepFeatures...)
	reg.AccountIdentity(module.Identity{Category: "pubsub", Type: "pep"})
	for _, typ := range []string{stanza.Get, stanza.Set} {
		reg.IQ(module.Account, typ, NS, "pubsub", m.pepIQ)
		reg.IQ(module.Account, typ, NSOwner, "pubsub", m.pepIQ)
	}
	reg.AccountItems(m.pepItems)
	reg.Hook(module.InboundPresence, 50, m.inboundPresence)
	reg.Hook(module.Available, -10, m.available)
	reg.Hook(module.SessionClosed, 0, m.sessionClosed)
	reg.Hook(module.InboundIQ, 50, m.inboundIQ)
	if m.svc != nil {
		m.svc.register(reg)
	}
}

// pepIQ answers a PubSub request addressed to an account (or to no one:
// the sender's own).
func (m *Module) pepIQ(ctx context.Context, iq stanza.IQ) (*stanza.Element, error) {
	owner := iq.From.Bare()
	if !iq.To.IsZero() {
		owner = iq.To.Bare()
	}
	sp := space{key: owner.String(), addr: owner, pep: true, owner: owner}
	return m.handle(ctx, sp, iq.From, iq.Type, iq.Payload)
}

// pepItems lists an account's PEP nodes that requester may read, as
// disco#items of the account (XEP-0060 §5.2 on a PEP service).
func (m *Module) pepItems(ctx context.Context, account, requester jid.JID) ([]module.DiscoItem, error) {
	sp := space{key: account.String(), addr: account, pep: true, owner: account}
	nodes, err := m.store.Nodes(ctx, sp.key)
	if err != nil {
		return nil, err
	}
	var out []module.DiscoItem
	for _, n := range nodes {
		if m.mayRead(ctx, sp, n, requester) == nil {
			out = append(out, module.DiscoItem{JID: account.String(), Node: n.Node, Name: n.Config.Title})
		}
	}
	return out, nil
}

// space is one publish-subscribe service: a PEP account or the service on
// a domain.
type space struct {
	key   string  // the storage key
	addr  jid.JID // the address it answers as
	pep   bool
	owner jid.JID // the PEP account (zero for the service)
}

// mayCreate reports whether who may create nodes on sp.
func (m *Module) mayCreate(sp space, who jid.JID) bool {
	if sp.pep {
		return who.Bare() == sp.owner
	}
	switch m.cfg.Create {
	case "everyone":
		return true
	case "admins":
		return m.admins[who.Bare()]
	default: // local
		return m.host.IsLocal(who.Domain()) || m.admins[who.Bare()]
	}
}

func contains(list []string, s string) bool { return slices.Contains(list, s) }

var _ module.Registrar = (*Module)(nil)
