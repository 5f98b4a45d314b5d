// Package limits enforces what one peer may cost: connections and
// authentication failures per IP address (with a temporary ban) and bytes
// per second per connection. Loopback addresses are exempt from the per-IP
// limits unless configured otherwise, so local tests and benchmarks are not
// throttled.
//
// It does not know XMPP; c2s asks it before accepting work.
package limits
