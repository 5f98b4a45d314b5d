// Package c2s serves client connections (RFC 6120): it accepts TCP
// connections (STARTTLS on the plain port, direct TLS per XEP-0368 on the
// other), runs the stream state machine — header checks, STARTTLS, SASL,
// resource binding — and then reads stanzas, stamps the sender's address
// on them and hands them to the router. It writes what the router delivers
// through a bounded, coalescing output queue.
//
// A connection is a session carried by a transport. The session (Session:
// session.go, negotiate.go, auth.go, bind.go, inbound.go, out.go,
// close.go) is the state — negotiation, the bound address, presence, the
// output queue, the hooks — and decides when the stream ends. The
// transport (transport.go; TCP in tcp.go and park.go) turns bytes into
// headers and elements, frames what the session writes, and owns the
// goroutine that runs the session: one owner per session, which alone
// writes the closing stream error and tears down; Close from anywhere else
// only asks (close.go). An idle TCP session parks in netpoll and holds no
// goroutine; writes are flushed by a goroutine that exists only while
// there is something to write.
//
// Stream management (XEP-0198 §3–§5: enable, acks, resumption) is
// session state too (sm.go, resume.go): the counters and the queue of
// unacknowledged stanzas sit in the session and its output queue, and a
// session whose transport vanished hibernates until a new connection
// resumes it or its window ends.
// Login takes either path: RFC 6120 SASL (auth.go) with a stream restart
// and resource binding (bind.go), or XEP-0388 SASL2 (sasl2.go) with the
// same mechanisms and failure accounting and no restart, optionally
// binding inline with XEP-0386 Bind 2 (bind2.go, whose inline features
// modules register with module.Registry.Bind2Inline) and using or asking
// for XEP-0484 FAST tokens (fast.go; stored hashed in storage.FastTokens).
//
// Protocol values of the stream itself (header, features, the stream
// error type) are internal/stream's. Modules reach c2s through
// module.Registry: nonzas from bound sessions, the few iqs accepted before
// authentication (XEP-0077 registration) and pre-auth stream features (see
// extend.go).
//
// It does not decide where stanzas go (router), store anything (account,
// storage) or implement features (modules).
package c2s
