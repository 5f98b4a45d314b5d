// Package loadtest is an XMPP load generator: it drives many client
// connections against any XMPP server over real sockets and measures what
// the server does with them. It backs `parley bench` and bench/compare.sh,
// which run the same scenarios against Parley, Prosody and ejabberd.
//
// It owns the client side of the protocol it needs, written to be cheap
// per connection so that the tool is never the bottleneck: stream
// negotiation (RFC 6120 §4), STARTTLS (RFC 6120 §5) and direct TLS
// (XEP-0368), SASL PLAIN (RFC 4616) and SCRAM-SHA-1/SHA-256 (RFC 5802,
// RFC 7677) with a cache of salted passwords (KeyCache), resource binding
// (RFC 6120 §7), XEP-0199 pings, XEP-0077 in-band registration, roster
// sets and the subscription handshake (RFC 6121 §2, §3), and XEP-0045
// room joins. It spreads connections over several loopback source
// addresses.
//
// The scenarios (register, login, idle, unauth, chat, muc, presence,
// resume: a XEP-0198 resume storm) each
// return a Result: absolute figures (rates, latency percentiles from a
// log-linear Histogram, delivered and lost counts) plus the server's CPU
// time and resident memory read from /proc/PID/stat and /proc/PID/status,
// children included (Proc). Latencies are measured in one process with
// the monotonic clock: the sender stamps a message, the receiver reads
// the stamp back. idle and unauth share one memory measurement (hold.go):
// RSS before, while holding and after, and how many connections the
// server kept open.
//
// It does not start or configure servers (bench/compare.sh does), and it
// never reaches into Parley's internals during a run: everything goes
// through a socket. The one exception is outside this package: `parley
// bench register --via store` creates Parley accounts through
// internal/account, since that is Parley's documented admin path.
package loadtest
