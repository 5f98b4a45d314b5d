// Package vcard implements XEP-0054 (vcard-temp) for accounts, and the
// server side of XEP-0153 (vCard-based avatars).
//
// A user stores their own vCard with an iq set (no 'to', or their own bare
// JID) and anyone reads it with an iq get to the user's bare JID, which the
// server answers on the account's behalf (RFC 6120 §10.5.3.1). Setting
// another user's vCard is forbidden; an unknown user is service-unavailable
// (the router checks that before the handler runs); a user without a vCard
// gets an empty <vCard/> result when asking for their own, and
// item-not-found when asking for someone else's (XEP-0054 §3.1, §3.3). A
// vCard larger than Config.MaxBytes is refused with not-acceptable. An
// empty <vCard/> set removes the stored vCard. The vCard is stored as its
// XML, so the avatar image in <PHOTO><BINVAL/></PHOTO> comes back byte for
// byte and its SHA-1 matches the hash clients advertise.
//
// XEP-0153 asks nothing more of a server: clients put the avatar hash in
// <x xmlns='vcard-temp:x:update'/> in their presence, and the server
// broadcasts presence unchanged. It advertises the "vcard-temp" disco
// feature for the server and for accounts.
//
// It does not own the records table (storage.Records) and does not decide
// who may see a vCard beyond the blocking rules applied by package
// blocking (vCards are world-readable, XEP-0054 §6).
package vcard
