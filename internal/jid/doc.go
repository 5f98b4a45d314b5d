// Package jid parses, normalises and compares XMPP addresses (RFC 7622).
//
// A JID is a comparable value: two JIDs that denote the same address are ==
// after Parse, because Parse applies the PRECIS profiles (UsernameCaseMapped
// for the localpart, OpaqueString for the resourcepart) and lower-cases the
// domainpart (IDNA2008, U-labels). Invalid input gives ErrMalformed, never a
// panic.
package jid
