// Package roster owns each account's contact list and the state of its
// presence subscriptions.
//
// It implements RFC 6121 §2 (roster get, set and remove, pushes to the
// user's interested resources), the subscription state machine of RFC 6121
// §3 and Appendix A (outbound processing A.2 on the user's server, inbound
// processing A.3 on the contact's server, both in one transaction when both
// accounts are local), pre-approval (§3.4), pending inbound requests kept
// until answered (§3.1.3), and roster versioning (XEP-0237). Items from
// shared roster groups (package sharedgroup) are merged into what users
// see, with subscription 'both'.
//
// Versioning: every change bumps a per-account counter; the version string
// is "<epoch>-<counter>" plus, when the user is in shared groups, a hash of
// what those groups contribute. A roster get whose 'ver' equals the current
// version is answered with an empty result; any other 'ver' gets the whole
// roster (XEP-0237 §4 allows this instead of a series of pushes). Pushes
// carry the new version to resources that asked with a 'ver'.
//
// It does not deliver presence stanzas or track availability: package
// presence calls Subscribe and acts on the Outcome (delivering the
// subscription stanza, auto-replies, current or unavailable presence). The
// only presence side effects started here, those of removing an item, go
// through the RemovalHook that presence installs.
package roster
