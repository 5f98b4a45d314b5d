package module

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/stanza"
)

// IQHandler answers one iq get or set. It returns the payload of the result
// (nil for an empty result) or an error: a *stanza.Error becomes the error
// reply, any other error becomes internal-server-error. It never writes the
// reply itself.
type IQHandler func(ctx context.Context, iq stanza.IQ) (*stanza.Element, error)

// Target says which addresses an IQ handler answers for.
type Target int

const (
	// Server handlers answer iqs addressed to a served domain (or with no
	// 'to', which RFC 6120 §10.3.3 treats as the user's own account only for
	// handlers that also register for Account).
	Server Target = 1 << iota
	// Account handlers answer iqs addressed to a local bare JID, on behalf of
	// the account (RFC 6120 §10.5.3.1), including the user's own.
	Account
)

// Identity is a XEP-0030 identity.
type Identity struct {
	Category, Type, Name string
}

// DiscoItem is a XEP-0030 item (a service such as a MUC component).
type DiscoItem struct {
	JID, Node, Name string
}

// Registrar is a feature module.
type Registrar interface {
	Register(reg *Registry)
}

type iqKey struct {
	typ, space, local string
}

// Registry holds what the modules declared. Registration happens at start-up
// (before the listeners open); lookups happen concurrently afterwards, on
// every stanza. Lookups take no lock: the tables are immutable once
// published, and each registration publishes a modified copy through an
// atomic pointer (copy on write; registrations are few and happen once).
type Registry struct {
	mu sync.Mutex // serialises registrations (writers only)
	t  atomic.Pointer[tables]
}

// tables is one published state of the registry; never modified after it
// is stored in Registry.t.
type tables struct {
	serverIQ       map[iqKey]IQHandler
	accountIQ      map[iqKey]IQHandler
	features       []string
	accountFeats   []string
	identities     []Identity
	accountIDs     []Identity
	streamFeatures []func(jid.JID) *stanza.Element
	serverItems    []func(domain string) []DiscoItem
	accountItems   []AccountItemsFunc
	serverNodes    []NodeFunc
	hooks          map[HookKind][]hookEntry
	// Extension points for c2s (conn.go, preauth.go).
	nonzas          map[nsName]NonzaHandler
	preAuthIQ       map[iqKey]PreAuthIQHandler
	preAuthFeatures []func(PreAuth) *stanza.Element
	bind2           map[string]Bind2Handler // XEP-0386 inline features (bind2.go)
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	r := &Registry{}
	r.t.Store(&tables{
		serverIQ:  map[iqKey]IQHandler{},
		accountIQ: map[iqKey]IQHandler{},
		hooks:     map[HookKind][]hookEntry{},
		nonzas:    map[nsName]NonzaHandler{},
		preAuthIQ: map[iqKey]PreAuthIQHandler{},
	})
	return r
}

// tables returns the current tables, for reading only.
func (r *Registry) tables() *tables { return r.t.Load() }

// update applies change to a copy of the tables and publishes the copy.
// change may modify the copy's maps and append to its slices (clipped, so
// an append never writes into an array the published tables share); a
// panic in change (a duplicate registration) publishes nothing.
func (r *Registry) update(change func(t *tables)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.t.Load()
	next := &tables{
		serverIQ:        maps.Clone(old.serverIQ),
		accountIQ:       maps.Clone(old.accountIQ),
		features:        slices.Clip(old.features),
		accountFeats:    slices.Clip(old.accountFeats),
		identities:      slices.Clip(old.identities),
		accountIDs:      slices.Clip(old.accountIDs),
		streamFeatures:  slices.Clip(old.streamFeatures),
		serverItems:     slices.Clip(old.serverItems),
		accountItems:    slices.Clip(old.accountItems),
		serverNodes:     slices.Clip(old.serverNodes),
		hooks:           maps.Clone(old.hooks),
		nonzas:          maps.Clone(old.nonzas),
		preAuthIQ:       maps.Clone(old.preAuthIQ),
		preAuthFeatures: slices.Clip(old.preAuthFeatures),
		bind2:           maps.Clone(old.bind2),
	}
	change(next)
	r.t.Store(next)
}

// IQ registers h for iqs of type typ (stanza.Get or stanza.Set) whose payload
// is {space}local, addressed to the given targets. A duplicate registration
// panics: it is a wiring bug found at start-up.
func (r *Registry) IQ(target Target, typ, space, local string, h IQHandler) {
	k := iqKey{typ, space, local}
	r.update(func(tb *tables) {
		for _, t := range []struct {
			bit Target
			m   map[iqKey]IQHandler
		}{{Server, tb.serverIQ}, {Account, tb.accountIQ}} {
			if target&t.bit == 0 {
				continue
			}
			if _, dup := t.m[k]; dup {
				panic(fmt.Sprintf("module: duplicate iq handler for %s {%s}%s", typ, space, local))
			}
			t.m[k] = h
		}
	})
}

// Feature declares a disco#info feature of the server.
func (r *Registry) Feature(ns ...string) {
	r.update(func(t *tables) { t.features = append(t.features, ns...) })
}

// AccountFeature declares a disco#info feature of every account.
func (r *Registry) AccountFeature(ns ...string) {
	r.update(func(t *tables) { t.accountFeats = append(t.accountFeats, ns...) })
}

// Identity declares a disco#info identity of the server.
func (r *Registry) Identity(id Identity) {
	r.update(func(t *tables) { t.identities = append(t.identities, id) })
}

// AccountIdentity declares a disco#info identity of every account besides
// account/registered (XEP-0163 §4: pubsub/pep).
func (r *Registry) AccountIdentity(id Identity) {
	r.update(func(t *tables) { t.accountIDs = append(t.accountIDs, id) })
}

// AccountIdentities returns the identities declared with AccountIdentity.
func (r *Registry) AccountIdentities() []Identity {
	return slices.Clone(r.tables().accountIDs)
}

// StreamFeature declares an element offered in <stream:features/> after
// authentication. f receives the authenticated bare JID and may return nil
// to offer nothing to that user.
func (r *Registry) StreamFeature(f func(user jid.JID) *stanza.Element) {
	r.update(func(t *tables) { t.streamFeatures = append(t.streamFeatures, f) })
}

// ServerItems declares disco#items of the server: f receives the served
// domain queried and returns the items to list for it (XEP-0030 §4).
func (r *Registry) ServerItems(f func(domain string) []DiscoItem) {
	r.update(func(t *tables) { t.serverItems = append(t.serverItems, f) })
}

// Items returns the disco#items of the served domain, in registration order.
func (r *Registry) Items(domain string) []DiscoItem {
	var out []DiscoItem
	for _, f := range r.tables().serverItems {
		out = append(out, f(domain)...)
	}
	return out
}

// AccountItemsFunc lists disco#items of an account (XEP-0030 §4) as
// requester may see them, e.g. its PEP nodes (XEP-0163).
type AccountItemsFunc func(ctx context.Context, account, requester jid.JID) ([]DiscoItem, error)

// AccountItems declares disco#items of every account.
func (r *Registry) AccountItems(f AccountItemsFunc) {
	r.update(func(t *tables) { t.accountItems = append(t.accountItems, f) })
}

// ItemsOf returns the disco#items of account for requester, in
// registration order.
func (r *Registry) ItemsOf(ctx context.Context, account, requester jid.JID) ([]DiscoItem, error) {
	var out []DiscoItem
	for _, f := range r.tables().accountItems {
		items, err := f(ctx, account, requester)
		if err != nil {
			return nil, err
		}
		out = append(out, items...)
	}
	return out, nil
}

// LookupIQ returns the handler for an iq payload addressed to target, or nil.
func (r *Registry) LookupIQ(target Target, typ, space, local string) IQHandler {
	t := r.tables()
	m := t.serverIQ
	if target == Account {
		m = t.accountIQ
	}
	return m[iqKey{typ, space, local}]
}

// Features returns the sorted, de-duplicated server features.
func (r *Registry) Features() []string {
	return sortedUnique(r.tables().features)
}

// AccountFeatures returns the sorted, de-duplicated account features.
func (r *Registry) AccountFeatures() []string {
	return sortedUnique(r.tables().accountFeats)
}

// Identities returns the server identities.
func (r *Registry) Identities() []Identity {
	return slices.Clone(r.tables().identities)
}

// StreamFeatures returns the post-authentication stream features for user.
func (r *Registry) StreamFeatures(user jid.JID) []*stanza.Element {
	var out []*stanza.Element
	for _, f := range r.tables().streamFeatures {
		if el := f(user); el != nil {
			out = append(out, el)
		}
	}
	return out
}

func sortedUnique(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return slices.Compact(out)
}
