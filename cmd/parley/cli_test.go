package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/parleyim/parley/internal/account"
	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/sasl"
	"github.com/parleyim/parley/internal/storage"
)

type result struct {
	code           int
	stdout, stderr string
}

// cli runs parley in-process with args and stdin, as main would.
func cli(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return result{code, out.String(), errb.String()}
}

func (r result) ok(t *testing.T) result {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	return r
}

func (r result) fails(t *testing.T, wantErr string) result {
	t.Helper()
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stderr, wantErr) {
		t.Fatalf("stderr = %q, want it to contain %q", r.stderr, wantErr)
	}
	if strings.Contains(r.stderr, "Usage:") {
		t.Errorf("usage printed for a runtime error:\n%s", r.stderr)
	}
	return r
}

// checkPassword opens the data dir's database and checks pw against the
// stored SCRAM-SHA-256 credentials of j.
// accountStore opens the account store of dataDir for the test.
func accountStore(t *testing.T, dataDir string) *account.Store {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = dataDir
	db, err := storage.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return account.NewStore(db, 0)
}

func checkPassword(t *testing.T, dataDir, j, pw string) bool {
	t.Helper()
	c, err := accountStore(t, dataDir).Credentials(context.Background(), jid.MustParse(j), sasl.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := sasl.PreparePassword(pw)
	want, err := sasl.DeriveCredentials(c.Hash, p, c.Salt, c.Iterations)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Equal(want.StoredKey, c.StoredKey)
}

// isDisabled reads the disabled state of account j in dataDir.
func isDisabled(t *testing.T, dataDir, j string) bool {
	t.Helper()
	d, err := accountStore(t, dataDir).Disabled(context.Background(), jid.MustParse(j))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestUserRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	dd := "--data-dir=" + dir

	r := cli(t, "", "user", "add", "Alice@LOCALHOST", "--password", "one", dd).ok(t)
	if r.stdout != "user alice@localhost added\n" {
		t.Errorf("add output = %q", r.stdout)
	}
	// Password from standard input (not a terminal): one line.
	cli(t, "s3cret pass\nignored\n", "user", "add", "bob", dd).ok(t)
	// Without a trailing newline.
	cli(t, "carol-pw", "user", "add", "carol@localhost", dd).ok(t)

	r = cli(t, "", "user", "list", dd).ok(t)
	if want := "alice@localhost\nbob@localhost\ncarol@localhost\n"; r.stdout != want {
		t.Errorf("list = %q, want %q", r.stdout, want)
	}
	if !checkPassword(t, dir, "bob@localhost", "s3cret pass") {
		t.Error("bob's password from stdin not stored correctly")
	}

	r = cli(t, "two\n", "user", "passwd", "alice@localhost", dd).ok(t)
	if r.stdout != "password of alice@localhost changed\n" {
		t.Errorf("passwd output = %q", r.stdout)
	}
	if !checkPassword(t, dir, "alice@localhost", "two") || checkPassword(t, dir, "alice@localhost", "one") {
		t.Error("password not changed")
	}

	r = cli(t, "", "user", "disable", "alice@localhost", dd).ok(t)
	if r.stdout != "user alice@localhost disabled\n" || !isDisabled(t, dir, "alice@localhost") {
		t.Errorf("disable output = %q, or not disabled", r.stdout)
	}
	r = cli(t, "", "user", "enable", "alice@localhost", dd).ok(t)
	if r.stdout != "user alice@localhost enabled\n" || isDisabled(t, dir, "alice@localhost") {
		t.Errorf("enable output = %q, or still disabled", r.stdout)
	}

	r = cli(t, "", "user", "del", "alice@localhost", dd).ok(t)
	if r.stdout != "user alice@localhost deleted\n" {
		t.Errorf("del output = %q", r.stdout)
	}
	r = cli(t, "", "user", "list", dd).ok(t)
	if want := "bob@localhost\ncarol@localhost\n"; r.stdout != want {
		t.Errorf("list after del = %q, want %q", r.stdout, want)
	}

	cli(t, "", "user", "del", "alice@localhost", dd).fails(t, "parley: user alice@localhost does not exist")
	cli(t, "x\n", "user", "passwd", "alice@localhost", dd).fails(t, "user alice@localhost does not exist")
	cli(t, "", "user", "disable", "alice@localhost", dd).fails(t, "user alice@localhost does not exist")
}

func TestUserErrors(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	dd := "--data-dir=" + dir
	cli(t, "", "user", "add", "alice@localhost", "--password", "pw", dd).ok(t)

	tests := []struct {
		name  string
		stdin string
		args  []string
		want  string
	}{
		{"duplicate", "", []string{"user", "add", "ALICE@localhost", "--password", "x"}, "parley: user alice@localhost already exists\n"},
		{"malformed", "", []string{"user", "add", "a@b@c", "--password", "x"}, `parley: invalid JID "a@b@c": jid-malformed`},
		{"no localpart", "", []string{"user", "add", "@localhost", "--password", "x"}, `parley: invalid JID "@localhost": jid-malformed`},
		{"resource", "", []string{"user", "add", "bob@localhost/phone", "--password", "x"}, `accounts have no resource; write it as bob@localhost`},
		{"unknown domain", "", []string{"user", "add", "bob@example.org", "--password", "x"},
			"parley: domain example.org is not served by this server (served: localhost); add it to domains in the config\n"},
		{"unknown domain del", "", []string{"user", "del", "bob@example.org"}, "domain example.org is not served"},
		{"list unknown domain", "", []string{"user", "list", "--domain", "example.org"}, "domain example.org is not served"},
		{"empty password", "", []string{"user", "add", "bob", "--password", ""}, "parley: the password must not be empty"},
		{"empty stdin line", "\n", []string{"user", "add", "bob"}, "parley: the password must not be empty"},
		{"no stdin", "", []string{"user", "add", "bob"}, "parley: no password given"},
		{"control char", "", []string{"user", "add", "bob", "--password", "a\x07b"}, "not allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cli(t, tt.stdin, append(tt.args, dd)...).fails(t, tt.want)
		})
	}
	r := cli(t, "", "user", "list", dd).ok(t)
	if r.stdout != "alice@localhost\n" {
		t.Errorf("failed commands changed the accounts: %q", r.stdout)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"user", "add"},
		{"user", "add", "a", "b"},
		{"user", "add", "a", "--bogus"},
		{"user", "frob"},
		{"frob"},
		{"version", "extra"},
	} {
		r := cli(t, "", args...)
		if r.code != 1 || !strings.HasPrefix(r.stderr, "parley: ") || !strings.Contains(r.stderr, "--help' for usage.") {
			t.Errorf("%q: exit %d, stderr %q", args, r.code, r.stderr)
		}
	}
}

func TestDomainFlag(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	dd := "--data-dir=" + dir
	cli(t, "", "--domain", "Example.ORG,example.net", "user", "add", "a@example.org", "--password", "x", dd).ok(t)
	cli(t, "", "--domain", "example.org", "--domain", "example.net", "user", "add", "b@EXAMPLE.NET", "--password", "x", dd).ok(t)
	// A bare username goes to the first domain.
	cli(t, "", "--domain", "example.net,example.org", "user", "add", "c", "--password", "x", dd).ok(t)
	cli(t, "", "user", "add", "d@example.org", "--password", "x", dd).fails(t, "domain example.org is not served")

	r := cli(t, "", "user", "list", dd).ok(t) // all domains in the database
	if want := "a@example.org\nb@example.net\nc@example.net\n"; r.stdout != want {
		t.Errorf("list = %q, want %q", r.stdout, want)
	}
	cfgFile := filepath.Join(t.TempDir(), "p.toml")
	os.WriteFile(cfgFile, []byte(`domains = ["example.org", "example.net"]`+"\n"), 0o600)
	r = cli(t, "", "user", "list", "--domain", "EXAMPLE.NET", "--config", cfgFile, dd).ok(t)
	if want := "b@example.net\nc@example.net\n"; r.stdout != want {
		t.Errorf("list --domain = %q, want %q", r.stdout, want)
	}
	cli(t, "", "--domain", "bad domain", "user", "del", "x", dd).fails(t, "domains: entry 1")
}

func TestConfigFileUsed(t *testing.T) {
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "fromfile")
	cfgFile := filepath.Join(tmp, "parley.toml")
	os.WriteFile(cfgFile, []byte("domains = [\"example.com\"]\ndata_dir = \""+filepath.ToSlash(dir)+"\"\n"), 0o600)
	cli(t, "", "user", "add", "x@example.com", "--password", "p", "--config", cfgFile).ok(t)
	if _, err := os.Stat(filepath.Join(dir, "parley.db")); err != nil {
		t.Errorf("database not in the config's data_dir: %v", err)
	}
	// --data-dir overrides the file.
	other := filepath.Join(tmp, "other")
	cli(t, "", "user", "list", "--config", cfgFile, "--data-dir", other).ok(t)
	if _, err := os.Stat(filepath.Join(other, "parley.db")); err != nil {
		t.Errorf("--data-dir not applied: %v", err)
	}
	// An invalid file stops every command, naming the line.
	bad := filepath.Join(tmp, "bad.toml")
	os.WriteFile(bad, []byte("domains = [\"example.com\"]\n[limits]\nmax_depth = 0\nfoo = 1\n"), 0o600)
	cli(t, "", "user", "list", "--config", bad).fails(t, "bad.toml:4: limits.foo: unknown key")
	bad2 := filepath.Join(tmp, "bad2.toml")
	os.WriteFile(bad2, []byte("[limits]\nmax_depth = 0\n"), 0o600)
	cli(t, "", "user", "list", "--config", bad2).fails(t, "bad2.toml:2: limits.max_depth: is 0")
}

func TestConfigCheck(t *testing.T) {
	tmp := t.TempDir()
	r := cli(t, "", "config", "check", "--config", filepath.Join("..", "..", "parley.example.toml")).ok(t)
	if r.stdout != "config OK\n" {
		t.Errorf("example: %q", r.stdout)
	}
	cli(t, "", "config", "check").ok(t) // defaults

	bad := filepath.Join(tmp, "bad.toml")
	os.WriteFile(bad, []byte(`domains = ["Example.org"]

[c2s]
addr = "localhost"
ping_timeout = "-1s"
`), 0o600)
	r = cli(t, "", "config", "check", "--config", bad)
	if r.code != 1 {
		t.Fatalf("exit %d", r.code)
	}
	wantLines := []string{
		regexp.QuoteMeta(bad) + `:1: domains: entry 1 \("Example.org"\) is not in canonical form; write it as "example.org"`,
		regexp.QuoteMeta(bad) + `:4: c2s.addr: "localhost" is not host:port`,
		regexp.QuoteMeta(bad) + `:5: c2s.ping_timeout: is -1s; must be a positive duration`,
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != len(wantLines) {
		t.Fatalf("output:\n%s", r.stdout)
	}
	for i, w := range wantLines {
		if !regexp.MustCompile("^" + w).MatchString(lines[i]) {
			t.Errorf("line %d = %q, want match %q", i, lines[i], w)
		}
	}
	if r.stderr != "parley: 3 problems in "+bad+"\n" {
		t.Errorf("stderr = %q", r.stderr)
	}

	syntax := filepath.Join(tmp, "syntax.toml")
	os.WriteFile(syntax, []byte("domains = [\"a\"]\n\n[c2s\n"), 0o600)
	r = cli(t, "", "config", "check", "--config", syntax)
	if r.code != 1 || !strings.Contains(r.stdout, "syntax.toml:") || !strings.Contains(r.stdout, "syntax error") {
		t.Errorf("syntax error: exit %d, %q", r.code, r.stdout)
	}
	r = cli(t, "", "config", "check", "--config", filepath.Join(tmp, "missing.toml"))
	if r.code != 1 || !strings.Contains(r.stdout, "no such file") {
		t.Errorf("missing file: exit %d, %q", r.code, r.stdout)
	}
}

func TestVersion(t *testing.T) {
	r := cli(t, "", "version").ok(t)
	if !regexp.MustCompile(`^parley \S+\ngo: go\S+ \S+/\S+\nrevision: .+\n$`).MatchString(r.stdout) {
		t.Errorf("version output = %q", r.stdout)
	}
}

// TestHTTPAddrChecked: a public HTTP address that is not host:port is
// refused at start, naming the key.
func TestHTTPAddrChecked(t *testing.T) {
	dir := t.TempDir()
	r := cli(t, "", "serve", "--data-dir", dir, "--c2s-addr", "127.0.0.1:0", "--c2s-tls-addr", "", "--admin-addr", "", "--s2s-addr", "",
		"--http-addr", "127.0.0.1:http", "--http-tls-addr", "")
	r.fails(t, "http.addr")
	if !strings.Contains(r.stderr, `has port "http"`) {
		t.Errorf("stderr does not say what is wrong: %q", r.stderr)
	}
}
