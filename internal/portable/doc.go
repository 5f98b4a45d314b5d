// Package portable reads and writes XEP-0227 (Portable Import/Export
// Format for XMPP-IM Servers) files, so that user data moves between
// Parley databases of any engine and in from other servers (ejabberd's
// export_piefxis, Openfire's user import/export plugin, Prosody's
// mod_storage_xep0227).
//
// Export writes, per served host and account, the SCRAM credentials
// (urn:xmpp:pie:0#scram; Parley never knows passwords), the roster
// (jabber:iq:roster, §4.3) with pending inbound subscription requests, the
// vCard (vcard-temp, §4.6), private XML (jabber:iq:private, §4.5) and
// offline messages (§4.4, each with its XEP-0203 delay), plus two
// extensions the XEP allows: the block list (urn:xmpp:blocking) and last
// activity. Import reads the same, from one file or split with XInclude
// (§5), accepts the current (urn:xmpp:pie:0) and the earlier namespace,
// plaintext passwords (hashed on import) or SCRAM credentials (ejabberd's
// doubly base64-encoded ones too), and maps the default privacy list's
// "block this JID" items (jabber:iq:privacy, what ejabberd stores for
// XEP-0191) to the block list.
//
// Import never trusts the file: it is checked whole before anything is
// written (not XML, a DTD, a truncated file: nothing is imported), each
// account is written in one transaction (storage.DB.Atomic: all of it or
// nothing), and what is skipped is reported with the reason: invalid JIDs,
// duplicates, accounts that exist, hosts not served, data Parley does not
// store (PEP, archives, shared groups are not covered).
//
// It owns no tables and knows no feature's records: it writes the
// document, the <host/> and <user/> elements and the credentials (through
// package account), and asks each stored feature for its section of
// <user/> through module.UserData (Stores.Data; internal/server's
// UserData lists roster, vcard, private, offline, blocking and
// lastactivity). On import each child of <user/> goes to the feature whose
// section accepts it, and the feature's writes run in the account's
// transaction.
package portable
