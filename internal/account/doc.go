// Package account owns user accounts: which bare JIDs exist on this server
// and their SCRAM credentials (RFC 5802: salt, iteration count, StoredKey
// and ServerKey for the hashes of auth.scram_hashes, by default SHA-1,
// SHA-256 and SHA-512, see Store.UseHashes). Passwords are prepared
// with the PRECIS OpaqueString profile (sasl.PreparePassword), turned into
// credentials and forgotten: no password is ever stored or logged.
//
// Store is the only way to create, delete and re-key accounts, used by
// both the server (c2s authentication, in-band registration) and the
// `parley user` commands, possibly in different processes over the same
// database.
//
// It does not own the database connection or schema (package storage),
// the SASL exchange (package sasl; c2s adapts Store.Credentials to a
// sasl.Lookup), or which domains the server serves (callers check that
// against the configuration before creating accounts).
package account
