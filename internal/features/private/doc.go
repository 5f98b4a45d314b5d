// Package private implements XEP-0049: Private XML Storage
// (jabber:iq:private).
//
// A user stores XML fragments on their own account, each identified by the
// namespace and name of its root element, and reads them back one at a
// time. Requests to another account are forbidden (XEP-0049 §2.3, §4); a
// query without a child, or with a child in a reserved namespace (jabber:*
// including jabber:client and jabber:server, http://jabber.org/*,
// vcard-temp*), or in no namespace of its own, is not-acceptable; a get
// for more than one namespace is bad-request. A get for a fragment that was
// never stored returns the empty element that was asked for. One set may
// carry several fragments: they are stored together, in one transaction.
// A fragment larger than Config.MaxBytes is not-acceptable; more than
// Config.MaxItems fragments per user is resource-constraint.
//
// It does not own the records table (storage.Records) and does not
// implement XEP-0223 (private storage over PubSub).
package private
