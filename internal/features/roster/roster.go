package roster

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/storage"
)

// Deps is what the roster module needs.
type Deps struct {
	Log    *slog.Logger
	DB     *storage.DB
	Host   module.Host
	Limits config.Roster
	// Shared supplies the contacts shared roster groups add to a user's
	// roster (package sharedgroup's Store); nil means no shared groups.
	Shared SharedGroups
}

// SharedGroups is what the roster asks about shared roster groups.
type SharedGroups interface {
	// ContactsOf returns the members of user's shared groups (user
	// excluded), each with the names of the groups they share.
	ContactsOf(ctx context.Context, user jid.JID) (map[jid.JID][]string, error)
}

// Module serves rosters. The rosters of users with a bound session are
// cached in memory (loaded at bind, dropped when the last session ends);
// every change goes through the database first and then the cache, under
// one write lock, so the cache never disagrees with what was committed
// (a load racing with a write is redone, see acquire).
type Module struct {
	log    *slog.Logger
	store  *Store
	shared SharedGroups // nil: none
	host   module.Host
	lim    config.Roster

	// wmu serialises writes (transaction + cache update).
	wmu sync.Mutex
	// pmu keeps pushes in version order; taken before wmu is released.
	pmu sync.Mutex
	// mu guards cache, gen, bound and interested.
	mu         sync.RWMutex
	cache      map[jid.JID]*entry
	gen        uint64               // bumped by every committed write
	bound      map[module.Conn]bool // sessions counted in cache refs
	interested map[module.Conn]bool // session → asked with 'ver' (XEP-0237)

	onRemove atomic.Pointer[RemovalHook]
	onShared atomic.Pointer[SharedHook]
	pushSeq  atomic.Uint64
}

type entry struct {
	refs int
	view *View
}

// New returns the roster module.
func New(d Deps) *Module {
	return &Module{
		log:        d.Log.With("component", "roster"),
		store:      NewStore(d.DB),
		shared:     d.Shared,
		host:       d.Host,
		lim:        d.Limits,
		cache:      map[jid.JID]*entry{},
		bound:      map[module.Conn]bool{},
		interested: map[module.Conn]bool{},
	}
}

// Store returns the underlying store.
func (m *Module) Store() *Store { return m.store }

// SetRemovalHook installs the function told about removed items (the
// presence module sends the unsubscribe/unsubscribed stanzas and
// unavailable presence it implies).
func (m *Module) SetRemovalHook(h RemovalHook) { m.onRemove.Store(&h) }

// Register declares the roster iq handlers, the stream features and the
// session hooks.
func (m *Module) Register(reg *module.Registry) {
	reg.IQ(module.Account, stanza.Get, NS, "query", m.handleGet)
	reg.IQ(module.Account, stanza.Set, NS, "query", m.handleSet)
	reg.StreamFeature(func(jid.JID) *stanza.Element { return stanza.New(NSVersioning, "ver") })
	reg.StreamFeature(func(jid.JID) *stanza.Element { return stanza.New(NSPreApproval, "sub") })
	reg.Hook(module.SessionBound, 0, m.sessionBound)
	// Last at SessionClosed: the unavailable broadcast of the presence
	// module (and any other hook) still finds the roster cached instead
	// of reading it again from the database.
	reg.Hook(module.SessionClosed, releasePrio, m.sessionClosed)
}

// releasePrio runs the roster's SessionClosed hook after the others.
const releasePrio = -100

func (m *Module) sessionBound(ctx context.Context, ev *module.Event) (bool, error) {
	if ev.Conn == nil {
		return false, nil
	}
	return false, m.acquire(ctx, ev.Conn)
}

func (m *Module) sessionClosed(_ context.Context, ev *module.Event) (bool, error) {
	if ev.Conn != nil {
		m.release(ev.Conn)
	}
	return false, nil
}

// acquire counts a bound session c of an account and makes sure the
// account's roster is cached, with the shared groups read again (so that
// administrators' changes show at the next login). The database is read
// without the write lock; a write committed meanwhile (seen through gen)
// makes it read again, and after a few such races it reads under the lock.
func (m *Module) acquire(ctx context.Context, c module.Conn) error {
	full := c.JID()
	user := full.Bare()
	shared, err := m.sharedOf(ctx, user)
	if err != nil {
		return fmt.Errorf("roster: bind %s: %w", full, err)
	}
	for attempt := 0; ; attempt++ {
		locked := attempt >= 3
		if locked {
			m.wmu.Lock()
		}
		done, err := m.tryAcquire(ctx, c, shared)
		if locked {
			m.wmu.Unlock()
		}
		if err != nil || done {
			return err
		}
	}
}

func (m *Module) tryAcquire(ctx context.Context, c module.Conn, shared map[jid.JID][]string) (bool, error) {
	full := c.JID()
	user := full.Bare()
	m.mu.RLock()
	_, cached := m.cache[user]
	gen := m.gen
	m.mu.RUnlock()
	var loaded *View
	if !cached {
		items, ver, err := m.store.Load(ctx, user)
		if err != nil {
			return false, fmt.Errorf("roster: bind %s: %w", full, err)
		}
		loaded = newView(user, items, ver, shared)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.cache[user]
	switch {
	case e != nil:
		e.view = e.view.withShared(shared) // items stay those writes keep current
	case loaded == nil || m.gen != gen:
		return false, nil // evicted, or a write may have been missed: read again
	default:
		e = &entry{view: loaded}
		m.cache[user] = e
	}
	if !m.bound[c] {
		m.bound[c] = true
		e.refs++
	}
	return true, nil
}

func (m *Module) release(c module.Conn) {
	user := c.JID().Bare()
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.interested, c)
	if !m.bound[c] {
		return
	}
	delete(m.bound, c)
	if e := m.cache[user]; e != nil {
		if e.refs--; e.refs <= 0 {
			delete(m.cache, user)
		}
	}
}

// View returns user's roster as the user sees it: from the cache when the
// user is online, else from the database.
func (m *Module) View(ctx context.Context, user jid.JID) (*View, error) {
	if v := m.Cached(user); v != nil {
		return v, nil
	}
	items, ver, err := m.store.Load(ctx, user)
	if err != nil {
		return nil, err
	}
	shared, err := m.sharedOf(ctx, user)
	if err != nil {
		return nil, fmt.Errorf("roster: view of %s: %w", user, err)
	}
	return newView(user, items, ver, shared), nil
}

// sharedOf returns the contacts user's shared groups add (none without
// Deps.Shared).
func (m *Module) sharedOf(ctx context.Context, user jid.JID) (map[jid.JID][]string, error) {
	if m.shared == nil {
		return nil, nil
	}
	return m.shared.ContactsOf(ctx, user)
}

// Cached returns user's cached roster, or nil when user has no session.
func (m *Module) Cached(user jid.JID) *View {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if e := m.cache[user]; e != nil {
		return e.view
	}
	return nil
}

// SharesGroup reports whether a and b are members of a common shared
// group, as far as the rosters cached for either of them know.
func (m *Module) SharesGroup(a, b jid.JID) bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if e := m.cache[a]; e != nil && e.view.IsShared(b) {
		return true
	}
	if e := m.cache[b]; e != nil && e.view.IsShared(a) {
		return true
	}
	return false
}

// change is one item changed by a write; item nil means removed.
type change struct {
	user, contact jid.JID
	item          *Item
}

// batch collects a write's changes inside the transaction.
type batch struct {
	changes []change
}

func (b *batch) add(user, contact jid.JID, it *Item) {
	b.changes = append(b.changes, change{user: user, contact: contact, item: it})
}

// write runs fn in a transaction, bumps the version of every user whose
// roster changed, updates the cache and pushes the changes to the users'
// interested resources.
func (m *Module) write(ctx context.Context, fn func(*Tx, *batch) error) error {
	m.wmu.Lock()
	locked := true
	defer func() {
		if locked {
			m.wmu.Unlock()
		}
	}()
	var b batch
	vers := map[jid.JID]Version{}
	err := m.store.Update(ctx, func(tx *Tx) error {
		b = batch{}
		clear(vers)
		if err := fn(tx, &b); err != nil {
			return err
		}
		for _, c := range b.changes {
			if _, done := vers[c.user]; done {
				continue
			}
			v, err := tx.Bump(c.user)
			if err != nil {
				return err
			}
			vers[c.user] = v
		}
		return nil
	})
	if err != nil {
		return err
	}
	m.applyToCache(b.changes, vers)
	m.pmu.Lock()
	defer m.pmu.Unlock()
	m.wmu.Unlock()
	locked = false
	for _, c := range b.changes {
		m.push(ctx, c, vers[c.user])
	}
	return nil
}

func (m *Module) applyToCache(changes []change, vers map[jid.JID]Version) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.gen++
	for _, c := range changes {
		if e := m.cache[c.user]; e != nil {
			e.view = e.view.with(c.contact, c.item, vers[c.user])
		}
	}
}

// push sends a roster push for one change to every interested resource of
// the user (RFC 6121 §2.1.6).
func (m *Module) push(ctx context.Context, c change, v Version) {
	var itemEl *stanza.Element
	ver := v.String()
	if view := m.Cached(c.user); view != nil {
		ver = view.Version()
		if it, ok := view.Lookup(c.contact); ok {
			itemEl = it.Element()
		}
	} else if c.item != nil {
		itemEl = c.item.Element()
	}
	if itemEl == nil {
		itemEl = removedElement(c.contact)
	}
	bare := c.user.String()
	for _, s := range m.host.Sessions(c.user) {
		full := s.JID()
		m.mu.RLock()
		versioned, ok := m.interested[s]
		m.mu.RUnlock()
		if !ok {
			continue
		}
		q := stanza.New(NS, "query").Append(itemEl)
		if versioned {
			q.SetAttr("ver", ver)
		}
		iq := stanza.New(stanza.NSClient, stanza.KindIQ).
			SetAttr("type", stanza.Set).
			SetAttr("id", "push-"+strconv.FormatUint(m.pushSeq.Add(1), 10)).
			SetAttr("from", bare).
			SetAttr("to", full.String()).
			Append(q)
		m.host.Deliver(ctx, full, iq)
	}
}

func (m *Module) setInterested(full jid.JID, versioned bool) {
	s := m.host.Session(full)
	if s == nil {
		return // not a local session: nothing to push to
	}
	m.mu.Lock()
	m.interested[s] = versioned
	m.mu.Unlock()
}

var _ module.Registrar = (*Module)(nil)

// Subscribed reports whether requester may see owner's presence-related
// data: it is owner's own account, or owner's roster gives requester's
// bare JID subscription 'from' or 'both' (shared groups included). Its
// signature fits authorisation callbacks such as lastactivity's.
func (m *Module) Subscribed(ctx context.Context, owner, requester jid.JID) (bool, error) {
	owner, requester = owner.Bare(), requester.Bare()
	if owner == requester {
		return true, nil
	}
	if m.SharesGroup(owner, requester) {
		return true, nil
	}
	v, err := m.View(ctx, owner)
	if err != nil {
		return false, err
	}
	sub, _ := v.Sub(requester)
	return sub.HasFrom(), nil
}

// Pending returns user's unanswered inbound subscription requests.
func (m *Module) Pending(ctx context.Context, user jid.JID) ([]Pending, error) {
	return m.store.Pending(ctx, user)
}
