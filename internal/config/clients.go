package config

import "time"

// Clients configures what the server learns about the client software of
// each session, shown on the admin console's sessions page and in the
// REST API: a client that names itself in its XEP-0388 <user-agent/> is
// shown by that; any other is asked once, after its initial presence,
// with a XEP-0092 version query.
type Clients struct {
	// AskVersion sends the XEP-0092 query.
	AskVersion bool `toml:"ask_version"`
	// AskTimeout is how long an unanswered query is waited for.
	AskTimeout Duration `toml:"ask_timeout"`
}

// defaultClients is Clients' defaults (Default uses it).
func defaultClients() Clients {
	return Clients{AskVersion: true, AskTimeout: Duration(30 * time.Second)}
}

// clients checks the [clients] section.
func (v *validator) clients() {
	v.positiveDuration("clients.ask_timeout", v.c.Clients.AskTimeout, defaultClients().AskTimeout)
}
