// Package sasl implements the server side of SASL authentication for XMPP
// client-to-server streams (RFC 6120 §6).
//
// # Boundary
//
// The package is pure: it performs no I/O of its own and knows nothing about
// XML, streams or storage. The c2s package owns the <auth/>, <challenge/>,
// <response/>, <success/>, <failure/> and <abort/> elements, does the base64
// encoding and decoding of their payloads (reporting incorrect-encoding for bad
// base64 itself), decides which mechanisms to advertise by calling
// [Mechanisms] and [ChannelBindingTypes], and maps a [*Failure] onto a
// <failure/> element (its Reason, which tells more than the client may
// learn, goes only to the server's log and metrics; [Failure.FailedLogin]
// says whether it counts against login limits). The account package owns the credentials: it answers a
// [Lookup] with the stored SCRAM keys of an account ([Credentials]) and never
// hands this package a password. Checking that the authorization identity
// ([Server.Authzid]) may act for the authenticated account ([Server.Username])
// is the caller's job as well.
//
// A [Server] runs exactly one negotiation with one mechanism; it is not safe
// for concurrent use.
//
// # Mechanisms
//
//   - SCRAM-SHA-1, SCRAM-SHA-256 and SCRAM-SHA-512, each also in a -PLUS
//     variant with channel binding.
//   - PLAIN, only on encrypted streams unless explicitly allowed.
//
// # Channel binding and the "y" flag
//
// A SCRAM client that can bind but sees no -PLUS mechanism sends the gs2
// flag "y", which RFC 5802 §6 has a server that did offer -PLUS refuse as a
// downgrade. Clients that bind only with tls-unique (the type RFC 5802 has
// every binding client implement) cannot bind on TLS 1.3, where only
// tls-exporter and tls-server-end-point exist, and say "y" in good faith.
// So "y" is refused where tls-unique is offered, and taken as "n" elsewhere,
// unless [Options].StrictChannelBinding asks for RFC 5802's rule.
// docs/security.md gives what this lets an attacker do.
//
// # Specifications
//
//   - RFC 6120 §6: SASL negotiation in XMPP and its failure conditions.
//   - RFC 4422: the SASL framework.
//   - RFC 5802: SCRAM, and SCRAM-SHA-1(-PLUS).
//   - RFC 7677: SCRAM-SHA-256(-PLUS); SCRAM-SHA-512(-PLUS) follows the same
//     rules with SHA-512 (draft-melnikov-scram-sha-512, XEP-0474 usage).
//   - RFC 5801: the GS2 header used by SCRAM.
//   - RFC 5929: the tls-server-end-point channel binding type.
//   - RFC 9266: the tls-exporter channel binding type (TLS 1.3).
//   - XEP-0440: advertising channel binding types in XMPP.
//   - RFC 4616: PLAIN.
//   - RFC 8265: the PRECIS OpaqueString profile applied to passwords (the
//     successor of SASLprep, RFC 4013).
//
// # Passwords
//
// Both the client (for SCRAM) and this package (for PLAIN) prepare passwords
// with the PRECIS OpaqueString profile. Account code must therefore derive the
// stored keys from [PreparePassword] applied to the password, not from the raw
// password; [NewCredentials] does both steps.
package sasl
