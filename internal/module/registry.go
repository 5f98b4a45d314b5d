package module

import (
	"context"
	"fmt"
	"slices"
	"sync"

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
// (before the listeners open); lookups happen concurrently afterwards.
type Registry struct {
	// mu guards every field below.
	mu             sync.RWMutex
	serverIQ       map[iqKey]IQHandler
	accountIQ      map[iqKey]IQHandler
	features       []string
	accountFeats   []string
	identities     []Identity
	streamFeatures []func(jid.JID) *stanza.Element
	serverItems    []func(domain string) []DiscoItem
	hooks          map[HookKind][]hookEntry
	// Extension points for c2s (conn.go, preauth.go); maps made on first use.
	nonzas          map[nsName]NonzaHandler
	preAuthIQ       map[iqKey]PreAuthIQHandler
	preAuthFeatures []func(PreAuth) *stanza.Element
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{
		serverIQ:  map[iqKey]IQHandler{},
		accountIQ: map[iqKey]IQHandler{},
		hooks:     map[HookKind][]hookEntry{},
	}
}

// IQ registers h for iqs of type typ (stanza.Get or stanza.Set) whose payload
// is {space}local, addressed to the given targets. A duplicate registration
// panics: it is a wiring bug found at start-up.
func (r *Registry) IQ(target Target, typ, space, local string, h IQHandler) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := iqKey{typ, space, local}
	for _, t := range []struct {
		bit Target
		m   map[iqKey]IQHandler
	}{{Server, r.serverIQ}, {Account, r.accountIQ}} {
		if target&t.bit == 0 {
			continue
		}
		if _, dup := t.m[k]; dup {
			panic(fmt.Sprintf("module: duplicate iq handler for %s {%s}%s", typ, space, local))
		}
		t.m[k] = h
	}
}

// Feature declares a disco#info feature of the server.
func (r *Registry) Feature(ns ...string) {
	r.mu.Lock()
	r.features = append(r.features, ns...)
	r.mu.Unlock()
}

// AccountFeature declares a disco#info feature of every account.
func (r *Registry) AccountFeature(ns ...string) {
	r.mu.Lock()
	r.accountFeats = append(r.accountFeats, ns...)
	r.mu.Unlock()
}

// Identity declares a disco#info identity of the server.
func (r *Registry) Identity(id Identity) {
	r.mu.Lock()
	r.identities = append(r.identities, id)
	r.mu.Unlock()
}

// StreamFeature declares an element offered in <stream:features/> after
// authentication. f receives the authenticated bare JID and may return nil
// to offer nothing to that user.
func (r *Registry) StreamFeature(f func(user jid.JID) *stanza.Element) {
	r.mu.Lock()
	r.streamFeatures = append(r.streamFeatures, f)
	r.mu.Unlock()
}

// ServerItems declares disco#items of the server: f receives the served
// domain queried and returns the items to list for it (XEP-0030 §4).
func (r *Registry) ServerItems(f func(domain string) []DiscoItem) {
	r.mu.Lock()
	r.serverItems = append(r.serverItems, f)
	r.mu.Unlock()
}

// Items returns the disco#items of the served domain, in registration order.
func (r *Registry) Items(domain string) []DiscoItem {
	r.mu.RLock()
	fs := slices.Clone(r.serverItems)
	r.mu.RUnlock()
	var out []DiscoItem
	for _, f := range fs {
		out = append(out, f(domain)...)
	}
	return out
}

// LookupIQ returns the handler for an iq payload addressed to target, or nil.
func (r *Registry) LookupIQ(target Target, typ, space, local string) IQHandler {
	r.mu.RLock()
	defer r.mu.RUnlock()
	m := r.serverIQ
	if target == Account {
		m = r.accountIQ
	}
	return m[iqKey{typ, space, local}]
}

// Features returns the sorted, de-duplicated server features.
func (r *Registry) Features() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return sortedUnique(r.features)
}

// AccountFeatures returns the sorted, de-duplicated account features.
func (r *Registry) AccountFeatures() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return sortedUnique(r.accountFeats)
}

// Identities returns the server identities.
func (r *Registry) Identities() []Identity {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return slices.Clone(r.identities)
}

// StreamFeatures returns the post-authentication stream features for user.
func (r *Registry) StreamFeatures(user jid.JID) []*stanza.Element {
	r.mu.RLock()
	fs := slices.Clone(r.streamFeatures)
	r.mu.RUnlock()
	var out []*stanza.Element
	for _, f := range fs {
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
