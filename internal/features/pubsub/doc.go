// Package pubsub implements publish-subscribe: XEP-0060 (Publish-Subscribe)
// as a service on its own domain (pubsub.<domain>, a module.Service), and
// XEP-0163 (Personal Eventing Protocol) on every account's bare JID, with
// what modern clients build on it.
//
// Both share one node engine (request.go, publish.go, access.go,
// subscribe.go) over one store (store.go, the pubsub_* tables of migration
// 00007): create, configure (XEP-0060 §8.2, data forms), delete (§8.4),
// purge (§8.5), publish (§7.1) with publish-options preconditions (§7.1.5,
// XEP-0223: precondition-not-met), retract (§7.2), items retrieval (§6.5)
// with max_items, item ids and XEP-0059 paging, subscriptions with options
// (§6.1–§6.3) and owner management (§8.8), affiliations owner, publisher,
// publish-only, member, outcast (§4.1, §8.9), the access models open,
// presence, roster, whitelist and authorize (§4.5; the authorization form
// of §8.6 goes to the owners), max_items and persistence. An items answer
// stops at 1 MiB of payloads and carries the XEP-0059 set to page on.
//
// PEP (pep.go): a publish to one's own account auto-creates the node
// (XEP-0163 §3); notifications go to the owner's available resources and
// to those of contacts that receive the owner's presence, when the
// resource's entity capabilities (XEP-0115 <c/> with a hash, or XEP-0390
// <c xmlns='urn:xmpp:caps'/>) list node+"+notify" (§4.3.1); a resource
// that becomes available, or whose user's subscription to the owner is
// just approved, gets the last item of such nodes (§4.3.2). Accounts list
// the PEP nodes the asker may read as their disco#items.
// Capabilities come from the presence stanzas (an InboundPresence hook;
// presence state stays in the presence module): an unknown hash is
// resolved by one disco#info query to a resource advertising it, verified
// (XEP-0115 §5.1 and §5.4, XEP-0390 §4.1) and cached in memory and in the
// pubsub_caps table across restarts (caps.go). Queries are bounded per
// session and in total, so a flood of hashes costs little.
//
// On top: XEP-0402 bookmarks mirrored to and from XEP-0048 private XML
// (XEP-0411, bookmarks.go; the private module is reached through the
// Private interface this package declares), and the XEP-0153 avatar hash
// added to presence from the vCard PHOTO (avatar.go, through VCards);
// when the photo changes, the user's available presence goes to the
// contacts again with the new hash (Config.Republish, the presence
// module's), unless the client set a hash of its own.
// OMEMO (XEP-0384), XEP-0084 avatars and XEP-0172 nicknames need nothing
// beyond PEP with publish-options.
//
// Contacts on other servers are served the same way (remote.go): their
// resources' presence to local users carries their capabilities, verified
// by a disco#info query over s2s and kept per remote full JID until it goes
// unavailable (bounded); a subscriber on another server of the service is
// sent its notifications like a local one.
//
// It does not own presence, rosters (Contacts), vCards or private XML.
package pubsub
