package router

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/stanza"
)

// Session is a bound client resource as the router sees it (JID,
// Deliver, Presence, Close); the type is module.Session, so that features
// see sessions through module.Host without importing the router.
type Session = module.Session

// Remote reaches addresses not served by this node: other servers (s2s)
// and, later, other nodes of a cluster. Route returns a *stanza.Error when
// the address cannot be reached.
type Remote interface {
	Route(ctx context.Context, to jid.JID, el *stanza.Element) error
}

// Service is a component served on a domain of its own (see
// module.Service, which it is).
type Service = module.Service

// ErrNoSession is returned by Bind callers' lookups when a full JID is not bound.
var ErrNoSession = errors.New("router: no such session")

// Router routes stanzas between local sessions and modules.
type Router struct {
	log     *slog.Logger
	reg     *module.Registry
	domains map[string]bool
	remote  Remote
	// services maps a service domain to its handler; copied on write.
	services atomic.Pointer[map[string]Service]

	// mu guards full and bare.
	mu   sync.RWMutex
	full map[jid.JID]Session
	bare map[jid.JID][]Session

	// dedupe drops messages a client sends again (dedupe.go).
	dedupe *dedupe

	// UserExists reports whether a local bare JID is an account. It is used
	// to answer for unknown users; nil means every user exists.
	UserExists func(ctx context.Context, bare jid.JID) (bool, error)
}

// New returns a router for the given served domains.
func New(log *slog.Logger, reg *module.Registry, domains []string) *Router {
	r := &Router{
		log:     log.With("component", "router"),
		reg:     reg,
		domains: map[string]bool{},
		full:    map[jid.JID]Session{},
		bare:    map[jid.JID][]Session{},
		dedupe:  newDedupe(0),
	}
	for _, d := range domains {
		r.domains[strings.ToLower(d)] = true
	}
	return r
}

// SetDedupeWindow sets how long a routed message's origin-id is
// remembered to drop a client's resend of it (dedupe.go); at least ten
// minutes. Call it before routing starts.
func (r *Router) SetDedupeWindow(d time.Duration) { r.dedupe = newDedupe(d) }

// SetRemote installs the route to other servers or nodes.
func (r *Router) SetRemote(rm Remote) { r.remote = rm }

// AddService makes h the handler of every stanza addressed to domain (or
// to any JID on it). Service domains are not user domains: IsLocal stays
// false for them. A domain registered twice panics (a wiring bug).
func (r *Router) AddService(domain string, h Service) {
	domain = strings.ToLower(domain)
	for {
		old := r.services.Load()
		next := map[string]Service{}
		if old != nil {
			for d, s := range *old {
				next[d] = s
			}
		}
		if _, dup := next[domain]; dup || r.domains[domain] {
			panic(fmt.Sprintf("router: %s is already served", domain))
		}
		next[domain] = h
		if r.services.CompareAndSwap(old, &next) {
			return
		}
	}
}

// ServiceFor returns the service registered for domain, or nil.
func (r *Router) ServiceFor(domain string) Service {
	m := r.services.Load()
	if m == nil {
		return nil
	}
	return (*m)[domain]
}

// Registry returns the module registry the router dispatches to.
func (r *Router) Registry() *module.Registry { return r.reg }

// IsLocal reports whether domain is served here.
func (r *Router) IsLocal(domain string) bool { return r.domains[domain] }

// Bind adds s to the session table. If the full JID was already bound, the
// old session is returned (the caller closes it with a conflict error).
func (r *Router) Bind(s Session) (old Session) {
	full := s.JID()
	b := full.Bare()
	r.mu.Lock()
	defer r.mu.Unlock()
	old = r.full[full]
	r.full[full] = s
	list := r.bare[b]
	if old != nil {
		list = removeSession(list, old)
	}
	r.bare[b] = append(list, s)
	return old
}

// Unbind removes s if it is still the session bound at its JID.
func (r *Router) Unbind(s Session) {
	full := s.JID()
	b := full.Bare()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.full[full] == s {
		delete(r.full, full)
	}
	list := removeSession(r.bare[b], s)
	if len(list) == 0 {
		delete(r.bare, b)
	} else {
		r.bare[b] = list
	}
}

func removeSession(list []Session, s Session) []Session {
	for i, x := range list {
		if x == s {
			out := append(list[:i:i], list[i+1:]...)
			return out
		}
	}
	return list
}

// Session returns the session bound at full, or nil.
func (r *Router) Session(full jid.JID) Session {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.full[full]
}

// Sessions returns the sessions of a bare JID.
func (r *Router) Sessions(bare jid.JID) []Session {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return append([]Session(nil), r.bare[bare]...)
}

// hasSession reports whether the bare JID has a bound session.
func (r *Router) hasSession(bare jid.JID) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.bare[bare]) > 0
}

// All returns every bound session (for shutdown and admin).
func (r *Router) All() []Session {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]Session, 0, len(r.full))
	for _, s := range r.full {
		out = append(out, s)
	}
	return out
}

// Count returns the number of bound sessions.
func (r *Router) Count() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.full)
}

// Route delivers el, sent by from (a full JID the server stamped), to the
// address in its 'to' attribute. It returns a *stanza.Error the caller must
// bounce to the sender, or nil when the stanza was delivered, handled or
// (where the RFC says so) silently dropped.
func (r *Router) Route(ctx context.Context, from jid.JID, el *stanza.Element) error {
	var to jid.JID
	if s := el.Attr("to"); s != "" {
		t, err := jid.Parse(s)
		if err != nil {
			return stanza.Errorf(stanza.Modify, stanza.JIDMalformed, "invalid 'to' address")
		}
		to = t
	}
	switch el.Local {
	case stanza.KindIQ:
		return r.routeIQ(ctx, from, to, el)
	case stanza.KindMessage:
		return r.routeMessage(ctx, from, to, el)
	case stanza.KindPresence:
		return r.routePresence(ctx, from, to, el)
	}
	return stanza.NewError(stanza.BadRequest)
}

// Deliver routes a stanza the server itself generated (replies, pushes):
// errors are logged, never bounced, so no error loop can start.
func (r *Router) Deliver(ctx context.Context, to jid.JID, el *stanza.Element) {
	if !r.IsLocal(to.Domain()) {
		if svc := r.ServiceFor(to.Domain()); svc != nil {
			if err := svc.Route(ctx, r.senderOf(el), to, el); err != nil {
				r.log.Debug("server stanza to service dropped", "to", to, "err", err)
			}
			return
		}
		if r.remote != nil {
			if err := r.remote.Route(ctx, to, el); err != nil {
				r.log.Debug("server stanza to remote dropped", "to", to, "err", err)
			}
		}
		return
	}
	from := r.senderOf(el)
	if to.IsBare() && isAnswer(el) {
		r.answerToAccount(ctx, from, to, el)
		return
	}
	if to.IsBare() {
		for _, s := range r.Sessions(to) {
			r.deliverTo(ctx, from, s, el)
		}
		return
	}
	if s := r.Session(to); s != nil {
		r.deliverTo(ctx, from, s, el)
	}
}

// isAnswer reports whether el is an iq result or error.
func isAnswer(el *stanza.Element) bool {
	t := el.Attr("type")
	return el.Local == stanza.KindIQ && (t == stanza.Result || t == stanza.TypeError)
}

// answerToAccount hands an iq answer a service generated for a bare
// account JID (the app server answering a push notification the server
// published for the account, XEP-0357 §7) to the InboundIQ hooks, as
// routeIQ does for one that arrives from outside; answers to an account
// are consumed by the server, never delivered to its resources.
func (r *Router) answerToAccount(ctx context.Context, from, to jid.JID, el *stanza.Element) {
	if !r.reg.HasHooks(module.InboundIQ) {
		return
	}
	if _, err := r.reg.RunHooks(ctx, module.InboundIQ, &module.Event{From: from, To: to, Stanza: el}); err != nil {
		r.log.Debug("server answer to an account dropped", "to", to, "err", err)
	}
}

// senderOf reads the 'from' of a server-generated stanza (zero if absent).
func (r *Router) senderOf(el *stanza.Element) jid.JID {
	f, err := jid.Parse(el.Attr("from"))
	if err != nil {
		return jid.JID{}
	}
	return f
}

// deliverTo hands el from sender 'from' to session s, after the Filter
// hooks (blocking, client state) had their say. It reports whether the
// stanza was queued.
func (r *Router) deliverTo(ctx context.Context, from jid.JID, s Session, el *stanza.Element) bool {
	if r.reg.HasHooks(module.Filter) {
		ev := &module.Event{From: from, To: s.JID(), Stanza: el, Conn: s}
		if drop, err := r.reg.RunHooks(ctx, module.Filter, ev); err != nil || drop {
			if err != nil {
				r.log.Warn("delivery filter failed", "jid", s.JID(), "err", err)
			}
			return err == nil && ev.Deferred // held back for later delivery counts as delivered
		}
	}
	if err := s.Deliver(el); err != nil {
		r.log.Debug("delivery to closing session failed", "jid", s.JID(), "err", err)
		return false
	}
	return true
}

// remoteRoute hands el, sent by from, to the service registered for its
// domain, or else to other servers if any are reachable.
func (r *Router) remoteRoute(ctx context.Context, from, to jid.JID, el *stanza.Element) error {
	if svc := r.ServiceFor(to.Domain()); svc != nil {
		return svc.Route(ctx, from, to, el)
	}
	if r.remote == nil {
		return stanza.Errorf(stanza.Cancel, stanza.RemoteServerNotFound, "no route to %s", to.Domain())
	}
	if err := r.remote.Route(ctx, to, el); err != nil {
		return fmt.Errorf("router: to %s: %w", to.Domain(), err)
	}
	return nil
}

// AccountExists implements module.Host: whether bare is an account on a
// served domain, asked the way the delivery rules ask (accountExists: a
// user with a session is one, else Router.UserExists; nil means every
// user exists).
func (r *Router) AccountExists(ctx context.Context, bare jid.JID) (bool, error) {
	if bare.Local() == "" || !r.IsLocal(bare.Domain()) {
		return false, nil
	}
	return r.accountExists(ctx, bare.Bare())
}

// The router is the host every feature module reaches the core through.
var _ module.Host = (*Router)(nil)
