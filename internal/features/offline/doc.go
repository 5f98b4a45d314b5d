// Package offline stores messages sent to users who have no available
// resource and delivers them when the user comes back (XEP-0160, RFC 6121
// §8.5.2.1.1 and §8.5.2.2, with XEP-0203 delay stamps and the XEP-0334
// storage hints).
//
// It runs at the router's Offline hook: a message of type normal or chat
// (not headline, groupchat or error, which the router never offers) that
// carries content is appended to the recipient's queue, and the hook
// reports it handled only once the write committed. A message that is not
// stored (chat states only, an empty message, a <no-store/> hint, a full
// queue) is left unhandled, so the router bounces it to the sender with
// service-unavailable: nothing is dropped silently. When the user's next
// resource sends initial presence with a non-negative priority (the
// Available hook), the queue is delivered to that resource in order, each
// message with <delay xmlns='urn:xmpp:delay' from='DOMAIN' stamp='...'>
// added, and removed from storage only once it was queued to the session.
// A session that syncs with the message archive (Config.Synced, decided
// by package mam: it queried the archive before its initial presence)
// is not sent the queued messages the archive holds (they carry the
// server's stanza-id by the user); those are removed, the rest delivered.
// It advertises the "msgoffline" disco feature.
//
// It does not decide when a message is undeliverable (router), own the
// queue table (storage.Queue) or know who blocked whom (a Blocked function
// given at construction, from package blocking). XEP-0013 flexible offline
// retrieval is not implemented.
package offline
