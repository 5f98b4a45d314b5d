package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
)

// schemaLeaves lists every leaf key of the schema; map entries are shown
// with the placeholder DOMAIN.
func schemaLeaves(t reflect.Type, prefix toml.Key) []toml.Key {
	switch {
	case t == reflect.TypeFor[Duration]():
		return []toml.Key{prefix}
	case t.Kind() == reflect.Struct:
		var out []toml.Key
		for i := range t.NumField() {
			if name := tagName(t.Field(i)); name != "" {
				out = append(out, schemaLeaves(t.Field(i).Type, append(prefix[:len(prefix):len(prefix)], name))...)
			}
		}
		return out
	case t.Kind() == reflect.Map:
		return schemaLeaves(t.Elem(), append(prefix[:len(prefix):len(prefix)], "DOMAIN"))
	}
	return []toml.Key{prefix}
}

// mapExamples are the maps that are empty by default, and how the example
// file shows an entry of each (commented out).
var mapExamples = map[string]string{
	"s2s.routes":         `# "example.net" = "192.0.2.7:5269"`,
	"components.secrets": `# "bot.example.org" =`,
}

func TestExampleFileIsDefault(t *testing.T) {
	path := filepath.Join("..", "..", "parley.example.toml")
	cfg, err := Load(path)
	if err != nil {
		t.Fatalf("Load(%s): %v", path, err)
	}
	if cfg.Source() != path {
		t.Errorf("Source() = %q, want %q", cfg.Source(), path)
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("example does not validate: %v", err)
	}
	got := cfg
	got.src = nil
	if want := Default(); !reflect.DeepEqual(got, want) {
		t.Errorf("example file differs from Default():\n got %+v\nwant %+v", got, want)
	}
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Every key is written out (the certs map is shown commented out).
	for _, k := range schemaLeaves(reflect.TypeFor[Config](), nil) {
		if k[0] == "tls" && len(k) > 1 && k[1] == "certs" {
			if !strings.Contains(string(text), `# [tls.certs."example.org"]`) {
				t.Errorf("example does not document %s", k)
			}
			continue
		}
		if m := mapExamples[k[0]+"."+k[max(len(k)-2, 0)]]; len(k) > 2 && m != "" { // maps empty by default, shown commented out
			if !strings.Contains(string(text), m) {
				t.Errorf("example does not document %s", k)
			}
			continue
		}
		if !cfg.src.defined[k.String()] {
			t.Errorf("example does not set %s", k)
		}
	}
}

func TestDocsCoverEveryKey(t *testing.T) {
	text, err := os.ReadFile(filepath.Join("..", "..", "docs", "configuration.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range schemaLeaves(reflect.TypeFor[Config](), nil) {
		name := k.String()
		if k[0] == "tls" && len(k) > 1 && k[1] == "certs" {
			name = `tls.certs."DOMAIN".` + k[len(k)-1]
		}
		if !strings.Contains(string(text), "| `"+name+"` |") {
			t.Errorf("docs/configuration.md has no table row for %s", name)
		}
	}
}

func TestDefaultValidates(t *testing.T) {
	c := Default()
	if err := c.Validate(); err != nil {
		t.Fatalf("Default().Validate() = %v", err)
	}
	if !c.C2S.TLSRequired() {
		t.Error("default should require TLS")
	}
	if c.DefaultDomain() != "localhost" {
		t.Errorf("DefaultDomain = %q", c.DefaultDomain())
	}
	if !c.Serves("LOCALHOST") || c.Serves("example.org") || c.Serves("a@@b") {
		t.Error("Serves is wrong")
	}
}

func writeFile(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "parley.toml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadOverlaysDefaults(t *testing.T) {
	path := writeFile(t, `
domains = ["example.org", "example.net"]

[c2s]
ping_timeout = "10s"

[tls.certs."example.org"]
cert = "a.crt"
key = "a.key"

[limits]
max_depth = 10
`)
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.Domains = []string{"example.org", "example.net"}
	want.C2S.PingTimeout = Duration(10e9)
	want.TLS.Certs = map[string]CertPair{"example.org": {Cert: "a.crt", Key: "a.key"}}
	want.Limits.MaxDepth = 10
	got := c
	got.src = nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		text string
		// want holds, per expected problem, "line key" and a message part.
		want []string
	}{
		{"syntax", "data_dir = \"x\"\n[c2s]\naddr = \n", []string{`:3: .*syntax error`}},
		{"unterminated string", "domains = [\"a\"]\ndata_dir = \"x\n", []string{`:2: .*syntax error`}},
		{"unknown key", "domains = [\"a\"]\n\n[c2s]\naddr = \":1\"\nping_intervall = \"1s\"\n",
			[]string{`:5: c2s\.ping_intervall: unknown key; did you mean c2s\.ping_interval\?`}},
		{"unknown key case", "Data_Dir = \"x\"\n", []string{`:1: Data_Dir: unknown key; did you mean data_dir\?`}},
		{"unknown table", "[storage]\ndriver = \"sqlite\"\n[foo]\nbar = 1\nbaz = 2\n",
			[]string{`:3: foo: unknown key; valid keys at the top level are: domains, data_dir`}},
		{"unknown dotted", "log.colour = true\n", []string{`:1: log\.colour: unknown key; did you mean log\.color|:1: log\.colour: unknown key; valid keys in \[log\] are: level, format`}},
		{"unknown in certs", "[tls.certs.\"a.org\"]\ncert = \"x\"\ncrt = \"y\"\n",
			[]string{`:3: tls\.certs\."a\.org"\.crt: unknown key; did you mean tls\.certs\."a\.org"\.cert\?`}},
		{"unknown in inline table", "[tls]\ncerts = { \"a.org\" = { cert = \"x\",\n  kee = \"y\" } }\n",
			[]string{`:3: tls\.certs\."a\.org"\.kee: unknown key; did you mean`}},
		{"bad int", "[limits]\nmax_depth = \"deep\"\n",
			[]string{`:2: limits\.max_depth: invalid value: .*string.*; write a whole number without quotes`}},
		{"bad duration", "\n\n[limits]\npreauth_timeout = \"soon\"\n",
			[]string{`:4: limits\.preauth_timeout: invalid value: "soon" is not a duration`}},
		{"duration without unit", "c2s.ping_timeout = 30\n",
			[]string{`:1: c2s\.ping_timeout: invalid value: "30" is not a duration`}},
		{"bad bool", "[c2s]\nrequire_tls = \"yes\"\n",
			[]string{`:2: c2s\.require_tls: invalid value: .*; write true or false`}},
		{"bad domains", "domains = \"example.org\"\n",
			[]string{`:1: domains: invalid value: .*; write an array of strings`}},
		{"unknown and bad value", "foo = 1\n[limits]\nmax_depth = \"x\"\n",
			[]string{`:1: foo: unknown key`, `:3: limits\.max_depth: invalid value`}},
		{"two unknown", "[c2s]\nadr = \":1\"\n[admin]\naddrs = \"x\"\n",
			[]string{`:2: c2s\.adr: unknown key; did you mean c2s\.addr\?`, `:4: admin\.addrs: unknown key; did you mean admin\.addr\?`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, tt.text)
			_, err := Load(path)
			if err == nil {
				t.Fatal("Load succeeded")
			}
			ps := Problems(err)
			if len(ps) != len(tt.want) {
				t.Fatalf("got %d problems, want %d: %v", len(ps), len(tt.want), err)
			}
			for i, p := range ps {
				if p.File != path {
					t.Errorf("problem %d: File = %q, want %q", i, p.File, path)
				}
				if !regexp.MustCompile(tt.want[i]).MatchString(p.Error()) {
					t.Errorf("problem %d = %q, want match %q", i, p.Error(), tt.want[i])
				}
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.toml"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("err = %v, want ErrNotExist", err)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Config)
		want   []string // "key: message part"
	}{
		{"no domains", func(c *Config) { c.Domains = nil }, []string{"domains: must list at least one domain"}},
		{"bad domain", func(c *Config) { c.Domains = []string{"a b"} }, []string{`domains: entry 1 ("a b") is not a valid domain`}},
		{"domain with localpart", func(c *Config) { c.Domains = []string{"x", "user@host"} }, []string{`domains: entry 2 ("user@host") is not a valid domain`}},
		{"domain case", func(c *Config) { c.Domains = []string{"Example.ORG"} }, []string{`domains: entry 1 ("Example.ORG") is not in canonical form; write it as "example.org"`}},
		{"duplicate domain", func(c *Config) { c.Domains = []string{"a.org", "a.org"} }, []string{`domains: entry 2 ("a.org") is listed twice`}},
		{"data dir", func(c *Config) { c.DataDir = " " }, []string{"data_dir: must not be empty"}},
		{"log", func(c *Config) { c.Log.Level = "trace"; c.Log.Format = "xml" }, []string{
			`log.level: is "trace"; must be one of debug, info, warn, error`, `log.format: is "xml"; must be text or json`}},
		{"addr no port", func(c *Config) { c.C2S.Addr = "localhost" }, []string{`c2s.addr: "localhost" is not host:port`}},
		{"addr bad port", func(c *Config) { c.Admin.Addr = "127.0.0.1:http" }, []string{`admin.addr: "127.0.0.1:http" has port "http"`}},
		{"addr port range", func(c *Config) { c.Admin.Addr = ":70000" }, []string{`admin.addr: ":70000" has port "70000"`}},
		{"http clash", func(c *Config) { c.HTTP.TLSAddr = ":5280" }, []string{`http.tls_addr: ":5280" uses the same port as http.addr`}},
		{"http origins", func(c *Config) { c.HTTP.CORSOrigins = []string{"*", "chat.example.org"} }, []string{`http.cors_origins: entry 2 ("chat.example.org") is not a web origin`}},
		{"http urls", func(c *Config) { c.HTTP.WebSocketURL = "https://x/ws"; c.HTTP.BOSHURL = "/http-bind" }, []string{`http.websocket_url: "https://x/ws" is not an absolute ws://`, `http.bosh_url: "/http-bind" is not an absolute http://`}},
		{"bosh hold", func(c *Config) { c.HTTP.BOSH.MaxHold = 17 }, []string{`http.bosh.max_hold: is 17; must be 0 to 16`}},
		{"addr clash", func(c *Config) { c.C2S.TLSAddr = "127.0.0.1:5222" }, []string{`c2s.tls_addr: "127.0.0.1:5222" uses the same port as c2s.addr`}},
		{"addr no clash", func(c *Config) { c.C2S.Addr = "127.0.0.1:0"; c.C2S.TLSAddr = ":0"; c.Admin.Addr = "" }, nil},
		{"durations", func(c *Config) { c.C2S.PingInterval = 0; c.Limits.AuthBanDuration = -1 }, []string{
			`c2s.ping_interval: is 0s; must be a positive duration such as "5m0s"`, "limits.auth_ban_duration: is -1ns"}},
		{"limits", func(c *Config) { c.Limits.MaxDepth = 0; c.Limits.BurstBytes = -5 }, []string{
			"limits.max_depth: is 0; must be greater than 0 (the default is 64)", "limits.burst_bytes: is -5"}},
		{"preauth larger", func(c *Config) { c.Limits.PreAuthStanzaBytes = 1 << 20 }, []string{"limits.preauth_stanza_bytes: (1048576) is larger than limits.max_stanza_bytes"}},
		{"stanza memory below twice the bytes", func(c *Config) { c.Limits.MaxStanzaMemory = 300 << 10 }, []string{
			"limits.max_stanza_memory: (307200) is less than twice limits.max_stanza_bytes (262144); a stanza of that many bytes of plain text would be refused, set it to at least 524288"}},
		{"stanza memory zero", func(c *Config) { c.Limits.MaxStanzaMemory = 0 }, []string{"limits.max_stanza_memory: is 0; must be greater than 0 (the default is 2097152)"}},
		{"byte rate off", func(c *Config) { c.Limits.BytesPerSecond = 0 }, nil},
		{"byte rate negative", func(c *Config) { c.Limits.BytesPerSecond = -1 }, []string{"limits.bytes_per_second: is -1; must be 0 (no limit) or more"}},
		{"trusted proxies", func(c *Config) {
			c.Limits.TrustedProxies = []string{"10.0.0.0/8", "192.0.2.1", "fd00::/8", "::1", "10.0.0.0/33", "proxy.example"}
		}, []string{`limits.trusted_proxies: entry 5 ("10.0.0.0/33") is not a network or address`, `limits.trusted_proxies: entry 6 ("proxy.example") is not a network or address`}},
		{"driver", func(c *Config) { c.Storage.Driver = "oracle" }, []string{`storage.driver: is "oracle"; must be sqlite, postgres or mysql`}},
		{"postgres dsn", func(c *Config) { c.Storage.Driver = "postgres" }, []string{"storage.dsn: is empty; the postgres driver needs a connection string"}},
		{"mysql ok", func(c *Config) { c.Storage.Driver = "mysql"; c.Storage.DSN = "u:p@/db" }, nil},
		{"sqlite dsn query", func(c *Config) { c.Storage.DSN = "x.db?mode=ro" }, []string{"storage.dsn: is \"x.db?mode=ro\""}},
		{"conns", func(c *Config) { c.Storage.MaxOpenConns = 0 }, []string{"storage.max_open_conns: is 0"}},
		{"account cache size", func(c *Config) { c.Storage.AccountCacheSize = -1 }, []string{"storage.account_cache_size: is -1; must be 0 (no cache) or more"}},
		{"account cache ttls", func(c *Config) {
			c.Storage.AccountCacheTTL = Duration(-time.Second)
			c.Storage.AccountNegativeTTL = Duration(-time.Second)
		}, []string{"storage.account_cache_ttl: is -1s; must not be negative", "storage.account_negative_ttl: is -1s; must not be negative"}},
		{"iterations", func(c *Config) { c.Auth.ScramIterations = 1000 }, []string{"auth.scram_iterations: is 1000; must be at least 4096"}},
		{"scram hashes empty", func(c *Config) { c.Auth.ScramHashes = nil }, []string{"auth.scram_hashes: is empty"}},
		{"scram hash unknown", func(c *Config) { c.Auth.ScramHashes = []string{"SHA-256", "sha-1", "MD5"} }, []string{`auth.scram_hashes: has "sha-1"`, `auth.scram_hashes: has "MD5"`}},
		{"scram hash twice", func(c *Config) { c.Auth.ScramHashes = []string{"SHA-256", "SHA-256"} }, []string{`auth.scram_hashes: lists "SHA-256" twice`}},
		{"scram SHA-256 only", func(c *Config) { c.Auth.ScramHashes = []string{"SHA-256"} }, nil},
		{"channel binding downgrade strict", func(c *Config) { c.Auth.ChannelBindingDowngrade = ChannelBindingStrict }, nil},
		{"channel binding downgrade unknown", func(c *Config) { c.Auth.ChannelBindingDowngrade = "off" }, []string{`auth.channel_binding_downgrade: is "off"; must be "compatible"`}},
		{"channel binding downgrade empty", func(c *Config) { c.Auth.ChannelBindingDowngrade = "" }, []string{`auth.channel_binding_downgrade: is ""`}},
		{"cert without key", func(c *Config) { c.TLS.CertFile = "x.crt" }, []string{"tls.key_file: is empty but tls.cert_file is set"}},
		{"certs unknown domain", func(c *Config) {
			c.TLS.Certs = map[string]CertPair{"other.org": {Cert: "c"}}
		}, []string{`tls.certs."other.org": domain "other.org" is not in domains (localhost)`, `tls.certs."other.org".key: is empty`}},
		{"insecure overrides in code", func(c *Config) { c.C2S.InsecurePlaintext = true }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			tt.change(&c)
			err := c.Validate()
			ps := Problems(err)
			if len(ps) != len(tt.want) {
				t.Fatalf("got %d problems, want %d: %v", len(ps), len(tt.want), err)
			}
			for i, p := range ps {
				if !strings.Contains(p.Error(), tt.want[i]) {
					t.Errorf("problem %d = %q, want it to contain %q", i, p.Error(), tt.want[i])
				}
				if p.File != "" || p.Line != 0 {
					t.Errorf("problem %d has a location without a file: %+v", i, p)
				}
			}
		})
	}
}

func TestValidateAllAtOnceWithLines(t *testing.T) {
	path := writeFile(t, `# comment
domains = [
  "Example.org",
]
data_dir = "d"

[c2s]
require_tls = true
insecure_plaintext = true
ping_timeout = "-1s"

[limits]
max_depth = 0

[tls.certs."nope.org"]
cert = "c"
key = "k"
`)
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	got := Problems(c.Validate())
	want := []struct {
		line int
		key  string
	}{
		{2, "domains"},
		{10, "c2s.ping_timeout"},
		{9, "c2s.insecure_plaintext"},
		{15, `tls.certs."nope.org"`},
		{13, "limits.max_depth"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d problems, want %d: %v", len(got), len(want), got)
	}
	for i, w := range want {
		if got[i].File != path || got[i].Line != w.line || got[i].Key != w.key {
			t.Errorf("problem %d = %s:%d %s, want %s:%d %s (%s)", i, got[i].File, got[i].Line, got[i].Key, path, w.line, w.key, got[i].Msg)
		}
	}

	// A key overridden after Load is no longer blamed on the file.
	c.Domains = []string{"BAD"}
	c.MarkOverridden("domains")
	for _, p := range Problems(c.Validate()) {
		if p.Key == "domains" && (p.File != "" || p.Line != 0) {
			t.Errorf("overridden key still has a location: %v", p)
		}
	}
}

func TestInsecurePlaintextOverridesRequireTLS(t *testing.T) {
	c, err := Load(writeFile(t, "[c2s]\ninsecure_plaintext = true\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if !c.C2S.RequireTLS || c.C2S.TLSRequired() {
		t.Errorf("RequireTLS=%v TLSRequired=%v, want true/false", c.C2S.RequireTLS, c.C2S.TLSRequired())
	}
}

func TestKeyLines(t *testing.T) {
	text := `a = """
b = 1
"""
c = [
  1, # d = 2
  { e = 3 },
]
'f g'.h = 'x'
[t] # [u]
i = { j = { k = 1 },
  l = 2 }
[[arr]]
m = 1979-05-27 07:32:00
n = '''
o = 1'''
"p\u0041" = 1
`
	got := keyLines(text)
	want := map[string]int{
		"a": 1, "c": 4, `"f g"`: 8, `"f g".h`: 8, "t": 9, "t.i": 10, "t.i.j": 10,
		"t.i.j.k": 10, "t.i.l": 11, "arr": 12, "arr.m": 13, "arr.n": 14, "arr.pA": 16,
	}
	for k, l := range want {
		if got[k] != l {
			t.Errorf("line of %s = %d, want %d", k, got[k], l)
		}
	}
	for _, k := range []string{"b", "d", "u", "o", "t.o", "arr.o"} {
		if _, ok := got[k]; ok {
			t.Errorf("%s recorded but is not a key", k)
		}
	}
}
