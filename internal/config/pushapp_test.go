package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestValidatePushApp(t *testing.T) {
	key := filepath.Join(t.TempDir(), "key.p8")
	if err := os.WriteFile(key, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	on := func(a *PushAppServer) {
		a.Enabled, a.APNs.KeyFile, a.APNs.KeyID, a.APNs.TeamID = true, key, "K", "T"
	}
	for _, tt := range []struct {
		name   string
		change func(*Config)
		want   []string
	}{
		{"default (off)", func(*Config) {}, nil},
		{"off ignores the rest", func(c *Config) { c.Push.AppServer.Workers = 0 }, nil},
		{"apns", func(c *Config) { on(&c.Push.AppServer) }, nil},
		{"no provider", func(c *Config) { c.Push.AppServer.Enabled = true }, []string{"push.appserver: is enabled with neither"}},
		{"no adhoc", func(c *Config) { on(&c.Push.AppServer); c.AdHoc.Enabled = false }, []string{"adhoc.enabled is false"}},
		{"missing key", func(c *Config) { on(&c.Push.AppServer); c.Push.AppServer.APNs.KeyFile = key + ".gone" }, []string{"push.appserver.apns.key_file: cannot be read"}},
		{"key without ids", func(c *Config) { on(&c.Push.AppServer); c.Push.AppServer.APNs.TeamID = "" }, []string{"needs key_id and team_id"}},
		{"apns values", func(c *Config) {
			on(&c.Push.AppServer)
			a := &c.Push.AppServer.APNs
			a.URL, a.PushType, a.Priority = "http://api.push.apple.com", "voip", 7
		}, []string{`apns.url: "http://api.push.apple.com" is not an https URL`, `push_type: is "voip"`, "priority: is 7"}},
		{"numbers", func(c *Config) {
			on(&c.Push.AppServer)
			c.Push.AppServer.Workers, c.Push.AppServer.QueueSize, c.Push.AppServer.Retries = 0, -1, 11
		}, []string{"push.appserver.workers: is 0", "push.appserver.queue_size: is -1", "push.appserver.retries: is 11"}},
		{"subdomain taken", func(c *Config) { on(&c.Push.AppServer); c.Push.AppServer.Subdomain = "conference" }, []string{"muc.subdomain or pubsub.subdomain"}},
		{"component", func(c *Config) {
			on(&c.Push.AppServer)
			c.Components.Secrets = map[string]string{"push.localhost": "s"}
		}, []string{"components.secrets serves too"}},
		{"fcm file", func(c *Config) {
			c.Push.AppServer.Enabled, c.Push.AppServer.FCM.CredentialsFile = true, key+".gone"
		}, []string{"push.appserver.fcm.credentials_file: cannot be read"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			tt.change(&c)
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
