package module

import (
	"context"
	"fmt"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/stanza"
)

// Conn is one bound client session as a feature module sees it: the
// session a nonza came from, or the session an event (Event.Conn) or a
// delivery (Filter) concerns. c2s implements it; router.Session has the
// same methods. Values are comparable and stay the same for the life of a
// session, so a module keeps per-session state in a map keyed by Conn and
// deletes it at SessionClosed. Keying by Conn rather than by full JID keeps
// a replaced session (same resource, RFC 6120 §7.7.2.2) from clobbering the
// state of the new one.
type Conn interface {
	// JID is the session's full JID.
	JID() jid.JID
	// Deliver queues el (a stanza or a nonza) for the client; it never
	// blocks on the network and bypasses the Filter hooks.
	Deliver(el *stanza.Element) error
	// Close asks the session to end with a stream error condition (RFC
	// 6120 §4.9.3, the constants of internal/stream); "" closes it
	// without one. It returns at once, from any goroutine: the session's
	// own goroutine writes the error and ends it.
	Close(cond, text string)
}

// NonzaHandler handles a top-level element that is not a stanza (a
// "nonza", such as XEP-0352's <active/> or XEP-0198's <r/>) sent by the
// bound session c. It runs on the session's reading goroutine, so nonzas of
// one session are handled in order. Returning a *stream.Error ends the
// stream with that condition; any other error ends it with
// internal-server-error.
type NonzaHandler func(ctx context.Context, c Conn, el *stanza.Element) error

type nsName struct{ space, local string }

// Nonza registers h for top-level elements {space}local from bound
// sessions. A duplicate registration panics (a wiring bug).
func (r *Registry) Nonza(space, local string, h NonzaHandler) {
	k := nsName{space, local}
	r.update(func(t *tables) {
		if _, dup := t.nonzas[k]; dup {
			panic(fmt.Sprintf("module: duplicate nonza handler for {%s}%s", space, local))
		}
		t.nonzas[k] = h
	})
}

// LookupNonza returns the handler for the nonza {space}local, or nil.
func (r *Registry) LookupNonza(space, local string) NonzaHandler {
	return r.tables().nonzas[nsName{space, local}]
}

// ClientSoftware is implemented by client sessions (c2s) that record which
// client software runs them, for the admin surface: what the client named
// in its XEP-0388 <user-agent/>, or answered to a XEP-0092 version query
// (package version asks once the session is available).
type ClientSoftware interface {
	// ClientSoftware is the recorded description, "" while unknown.
	ClientSoftware() string
	// SetClientSoftware records desc (the session bounds and cleans it).
	SetClientSoftware(desc string)
}

// Paced is implemented by a Conn whose client acknowledges what it
// receives (XEP-0198 stream management) and which ends a client that
// leaves too much unacknowledged. A sender of a long burst (the offline
// queue at login) asks it for room before each stanza and, when there is
// none, to be called back once the client's acks made some, so that the
// burst flows at the client's pace in bounded memory.
type Paced interface {
	// Room returns how many more stanzas a burst may queue now; -1 means
	// the session does not pace (no stream management).
	Room() int
	// WhenRoom runs f once, on a goroutine of its own, as soon as Room is
	// positive (at once when it is now). A later call replaces an f not
	// yet run; when the session ends first, f never runs.
	WhenRoom(f func())
}
