// Package jid parses, normalises and compares XMPP addresses (RFC 7622).
//
// A JID is a comparable value: two JIDs that denote the same address are ==
// after Parse, because Parse prepares each part:
//
//   - the localpart with the PRECIS UsernameCaseMapped profile (RFC 8265
//     §3.3), minus the characters " & ' / : < > @ (RFC 7622 §3.3.1);
//   - the domainpart as an IPv4 address, an IPv6 address in brackets
//     (canonicalised, RFC 5952), or a domain name converted to lower-case
//     U-labels with IDNA2008 (UTS #46 non-transitional mapping with the
//     STD3 rules), with one final dot stripped (RFC 7622 §3.2);
//   - the resourcepart with the PRECIS OpaqueString profile (RFC 8265
//     §4.2), so case and spaces are preserved.
//
// Each part is 1 to 1023 bytes after preparation; a separator ('@' or '/')
// next to an empty part is an error. Invalid input gives an error wrapping
// ErrMalformed, never a panic.
//
// Addresses that are already in normal form and made only of ASCII take a
// fast path that skips PRECIS and IDNA and does not allocate; it gives the
// same results as the full preparation.
package jid
