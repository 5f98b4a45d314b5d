package config

import (
	"fmt"
	"slices"

	"github.com/parleyim/parley/internal/jid"
)

// PubSub configures publish-subscribe: PEP on every account (XEP-0163)
// and the PubSub service (XEP-0060) on Subdomain.<each served domain>.
type PubSub struct {
	// Enabled serves PEP and the service.
	Enabled bool `toml:"enabled"`
	// Subdomain is the label put before each served domain to name the
	// service, e.g. "pubsub" for pubsub.example.org; "" runs PEP only.
	Subdomain string `toml:"subdomain"`
	// Create says who may create nodes on the service: "everyone",
	// "local" (accounts of the served domains) or "admins".
	Create string `toml:"create"`
	// Admins are bare JIDs that may always create nodes on the service.
	Admins []string `toml:"admins"`
	// MaxItemBytes bounds one item's payload (not-acceptable with
	// payload-too-big past it).
	MaxItemBytes int `toml:"max_item_bytes"`
	// MaxNodesPerUser bounds the nodes one user creates on their account
	// and, separately, on the service (policy-violation past it).
	MaxNodesPerUser int `toml:"max_nodes_per_user"`
	// MaxItems is the most items a node keeps, and what
	// pubsub#max_items=max means.
	MaxItems int `toml:"max_items"`
}

// defaultPubSub is the [pubsub] section's default.
func defaultPubSub() PubSub {
	return PubSub{Enabled: true, Subdomain: "pubsub", Create: "local", Admins: []string{},
		MaxItemBytes: 256 << 10, MaxNodesPerUser: 1000, MaxItems: 1000}
}

func (v *validator) pubsub() {
	p, d := v.c.PubSub, defaultPubSub()
	if !p.Enabled {
		return
	}
	if p.Subdomain != "" {
		if j, err := jid.New("", p.Subdomain, ""); err != nil || j.Domain() != p.Subdomain {
			v.add("pubsub.subdomain", fmt.Sprintf("is %q; must be DNS labels in canonical (lower-case) form, such as %q, or \"\" for PEP only", p.Subdomain, d.Subdomain))
		}
		for _, dom := range v.c.Domains {
			if slices.Contains(v.c.Domains, p.Subdomain+"."+dom) {
				v.add("pubsub.subdomain", fmt.Sprintf("names %q, which is also a user domain in domains; choose another subdomain", p.Subdomain+"."+dom))
			}
			if v.c.MUC.Enabled && v.c.MUC.Subdomain == p.Subdomain {
				v.add("pubsub.subdomain", fmt.Sprintf("is %q, which muc.subdomain names too; choose another", p.Subdomain))
				break
			}
		}
	}
	switch p.Create {
	case "everyone", "local", "admins":
	default:
		v.add("pubsub.create", fmt.Sprintf("is %q; must be everyone, local or admins", p.Create))
	}
	for i, a := range p.Admins {
		if j, err := jid.Parse(a); err != nil || !j.IsBare() || j.Local() == "" {
			v.add("pubsub.admins", fmt.Sprintf("entry %d (%q) is not a bare JID such as \"admin@example.org\"", i+1, a))
		}
	}
	for _, c := range []struct {
		key      string
		val, def int
	}{{"pubsub.max_item_bytes", p.MaxItemBytes, d.MaxItemBytes}, {"pubsub.max_nodes_per_user", p.MaxNodesPerUser, d.MaxNodesPerUser},
		{"pubsub.max_items", p.MaxItems, d.MaxItems}} {
		if c.val <= 0 {
			v.add(c.key, fmt.Sprintf("is %d; must be greater than 0 (the default is %d)", c.val, c.def))
		}
	}
}
