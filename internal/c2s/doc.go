// Package c2s serves client connections (RFC 6120): it accepts TCP
// connections (STARTTLS on the plain port, direct TLS per XEP-0368 on the
// other), runs the stream state machine — header checks, STARTTLS, SASL,
// resource binding — and then reads stanzas, stamps the sender's address
// on them and hands them to the router. It writes what the router delivers
// through a bounded, coalescing output queue.
//
// Per connection one goroutine reads and owns the state; writes are queued
// and flushed by a short-lived goroutine that exists only while there is
// something to write, so an idle session costs one goroutine.
//
// Modules reach it through module.Registry: nonzas from bound sessions,
// the few iqs accepted before authentication (XEP-0077 registration) and
// pre-auth stream features (see extend.go).
//
// It does not decide where stanzas go (router), store anything (account,
// storage) or implement features (modules).
package c2s
