// Package limits enforces what one peer may cost: connections,
// authentication failures (with a temporary ban) and in-band account
// registrations per IP address, and bytes per second per connection.
// Loopback addresses are exempt from the per-IP limits unless configured
// otherwise, so local tests and benchmarks are not throttled.
//
// It does not know XMPP; c2s and the register module ask it before
// accepting work.
package limits
