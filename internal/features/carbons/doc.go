// Package carbons implements XEP-0280: Message Carbons (urn:xmpp:carbons:2).
//
// A session enables or disables carbons with an iq set (§4, §5); the
// server advertises the feature in disco#info (§3). When a local user's
// resource sends a message eligible for carbons, every other
// carbons-enabled resource of that user gets a <sent/> copy (§8); when an
// eligible message is delivered to a local user, every carbons-enabled
// resource that did not receive it under the RFC 6121 §8.5 delivery rules
// gets a <received/> copy (§7): a message to a full JID is copied to the
// user's other enabled resources, one to the bare JID only to enabled
// resources that were not among the highest-priority ones it went to.
// Copies come from the user's bare JID and wrap the original in an XEP-0297
// <forwarded/> element.
//
// Eligible (§6, the XEP's suggested rules): type chat, and type normal
// with a <body/>; never error, groupchat or headline messages, messages
// from or to a MUC occupant (muc#user), messages that already are carbons,
// or messages marked <private xmlns='urn:xmpp:carbons:2'/> (§9) or with the
// XEP-0334 <no-copy/> hint. A <private/> element is removed before the
// message reaches a local recipient (§9). When the sender and recipient
// are the same user, only <sent/> copies are made.
//
// It does not stop clients from forging carbons (§11): c2s strips <sent/>
// and <received/> wrappers from everything a client sends. Which sessions
// enabled carbons is kept here, per session (module.Conn), and forgotten
// when the session ends.
package carbons
