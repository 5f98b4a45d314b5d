package config

import (
	"fmt"
	"time"

	"github.com/parleyim/parley/internal/jid"
)

// Admin is the admin HTTP listener: /metrics, /healthz, the web console
// and the REST API under /api/v1 (package admin).
type Admin struct {
	Addr string `toml:"addr"` // default 127.0.0.1:9090; "" disables
	// Pprof serves Go's runtime profiles under /debug/pprof/ on the admin
	// listener, answered only to loopback clients.
	Pprof bool `toml:"pprof"`
	// Users are the bare JIDs of local accounts that may log in to the web
	// console with their XMPP password, besides the server's Admins (the
	// top-level admins key), who always may. Both empty: nobody may (the
	// REST API, with tokens from `parley token create`, still works).
	Users []string `toml:"users"`
	// SessionTTL is how long a console login lasts without use; each
	// request renews it.
	SessionTTL Duration `toml:"session_ttl"`
	// LoginFailures failed console logins within LoginWindow, from one
	// address or for one account, lock further attempts from that address
	// or for that account for LoginBan.
	LoginFailures int      `toml:"login_failures"`
	LoginWindow   Duration `toml:"login_window"`
	LoginBan      Duration `toml:"login_ban"`
	// SampleInterval is how often the dashboard's figures are sampled
	// for its chart of the last hour.
	SampleInterval Duration `toml:"sample_interval"`
}

func defaultAdmin() Admin {
	return Admin{
		Addr: "127.0.0.1:9090", Users: []string{},
		SessionTTL:    Duration(30 * time.Minute),
		LoginFailures: 5, LoginWindow: Duration(10 * time.Minute), LoginBan: Duration(15 * time.Minute),
		SampleInterval: Duration(10 * time.Second),
	}
}

// admin checks the [admin] keys beyond the address (listeners checks it).
func (v *validator) admin() {
	a, d := v.c.Admin, defaultAdmin()
	for i, u := range a.Users {
		j, err := jid.Parse(u)
		if err != nil || !j.IsBare() || j.Local() == "" || j.String() != u {
			v.add("admin.users", fmt.Sprintf("entry %d (%q) is not a bare JID in canonical form such as \"admin@example.org\"", i+1, u))
			continue
		}
		if !v.c.Serves(j.Domain()) {
			v.add("admin.users", fmt.Sprintf("entry %d (%q) is not on a served domain (domains); console users log in with a local account", i+1, u))
		}
	}
	for _, k := range []struct {
		key      string
		val, def Duration
		min      time.Duration
	}{
		{"admin.session_ttl", a.SessionTTL, d.SessionTTL, time.Minute},
		{"admin.login_window", a.LoginWindow, d.LoginWindow, time.Second},
		{"admin.login_ban", a.LoginBan, d.LoginBan, time.Second},
		{"admin.sample_interval", a.SampleInterval, d.SampleInterval, time.Second},
	} {
		if k.val.D() < k.min {
			v.add(k.key, fmt.Sprintf("is %s; must be at least %s (the default is %s)", k.val.D(), k.min, k.def.D()))
		}
	}
	if a.LoginFailures <= 0 {
		v.add("admin.login_failures", fmt.Sprintf("is %d; must be greater than 0 (the default is %d)", a.LoginFailures, d.LoginFailures))
	}
}
