package admin

import "time"

// SetClock makes the console read the time from now (expiry tests).
func SetClock(c *Console, now func() time.Time) { c.clock.Store(&now) }

// APIRoutes lists the REST routes the console serves, as "METHOD /path".
func APIRoutes(c *Console) []string {
	var out []string
	for _, r := range c.apiList() {
		out = append(out, r.method+" "+r.path)
	}
	return out
}

// OpenAPIDocument is the embedded document.
var OpenAPIDocument = openAPI
