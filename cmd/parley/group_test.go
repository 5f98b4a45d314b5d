package main

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestGroupCommands(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	dd := "--data-dir=" + dir
	for _, u := range []string{"alice", "bob", "carol"} {
		cli(t, "", "user", "add", u, "--password", "pw", dd).ok(t)
	}
	steps := []struct {
		name    string
		args    []string
		wantOut string // "" means only check success
		wantErr string // non-empty: the command fails with this
	}{
		{"create", []string{"group", "create", "staff", "--display", "Our Staff"}, "group staff created\n", ""},
		{"create twice", []string{"group", "create", "staff"}, "", "group staff already exists"},
		{"create bad name", []string{"group", "create", "a\tb"}, "", "invalid group name"},
		{"add", []string{"group", "add", "staff", "alice", "Bob@LOCALHOST"}, "2 member(s) added to staff\n", ""},
		{"add unknown account", []string{"group", "add", "staff", "nobody"}, "", "create the account first"},
		{"add to unknown group", []string{"group", "add", "nope", "alice"}, "", "group nope does not exist"},
		{"add unserved domain", []string{"group", "add", "staff", "x@example.org"}, "", "not served"},
		{"add needs a JID", []string{"group", "add", "staff"}, "", "takes NAME JID..."},
		{"list", []string{"group", "list"}, "staff (Our Staff): 2 member(s)\n", ""},
		{"list members", []string{"group", "list", "staff"}, "alice@localhost\nbob@localhost\n", ""},
		{"remove", []string{"group", "remove", "staff", "bob", "carol"}, "1 member(s) removed from staff\n", ""},
		{"list after remove", []string{"group", "list", "staff"}, "alice@localhost\n", ""},
		{"delete", []string{"group", "delete", "staff"}, "group staff deleted\n", ""},
		{"delete twice", []string{"group", "delete", "staff"}, "", "does not exist"},
		{"list empty", []string{"group", "list"}, "", ""},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			r := cli(t, "", append(st.args, dd)...)
			if st.wantErr != "" {
				if r.code != 1 || !strings.Contains(r.stderr, st.wantErr) {
					t.Fatalf("exit %d, stderr %q, want error %q", r.code, r.stderr, st.wantErr)
				}
				return
			}
			r.ok(t)
			if st.wantOut != "" && r.stdout != st.wantOut {
				t.Fatalf("stdout %q, want %q", r.stdout, st.wantOut)
			}
		})
	}
}
