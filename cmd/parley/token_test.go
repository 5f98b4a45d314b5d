package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestTokenCommands: create prints a token once, list shows its id and
// name (never the secret), revoke removes it, a second revoke fails.
func TestTokenCommands(t *testing.T) {
	dd := "--data-dir=" + filepath.Join(t.TempDir(), "data")
	r := cli(t, "", "token", "create", "ci deploy", dd)
	r.ok(t)
	secret := strings.TrimSpace(r.stdout)
	if !strings.HasPrefix(secret, "parley_") || len(secret) < 40 {
		t.Fatalf("token %q", secret)
	}
	id := secret[len("parley_") : len("parley_")+8]
	l := cli(t, "", "token", "list", dd)
	l.ok(t)
	if !strings.Contains(l.stdout, id) || !strings.Contains(l.stdout, "ci deploy") || strings.Contains(l.stdout, secret[16:]) {
		t.Fatalf("list:\n%s", l.stdout)
	}
	cli(t, "", "token", "revoke", id, dd).ok(t)
	if l := cli(t, "", "token", "list", dd); strings.Contains(l.stdout, id) {
		t.Fatalf("revoked token still listed:\n%s", l.stdout)
	}
	if r := cli(t, "", "token", "revoke", id, dd); r.code != 1 || !strings.Contains(r.stderr, "no token "+id) {
		t.Fatalf("revoke twice: exit %d, %q", r.code, r.stderr)
	}
	if r := cli(t, "", "token", "create", dd); r.code != 1 {
		t.Fatalf("create without a name: exit %d", r.code)
	}
}
