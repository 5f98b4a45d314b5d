package s2s_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestInteropProsody: Debian's Prosody 0.12 serving prosody.test on
// 127.0.0.2 with a certificate of the test CA, which Parley also uses and
// both trust: the streams authenticate with SASL EXTERNAL both ways.
func TestInteropProsody(t *testing.T) {
	ca := startProsody(t)
	parley := interopParley(t, ca, prosodyRoutes)
	alice := onlineCA(t, parley, ca, "alice@parley.test", "parley.test")
	carol := peerClient(t, "127.0.0.2:5222", "carol@prosody.test", ca, "prosody.test")
	interopScenario(t, alice, carol, "prosody.test")
	checkAuth(t, parley, "sasl-external")
}

// prosodyRoutes are Parley's static routes to the Prosody of the tests.
var prosodyRoutes = map[string]string{"prosody.test": "127.0.0.2:5269", "conference.prosody.test": "127.0.0.2:5269"}

// startProsody runs Debian's Prosody for prosody.test on 127.0.0.2 with
// the user carol and a certificate of the CA it returns (which Parley is
// to use too), until the test ends.
func startProsody(t *testing.T) *testCA {
	t.Helper()
	bin := requirePeer(t, "prosody")
	mustBeFree(t, "127.0.0.2:5269", "127.0.0.2:5222", parleyS2S)
	ca := newTestCA(t)
	dir := t.TempDir()
	cert, key := ca.issue(t, "prosody.test", "conference.prosody.test")
	cfg := filepath.Join(dir, "prosody.cfg.lua")
	if err := os.WriteFile(cfg, []byte(prosodyConfig(dir, cert, key, ca.File)), 0o644); err != nil {
		t.Fatal(err)
	}
	ctl := exec.Command("prosodyctl", "--config", cfg, "register", "carol", "prosody.test", peerPass)
	if out, err := ctl.CombinedOutput(); err != nil {
		t.Fatalf("prosodyctl register: %v\n%s", err, out)
	}
	p := startPeer(t, "prosody", exec.Command(bin, "--config", cfg))
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(dir, "prosody.log"))
			t.Logf("prosody output:\n%s\nprosody log:\n%s", p.output(), tail(string(log), 200))
		}
	})
	waitListening(t, "127.0.0.2:5269", p)
	return ca
}

func prosodyConfig(dir, cert, key, ca string) string {
	return fmt.Sprintf(`-- Prosody for Parley's s2s interop test (generated)
run_as_root = true
daemonize = false
pidfile = %[1]q .. "/prosody.pid"
data_path = %[1]q
interfaces = { "127.0.0.2" }
c2s_ports = { 5222 }
s2s_ports = { 5269 }
c2s_require_encryption = true
s2s_require_encryption = true
s2s_secure_auth = false
authentication = "internal_plain"
unbound = { hoststxt = "/etc/hosts" }
modules_enabled = { "roster", "saslauth", "tls", "dialback", "disco", "ping", "presence", "s2s", "version", "pep" }
ssl = { certificate = %[2]q, key = %[3]q, cafile = %[4]q }
log = { { levels = { min = "debug" }, to = "file", filename = %[1]q .. "/prosody.log" } }
muc_room_locking = false

VirtualHost "prosody.test"
Component "conference.prosody.test" "muc"
`, dir, cert, key, ca)
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
