package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/xmpptest"
)

// TestBench drives `parley bench` against a running server: accounts
// created in its database (--via store), then login and chat over the
// socket, results as JSON lines, then the Markdown report.
func TestBench(t *testing.T) {
	srv := xmpptest.Start(t, func(c *config.Config) { c.C2S.InsecurePlaintext = true })
	out := filepath.Join(t.TempDir(), "r.jsonl")
	common := []string{"--addr", srv.Addr("c2s"), "--no-progress", "--json", out, "--label", "parley",
		"--server-pid", "0", "--prefix", "cli", "--password", "pw", "--sources", "2"}
	bench := func(args ...string) result {
		return cli(t, "", append(append([]string{"bench"}, args...), common...)...)
	}
	bench("register", "--via", "store", "--data-dir", srv.Config.DataDir, "-n", "4", "--concurrency", "2").ok(t)
	r := bench("login", "-n", "4", "--mech", "SCRAM-SHA-1").ok(t)
	if !strings.Contains(r.stdout, "logins") {
		t.Fatalf("no table:\n%s", r.stdout)
	}
	bench("chat", "--pairs", "2", "--duration", "300ms", "--rate", "100", "--mech", "PLAIN").ok(t)
	u := bench("unauth", "-n", "3", "--mode", "tls-header", "--duration", "200ms", "--ca-file",
		filepath.Join(srv.Config.DataDir, "certs", "localhost.crt")).ok(t)
	if !strings.Contains(u.stdout, "up_after_hold") {
		t.Fatalf("no unauth table:\n%s", u.stdout)
	}
	b, err := os.ReadFile(out)
	if err != nil || strings.Count(string(b), "\n") != 4 {
		t.Fatalf("JSON lines: %v\n%s", err, b)
	}
	rep := cli(t, "", "bench", "report", out).ok(t)
	for _, want := range []string{"#### login", "#### chat", "| delivered |", "#### unauth", "mode=tls-header"} {
		if !strings.Contains(rep.stdout, want) {
			t.Fatalf("report lacks %q:\n%s", want, rep.stdout)
		}
	}
}

func TestBenchRefusesNonLoopback(t *testing.T) {
	cli(t, "", "bench", "login", "--addr", "192.0.2.1:5222", "--no-progress").fails(t, "not a loopback address")
}
