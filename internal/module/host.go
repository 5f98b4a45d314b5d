package module

import (
	"context"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/stanza"
)

// Session is a bound client resource as the core sees it: a Conn that also
// reports its presence for the delivery rules. c2s implements it; the
// router keeps the table of them (router.Session is this type).
type Session interface {
	Conn
	// Presence reports whether the resource sent available presence and
	// with which priority (RFC 6121 §4.7.2.3).
	Presence() (available bool, priority int)
}

// Service is a component served on a domain of its own (a sub-domain such
// as conference.example.org for XEP-0045 group chat; later PubSub and
// external components). The host hands it every stanza addressed to that
// domain, after the inbound hooks ran. Route returns a *stanza.Error to
// bounce to the sender; for presence and for server-generated stanzas
// (Host.Deliver) the error is only logged, so a service sends its own
// presence errors.
type Service interface {
	Route(ctx context.Context, from, to jid.JID, el *stanza.Element) error
}

// Host is the core as a feature module sees it, the one seam between
// features (internal/features/*) and the router: features take a Host in
// their constructor, never the router's concrete type, so they can read the
// session table and send stanzas but cannot bind, unbind or change how
// stanzas are routed. The router implements it (guard in package router);
// tests may give a feature a small Host of their own.
type Host interface {
	// IsLocal reports whether domain is a served user domain (service
	// domains such as conference.<domain> are not).
	IsLocal(domain string) bool
	// AccountExists reports whether bare is an account on a served
	// domain: false for other domains and for a domain itself.
	AccountExists(ctx context.Context, bare jid.JID) (bool, error)
	// Session returns the session bound at full, or nil.
	Session(full jid.JID) Session
	// Sessions returns the bound sessions of a local bare JID (a copy).
	Sessions(bare jid.JID) []Session
	// BestResources returns the sessions a message of type typ (stanza.Msg*)
	// to bare is delivered to (RFC 6121 §8.5.2.1): the available resources
	// with the highest non-negative priority; for headlines every available
	// resource with a non-negative priority.
	BestResources(bare jid.JID, typ string) []Session
	// Deliver routes a stanza the server generated (a push, a reply, a
	// copy): through the Filter hooks to local sessions, to a Service or
	// to other servers. An iq result or error to a bare account JID goes
	// to the InboundIQ hooks (the server consumes answers to an account),
	// not to the account's resources. Errors are logged, never bounced.
	Deliver(ctx context.Context, to jid.JID, el *stanza.Element)
	// AddService makes svc the handler of every stanza addressed to domain
	// or a JID on it. A domain served twice panics (a wiring bug).
	AddService(domain string, svc Service)
}
