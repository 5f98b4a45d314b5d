// Package blocking implements XEP-0191: Blocking Command.
//
// It owns each user's block list (stored as storage.Records of kind
// "blocklist", one record per blocked JID, cached in memory per user and
// kept coherent with the store: every change is written first and then
// swapped into the cache under the user's lock), the blocklist/block/
// unblock iqs a user sends to their own account (§3.2–§3.5), the pushes of
// each change to the user's resources that requested the list, and the
// disco feature urn:xmpp:blocking.
//
// It enforces the list on every path a stanza takes, with JID matching as
// in §3.1 (full JID, bare JID, domain/resource, domain and its subdomains):
//
//   - Filter hook (before every local delivery, no database access once the
//     list is cached): nothing from a blocked contact reaches the user, and
//     nothing from the user reaches a blocked contact, presence broadcasts
//     included.
//   - InboundMessage/InboundPresence/InboundIQ hooks (what users send): a
//     user's stanza to a contact they blocked is refused with not-acceptable
//     and <blocked xmlns='urn:xmpp:blocking:errors'/> (§3.3); a blocked
//     contact's message is answered with service-unavailable, its iq get/set
//     with service-unavailable, its presence, iq results and errors are
//     dropped without a reply (§3.3), so the user appears offline.
//   - Blocks, for the offline module: blocked contacts' messages are
//     neither stored nor delivered later.
//
// On block it sends unavailable presence from each available resource of
// the user to the newly blocked contacts that receive the user's presence;
// on unblock it sends them the user's current presence (§3.3, §3.4). Who
// receives the user's presence, and what each resource's current presence
// is, the presence module says (Config.Presence): blocking keeps no
// presence state of its own.
//
// It does not implement privacy lists (XEP-0016) and does not cancel
// subscriptions ("polite blocking", §4).
package blocking
