// Package limits enforces what one peer may cost: connections,
// authentication failures (with a temporary ban) and in-band account
// registrations per IP address, and bytes per second per connection.
// Loopback addresses (unless limits.exempt_loopback is off) and the
// networks named in limits.trusted_proxies (a TLS terminator or proxy that
// carries many users' connections) are exempt from the per-IP limits; no
// address is exempt from the per-connection byte rate, which
// limits.bytes_per_second = 0 turns off.
//
// It does not know XMPP; c2s and the register module ask it before
// accepting work.
package limits
