// Package lastactivity implements XEP-0012: Last Activity.
//
// Addressed to the server it answers the server's uptime in seconds (§5).
// Addressed to a user's bare JID (or with no 'to', the sender's own
// account) it is answered by the server on the user's behalf (§3): seconds=0
// with no text when the user has an available resource, otherwise the
// seconds since the user's last session ended with the status text of the
// last unavailable presence that session sent, and item-not-found when the
// user never logged out since this was recorded. Only requesters that may
// see the user's presence get an answer (Module.Authorized); the others get
// forbidden (§3, §8). Queries to a full JID are routed to that client like
// any iq (§4) and never reach this package.
//
// It records, at SessionClosed of a user's last session, the time and that
// session's last unavailable status (asked of the presence module,
// Module.Presence) as a storage.Records entry of kind "last", which is
// also its XEP-0227 section (UserData). It does not own presence: the
// presence module keeps presence state, and the roster decides who is
// subscribed (Module.Authorized).
package lastactivity
