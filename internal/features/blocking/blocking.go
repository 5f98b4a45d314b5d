package blocking

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/storage"
)

// Namespaces of XEP-0191.
const (
	NS       = "urn:xmpp:blocking"
	NSErrors = "urn:xmpp:blocking:errors"
)

// kind names the block lists in storage.
const kind = "blocklist"

// hookPrio runs the blocking hooks before the other modules' (roster,
// client state): a blocked stanza must not be processed or held back.
const hookPrio = 1000

// DefaultMaxItems bounds a block list when Config.MaxItems is 0.
const DefaultMaxItems = 1000

// Config is what the module needs.
type Config struct {
	DB   *storage.DB
	Host module.Host
	Log  *slog.Logger
	// MaxItems bounds one user's block list (DefaultMaxItems when 0).
	MaxItems int
	// Presence is the presence module, which owns presence state: who
	// receives a user's presence, and each resource's current one. nil
	// means nobody does (no presence follows a block change).
	Presence Presence
}

// Presence is what blocking asks the presence module (package presence's
// Module) when a block list changes.
type Presence interface {
	// Recipients returns who receives owner's presence: the contacts
	// subscribed to it and the directed presence recipients of owner's
	// resources (RFC 6121 §4.2.2, §4.6).
	Recipients(ctx context.Context, owner jid.JID) ([]jid.JID, error)
	// Current returns a copy of the latest available presence of the
	// resource bound at full, or nil; unblocked contacts receive it again
	// (§3.4), or a plain available presence when it is nil.
	Current(full jid.JID) *stanza.Element
}

// Module is the XEP-0191 implementation.
type Module struct {
	cfg  Config
	log  *slog.Logger
	recs *storage.Records
	seed maphash.Seed
	ids  atomic.Uint64 // push iq ids

	// cacheMu guards lists: owner bare JID → current list.
	cacheMu sync.RWMutex
	lists   map[jid.JID]*list
	// locks serialise loading and changing one user's list (striped).
	locks [64]sync.Mutex

	// sessMu guards requested: the sessions that sent a blocklist get and
	// so receive pushes (§3.2), keyed by the session itself.
	sessMu    sync.Mutex
	requested map[module.Conn]bool
}

// New returns the module.
func New(cfg Config) *Module {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.MaxItems <= 0 {
		cfg.MaxItems = DefaultMaxItems
	}
	return &Module{
		cfg:       cfg,
		log:       cfg.Log.With("module", "blocking"),
		recs:      cfg.DB.Records(kind),
		seed:      maphash.MakeSeed(),
		lists:     map[jid.JID]*list{},
		requested: map[module.Conn]bool{},
	}
}

// Register declares the feature, the iq handlers and the hooks.
func (m *Module) Register(reg *module.Registry) {
	reg.Feature(NS)
	reg.AccountFeature(NS)
	reg.IQ(module.Account, stanza.Get, NS, "blocklist", m.getList)
	reg.IQ(module.Account, stanza.Set, NS, "block", m.block)
	reg.IQ(module.Account, stanza.Set, NS, "unblock", m.unblock)
	reg.Hook(module.Filter, hookPrio, m.filter)
	reg.Hook(module.InboundMessage, hookPrio, m.inboundMessage)
	reg.Hook(module.InboundPresence, hookPrio, m.inboundPresence)
	reg.Hook(module.InboundIQ, hookPrio, m.inboundIQ)
	reg.Hook(module.SessionBound, 0, m.sessionBound)
	reg.Hook(module.SessionClosed, 0, m.sessionClosed)
}

func (m *Module) lock(owner jid.JID) *sync.Mutex {
	h := maphash.String(m.seed, owner.String())
	return &m.locks[h%uint64(len(m.locks))]
}

// Blocks reports whether owner (a local account) blocked contact. It is
// what the offline module asks.
func (m *Module) Blocks(ctx context.Context, owner, contact jid.JID) (bool, error) {
	l, err := m.list(ctx, owner.Bare())
	if err != nil {
		return false, err
	}
	return l.matches(contact), nil
}

// cached returns owner's list if it is in the cache.
func (m *Module) cached(owner jid.JID) *list {
	m.cacheMu.RLock()
	l := m.lists[owner]
	m.cacheMu.RUnlock()
	return l
}

// list returns owner's list, loading it into the cache on first use.
func (m *Module) list(ctx context.Context, owner jid.JID) (*list, error) {
	if l := m.cached(owner); l != nil {
		return l, nil
	}
	mu := m.lock(owner)
	mu.Lock()
	defer mu.Unlock()
	return m.loadLocked(ctx, owner)
}

// loadLocked returns owner's list from the cache or the store; the
// caller holds owner's lock, so no change can slip in between the read
// and the caching.
func (m *Module) loadLocked(ctx context.Context, owner jid.JID) (*list, error) {
	if l := m.cached(owner); l != nil {
		return l, nil
	}
	recs, err := m.recs.List(ctx, owner)
	if err != nil {
		return nil, fmt.Errorf("blocking: load list of %s: %w", owner, err)
	}
	items := make([]jid.JID, 0, len(recs))
	for _, r := range recs {
		j, err := jid.Parse(r.Name)
		if err != nil {
			m.log.Error("ignoring unparsable stored block list item", "jid", owner, "item", r.Name, "err", err)
			continue
		}
		items = append(items, j)
	}
	l := newList(items)
	m.setCached(owner, l)
	return l, nil
}

func (m *Module) setCached(owner jid.JID, l *list) {
	m.cacheMu.Lock()
	m.lists[owner] = l
	m.cacheMu.Unlock()
}

// isLocalAccount reports whether j names an account here (not the
// served domain itself).
func (m *Module) isLocalAccount(j jid.JID) bool {
	return j.Local() != "" && m.cfg.Host.IsLocal(j.Domain())
}

// isServer reports whether j is a served domain itself (the server is
// never a blocked contact of its users).
func (m *Module) isServer(j jid.JID) bool {
	return j.IsDomain() && m.cfg.Host.IsLocal(j.Domain())
}

// errBlocked is the XEP-0191 §3.3 error for a stanza to a blocked contact.
func errBlocked() *stanza.Error {
	return &stanza.Error{Type: stanza.Cancel, Condition: stanza.NotAcceptable, App: stanza.New(NSErrors, "blocked")}
}

func (m *Module) nextID() string {
	return "blockpush-" + strconv.FormatUint(m.ids.Add(1), 10)
}

// wrapErr keeps stanza errors as they are and puts context on the rest.
func wrapErr(what string, err error) error {
	var se *stanza.Error
	if err == nil || errors.As(err, &se) {
		return err
	}
	return fmt.Errorf("blocking: %s: %w", what, err)
}
