package config

import (
	"strings"
	"testing"
)

func TestValidatePubSub(t *testing.T) {
	for _, tt := range []struct {
		name   string
		change func(*PubSub)
		want   []string
	}{
		{"default", func(*PubSub) {}, nil},
		{"PEP only", func(p *PubSub) { p.Subdomain = "" }, nil},
		{"off ignores the rest", func(p *PubSub) { p.Enabled, p.Create, p.MaxItems = false, "nobody", 0 }, nil},
		{"subdomain", func(p *PubSub) { p.Subdomain = "Pub Sub" }, []string{`pubsub.subdomain: is "Pub Sub"`}},
		{"same as muc", func(p *PubSub) { p.Subdomain = "conference" }, []string{`pubsub.subdomain: is "conference", which muc.subdomain names too`}},
		{"create", func(p *PubSub) { p.Create = "nobody" }, []string{`pubsub.create: is "nobody"; must be everyone, local or admins`}},
		{"admins", func(p *PubSub) { p.Admins = []string{"admin@example.org", "example.org", "a@b/c"} }, []string{
			`pubsub.admins: entry 2 ("example.org") is not a bare JID`, `pubsub.admins: entry 3 ("a@b/c") is not a bare JID`}},
		{"numbers", func(p *PubSub) { p.MaxItemBytes, p.MaxNodesPerUser, p.MaxItems = 0, -1, 0 }, []string{
			"pubsub.max_item_bytes: is 0; must be greater than 0", "pubsub.max_nodes_per_user: is -1", "pubsub.max_items: is 0"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			tt.change(&c.PubSub)
			ps := Problems(c.Validate())
			if len(ps) != len(tt.want) {
				t.Fatalf("got %d problems, want %d: %v", len(ps), len(tt.want), ps)
			}
			for i, p := range ps {
				if !strings.Contains(p.Error(), tt.want[i]) {
					t.Errorf("problem %d = %q, want it to contain %q", i, p.Error(), tt.want[i])
				}
			}
		})
	}
}
