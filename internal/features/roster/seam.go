package roster

import (
	"context"
	"time"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/stanza"
)

// This file is the roster's seam: what other features (presence, and
// through the server's wiring blocking and last activity) may use of this
// package. internal/arch fails if another feature names anything of it
// that is not declared here.

// Rosters is the roster module as other features see it (*Module).
type Rosters interface {
	// View returns user's roster as the user sees it (shared groups
	// included): cached when the user is online, else read.
	View(ctx context.Context, user jid.JID) (*View, error)
	// Cached returns user's cached roster, or nil when user has no session.
	Cached(user jid.JID) *View
	// SharesGroup reports whether a and b share a shared roster group, as
	// far as the rosters cached for either of them know.
	SharesGroup(a, b jid.JID) bool
	// IsLocalAccount reports whether j is an account on a served domain.
	IsLocalAccount(ctx context.Context, j jid.JID) (bool, error)
	// Subscribe applies a subscription stanza to the rosters of both
	// sides (RFC 6121 §3) and says what to deliver.
	Subscribe(ctx context.Context, from, to jid.JID, typ string, el *stanza.Element, outbound, inbound bool) (Outcome, error)
	// Pending returns user's unanswered inbound subscription requests.
	Pending(ctx context.Context, user jid.JID) ([]Pending, error)
	// Subscribed reports whether requester may see owner's presence.
	Subscribed(ctx context.Context, owner, requester jid.JID) (bool, error)
	// SetRemovalHook installs the function told about removed items.
	SetRemovalHook(h RemovalHook)
	// SetSharedHook installs the function told about shared-group
	// contacts an online user gained or lost (RefreshShared).
	SetSharedHook(h SharedHook)
}

var _ Rosters = (*Module)(nil)

// RemovalHook is told, after the commit, that user removed contact's item
// (see Rosters.SetRemovalHook).
type RemovalHook func(ctx context.Context, user, contact jid.JID, r Removal)

// SharedHook is told, after Module.RefreshShared pushed the change, that
// the online user gained (added) or lost a shared-group contact.
type SharedHook func(ctx context.Context, user, contact jid.JID, added bool)

// Sub is the 'subscription' of a roster item (RFC 6121 §2.1.2.5).
type Sub uint8

// Subscription values.
const (
	SubNone Sub = iota
	SubTo       // the user receives the contact's presence
	SubFrom     // the contact receives the user's presence
	SubBoth
)

// Subscription presence types (RFC 6121 §3).
const (
	TypeSubscribe    = "subscribe"
	TypeSubscribed   = "subscribed"
	TypeUnsubscribe  = "unsubscribe"
	TypeUnsubscribed = "unsubscribed"
)

// IsSubscriptionType reports whether a presence type is one of the four
// subscription types.
func IsSubscriptionType(t string) bool {
	switch t {
	case TypeSubscribe, TypeSubscribed, TypeUnsubscribe, TypeUnsubscribed:
		return true
	}
	return false
}

// Outcome is what processing one subscription stanza decided; the caller
// (package presence) delivers stanzas accordingly.
type Outcome struct {
	// Route: the sender's server sends the stanza on (Appendix A.2).
	Route bool
	// Inbound: the recipient is a local account and processed it (A.3).
	Inbound bool
	// Deliver: deliver the stanza to the recipient's available resources.
	Deliver bool
	// AutoReply: the recipient's server answers 'subscribed' for it
	// (already subscribed, or pre-approved).
	AutoReply bool
	// ReplyDeliver: the auto-reply changed the (local) sender's state and
	// is delivered to the sender's available resources.
	ReplyDeliver bool
	// SenderChanged, RecipientChanged: the state of either side changed.
	SenderChanged, RecipientChanged bool
}

// Removal says what removing an item implied (RFC 6121 §2.5.2).
type Removal struct {
	// Unsubscribe, Unsubscribed: the user's server sends these to the
	// contact (the user was subscribed or asking; the contact was
	// subscribed or asking).
	Unsubscribe, Unsubscribed bool
	// Inbound: the contact is a local account and processed them;
	// DeliverUnsubscribe/DeliverUnsubscribed: deliver them to the
	// contact's available resources.
	Inbound                                 bool
	DeliverUnsubscribe, DeliverUnsubscribed bool
}

// Pending is a stored inbound subscription request.
type Pending struct {
	From   jid.JID
	Stanza []byte // storage.EncodeElements of the request
	At     time.Time
}

// View is an immutable snapshot of one user's roster as the user sees it:
// the stored items merged with what shared groups contribute.
type View struct {
	user      jid.JID
	items     map[jid.JID]*Item    // stored items; never modified once published
	shared    map[jid.JID][]string // shared-group contacts → display names
	base      Version
	sharedTag string // hash of shared, "" when empty
}
