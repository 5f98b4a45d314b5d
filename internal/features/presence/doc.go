// Package presence implements presence (RFC 6121 §4) and the stanza side
// of presence subscriptions (§3) for local users.
//
// It owns each session's presence state, keyed by the session
// (module.Conn) and tracked from the InboundPresence hook (availability,
// the latest available presence, directed presence recipients, §4.6):
// other features ask it (Recipients, Current) rather than tracking
// presence themselves. It also owns the last unavailable presence of each account
// (table presence_last, cached in memory for a minute after each read or
// write, see lastCache), which answers probes for offline contacts with an
// XEP-0203 delay. It broadcasts initial, subsequent and unavailable
// presence to contacts with subscription 'from'/'both' and to the user's
// own available resources (§4.2, §4.4, §4.5), probes contacts with
// 'to'/'both' at login and answers the probes (§4.3; local contacts are
// answered directly), sends unavailable presence when a session ends
// without one (SessionClosed; not for a session replaced at its full JID
// by one that is available already, RFC 6120 §7.7.2.2), and re-delivers pending subscription
// requests when a resource becomes available (Available hook, §3.1.3).
// Every server-generated stanza goes through module.Host.Deliver, so the
// Filter hooks (blocking) apply to it.
//
// Subscription stanzas (subscribe, subscribed, unsubscribe, unsubscribed)
// are handed to package roster, which owns the state machine and the
// pushes; this package delivers what the outcome says, the auto-replies,
// and the presence that approving or cancelling a subscription implies
// (§3.1.5, §3.2.2, §3.3.3). Between members of a shared roster group
// (always 'both') a subscription request is answered 'subscribed' and the
// other subscription stanzas are ignored.
//
// Presence stanzas reaching the InboundPresence hook from a non-local
// sender (from server-to-server links, when they exist) get the contact's
// server processing only: subscription stanzas run Appendix A.3 and probes
// are answered.
package presence
