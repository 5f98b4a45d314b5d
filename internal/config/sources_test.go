package config

import "testing"

// TestSettingsSources: every key is listed once, with its source: the
// file's keys as file, flags as flag, the rest as default; secrets are
// hidden.
func TestSettingsSources(t *testing.T) {
	cfg, err := parse("p.toml", "domains = [\"example.org\"]\n[storage]\ndsn = \"user:pw@/db\"\n[tls.certs.\"example.org\"]\ncert = \"c\"\nkey = \"k\"\n")
	if err != nil {
		t.Fatal(err)
	}
	cfg.DataDir = "/d"
	cfg.MarkOverridden("data_dir")
	got := map[string]Setting{}
	for _, s := range cfg.Settings() {
		if _, dup := got[s.Key]; dup {
			t.Errorf("%s listed twice", s.Key)
		}
		got[s.Key] = s
	}
	for key, want := range map[string]Setting{
		"domains":           {Value: `["example.org"]`, Source: FromFile},
		"data_dir":          {Value: `"/d"`, Source: FromFlag},
		"c2s.addr":          {Value: `":5222"`, Source: FromDefault},
		"storage.dsn":       {Value: Redacted, Source: FromFile},
		"admin.pprof":       {Value: "false", Source: FromDefault},
		"c2s.ping_interval": {Value: `"5m0s"`, Source: FromDefault},
		"tls.certs":         {Source: FromFile},
	} {
		g, ok := got[key]
		if !ok {
			t.Errorf("%s missing", key)
			continue
		}
		if g.Source != want.Source || (want.Value != "" && g.Value != want.Value) {
			t.Errorf("%s = %q from %s; want %q from %s", key, g.Value, g.Source, want.Value, want.Source)
		}
	}
	// Built in code, with a flag applied: the flag is still known.
	d := Default()
	d.MarkOverridden("domains")
	for _, s := range d.Settings() {
		if want := map[bool]string{true: FromFlag, false: FromDefault}[s.Key == "domains"]; s.Source != want {
			t.Errorf("default config: %s from %s, want %s", s.Key, s.Source, want)
		}
	}
}
