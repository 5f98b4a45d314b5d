package module

import (
	"context"
	"errors"
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
	// SessionBound runs when a resource is bound; SessionClosed when it ends
	// (cleanly or not). Every hook runs (see Notify).
	SessionBound
	SessionClosed
	// Offline runs for a message that found no available resource (RFC 6121
	// §8.5.2.1.1): the offline module stores it and reports handled.
	Offline
	// Available runs (every hook, see Notify) when a session sends its
	// initial available presence: offline messages and pending subscription
	// requests are delivered then. ev.Stanza is that presence.
	Available
	// Filter runs before the router hands a stanza to a local session:
	// ev.From is the sender (a full or bare JID, or a domain), ev.To the
	// recipient session's full JID, ev.Conn that session. A hook that
	// returns handled=true drops the stanza for that recipient (blocking);
	// one that also sets ev.Deferred took it over to deliver later itself
	// (client state indication), and the router counts it as delivered.
	Filter
	// InboundIQ runs for every iq a local user sends, once the router
	// checked its type and id and before it is dispatched or delivered
	// (blocking). ev.To is the parsed 'to' (zero when absent).
	InboundIQ
	// SessionHibernated runs (every hook, see Notify) when a session with
	// XEP-0198 resumption loses its connection without a close and waits
	// for the client to resume it: it stays bound and available, and
	// stanzas for it are kept, not written (push notifications, XEP-0357,
	// start here). ev.Conn is the session. SessionResumed runs when a new
	// connection took it over; if the window ends first, SessionClosed
	// runs as for any other end (once).
	SessionHibernated
	SessionResumed
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
	// Conn is the session concerned: at SessionBound, SessionClosed and
	// Available the session itself, at Filter the recipient.
	Conn Conn
	// Deferred is set by a Filter hook that holds the stanza back and
	// delivers it later through Conn (see Filter).
	Deferred bool
	// Wait is set by an InboundMessage hook that started something the
	// message must wait for before it goes on (the archive's commit) when
	// ctx carries a Pipeline: the router then defers the remaining hooks
	// and the delivery until Wait returned nil (see Pipeline). Without a
	// Pipeline a hook waits inline and leaves Wait nil.
	Wait func() error
}

type hookEntry struct {
	prio int
	fn   Hook
}

// Hook registers fn at kind; higher priority runs first.
func (r *Registry) Hook(kind HookKind, prio int, fn Hook) {
	r.update(func(t *tables) {
		hs := append(slices.Clip(t.hooks[kind]), hookEntry{prio, fn})
		slices.SortStableFunc(hs, func(a, b hookEntry) int { return b.prio - a.prio })
		t.hooks[kind] = hs
	})
}

// RunHooks runs the hooks of kind in order until one handles the event or
// fails.
func (r *Registry) RunHooks(ctx context.Context, kind HookKind, ev *Event) (bool, error) {
	for _, h := range r.tables().hooks[kind] {
		handled, err := h.fn(ctx, ev)
		if err != nil || handled {
			return handled, err
		}
	}
	return false, nil
}

// Notify runs every hook of kind, whatever each returns; it is for events
// (session bound, closed, available) rather than for stanzas to handle.
// It returns the errors joined.
func (r *Registry) Notify(ctx context.Context, kind HookKind, ev *Event) error {
	var errs []error
	for _, h := range r.tables().hooks[kind] {
		if _, err := h.fn(ctx, ev); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// HasHooks reports whether any hook is registered at kind, so hot paths can
// skip building an Event.
func (r *Registry) HasHooks(kind HookKind) bool {
	return len(r.tables().hooks[kind]) > 0
}
