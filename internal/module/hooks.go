package module

import (
	"context"
	"slices"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/stanza"
)

// HookKind names a point in a stanza's path where modules may act.
type HookKind int

const (
	// InboundMessage runs for every message a local user sends, after the
	// server stamped 'from' and before delivery (blocking, carbons, archive).
	InboundMessage HookKind = iota
	// InboundPresence runs for every presence a local user sends, before
	// directed delivery (roster subscriptions, broadcast).
	InboundPresence
	// SessionBound runs when a resource is bound; SessionClosed when it ends.
	SessionBound
	SessionClosed
	// Offline runs for a message that found no available resource (RFC 6121
	// §8.5.2.1.1): the offline module stores it and reports handled.
	Offline
)

// Hook is one step. It returns handled=true when it took care of the stanza
// (the default delivery must not run), or a *stanza.Error to bounce it.
type Hook func(ctx context.Context, ev *Event) (handled bool, err error)

// Event carries a stanza (or a session change) through the hooks.
type Event struct {
	From    jid.JID // the sender's full JID (already stamped)
	To      jid.JID // the parsed 'to' (zero when absent)
	Stanza  *stanza.Element
	Session jid.JID // for SessionBound/SessionClosed: the full JID
}

type hookEntry struct {
	prio int
	fn   Hook
}

// Hook registers fn at kind; higher priority runs first.
func (r *Registry) Hook(kind HookKind, prio int, fn Hook) {
	r.mu.Lock()
	defer r.mu.Unlock()
	hs := append(r.hooks[kind], hookEntry{prio, fn})
	slices.SortStableFunc(hs, func(a, b hookEntry) int { return b.prio - a.prio })
	r.hooks[kind] = hs
}

// RunHooks runs the hooks of kind in order until one handles the event or
// fails.
func (r *Registry) RunHooks(ctx context.Context, kind HookKind, ev *Event) (bool, error) {
	r.mu.RLock()
	hs := r.hooks[kind]
	r.mu.RUnlock()
	for _, h := range hs {
		handled, err := h.fn(ctx, ev)
		if err != nil || handled {
			return handled, err
		}
	}
	return false, nil
}
