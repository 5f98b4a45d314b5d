// Package mam is the user message archive: XEP-0313 Message Archive
// Management (urn:xmpp:mam:2 and urn:xmpp:mam:2#extended) with XEP-0059
// result set paging, the server-assigned XEP-0359 stanza-ids, and the
// archive's side of the XEP-0334 hints.
//
// # Archiving (§5.1.1 business rules)
//
// It runs at the router's InboundMessage hook, after blocking and before
// carbons, so it archives only what is delivered on and the carbon copies
// carry the stanza-id. A message is archived when it is of type chat or
// normal and carries a <body/>, a XEP-0334 <store/> hint or a XEP-0333
// chat marker (markers are meant to be fetched from the archive, XEP-0333
// §1); never errors, headlines or groupchat, never with a <no-store/> or
// <no-permanent-store/> hint, never chat states, receipts (XEP-0184) or
// other payloads alone. It goes to the archive of each party that is a
// local account (the sender's and the recipient's), unless that party's
// preferences (§6: default always/roster/never, then the always and never
// lists; never wins) say otherwise. When both parties archive it, the
// two entries are one row in both archives, under one stanza-id
// (storage.ArchiveEntry). The message goes on (delivery,
// carbons, the sender's XEP-0198 count) only once the archive commit is
// durable (storage.Archive's group commit), so a message the server
// routed or acknowledged is never lost; a failed commit bounces the
// message with internal-server-error. From a client session (whose
// context carries a module.Pipeline) the hook submits the entries and
// sets Event.Wait instead of waiting: the session goes on reading its
// next stanzas, and the router finishes this one in order once the
// commit is over, so a busy stream shares each group commit among many
// of its messages; an inbound s2s stream has such a pipeline too.
// Elsewhere (server-generated messages) the hook waits for the commit
// inline. One exception:
// while the database is unreachable for longer than storage.retry_timeout
// (storage.ErrUnavailable), messages are delivered without being archived
// (logged as a warning), so that connected users keep chatting through a
// database outage as they do without an archive; such a message is in no
// archive. The same holds for a user whose preferences cannot be read.
//
// The recipient's copy gets <stanza-id xmlns='urn:xmpp:sid:0'
// by='recipient bare JID' id='…'/> (XEP-0359 §3) before delivery, which
// offline storage and carbons then keep. A stanza-id that claims to be by
// the recipient is removed first (c2s removes those a local client forges
// by a local JID; this hook also covers other origins). An origin-id
// (XEP-0359 §3.1) is kept as the client sent it.
//
// # Queries (§4)
//
// Queries go to the user's own bare JID (or no 'to'); another user's
// archive is forbidden. The data form's fields are FORM_TYPE, with, start,
// end, after-id, before-id and ids (XEP-0313 #extended); an unknown field,
// a malformed date or JID, or start after end is bad-request. RSM <max/>
// is capped at mam.max_page_size, and a page is also cut to a quarter of
// limits.max_outbound_bytes of stored messages (so a page of big messages
// never makes the querying session a slow consumer; it is then not
// complete); <after/>, <before/> page forwards and backwards;
// <flip-page/> reverses a page. Unknown ids are item-not-found. The RSM
// <count/> is given up to 10,000 messages and left out above (counting
// a huge archive would cost a scan per query).
// Results are <message><result queryid id><forwarded><delay/>…</forwarded>
// </result></message> to the querying resource, then the iq result with
// <fin complete='true'?> and the RSM <set/> (first, last, count). The
// metadata query (#extended) returns the first and last message.
//
// # Private messages through a room
//
// A private message between occupants of a group chat room (XEP-0045
// §7.5, type chat to or from room@service/nick) is one-to-one chat for the
// archive: the sender's copy is archived by the InboundMessage hook like
// any other (with the occupant JID as 'with', and marked with the muc#user
// <x/> when the client left it out: Config.Groupchat names the service
// domains), and the recipient's by ArchiveReceived, which the group chat
// service calls before it delivers (the message comes from the service,
// so no hook sees it) and which stamps the delivered copy with the
// recipient's stanza-id. Both are found with 'with' set to the occupant
// JID or the room's bare JID; groupchat messages stay out of user
// archives. Carbons leave such messages alone (XEP-0280 §6, package
// carbons).
//
// # Offline messages and the archive
//
// A session that sends an archive query before its initial presence
// syncs with the archive: when it then becomes available, offline storage
// (package offline, through its Synced function) drops instead of
// delivering the queued messages that are in the archive (they carry our
// stanza-id), and delivers the others (those not archived, e.g. hinted
// <no-permanent-store/>). A client that does not query the archive first
// keeps the offline flood (XEP-0160). So a MAM client sees each message
// once, from the archive.
//
// It does not own the archive table (storage.Archive), decide delivery
// (router) or send carbons (package carbons). Room archives (XEP-0313
// §3.3.2) belong to the muc package, on the same store; it parses and
// answers their queries with this package's seam (seam.go: ParseQuery,
// SearchForm, Fin, CountOnly, Result), so both archives take the same
// queries and answer the same errors.
package mam
