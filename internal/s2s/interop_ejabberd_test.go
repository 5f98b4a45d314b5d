package s2s_test

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"testing"
	"time"
)

const ejabberdNode = "parley-s2s-test@localhost"

// TestInteropEjabberd: Debian's ejabberd 23.01 serving ejabberd.test on
// 127.0.0.3 with a certificate Parley does not trust (and ejabberd does
// not trust Parley's): the streams authenticate with dialback both ways.
// Parley has no static route for it: it finds no SRV record and connects
// to the domain's address (from /etc/hosts) on port 5269.
func TestInteropEjabberd(t *testing.T) {
	requirePeer(t, "ejabberdctl")
	ca := newTestCA(t)
	other := startEjabberd(t)
	parley := interopParley(t, ca, map[string]string{})
	alice := onlineCA(t, parley, ca, "alice@parley.test", "parley.test")
	carol := peerClient(t, "127.0.0.3:5222", "carol@ejabberd.test", other, "ejabberd.test")
	interopScenario(t, alice, carol, "ejabberd.test")
	checkAuth(t, parley, "dialback")
}

// startEjabberd runs ejabberd for ejabberd.test on 127.0.0.3 with the
// user carol, until the test ends; it returns the CA of its certificate
// (one Parley does not trust).
func startEjabberd(t testing.TB) *testCA {
	t.Helper()
	mustBeFree(t, "127.0.0.3:5269", "127.0.0.3:5222", parleyS2S)
	other := newTestCA(t)
	dir := ejabberdDir(t)
	cert, key := other.issue(t, "ejabberd.test", "conference.ejabberd.test")
	writeEjabberdFiles(t, dir, concatFiles(t, cert, key))
	chownEjabberd(t, dir)
	epmdBefore := exec.Command("pgrep", "-x", "epmd").Run() == nil
	p := startPeer(t, "ejabberd", ejabberdctl(dir, "foreground"))
	t.Cleanup(func() {
		if !epmdBefore { // Erlang started the port mapper for our node: stop it too
			defer exec.Command("epmd", "-kill").Run()
		}
		ejabberdctl(dir, "stop").Run()
		select {
		case <-p.done:
		case <-time.After(20 * time.Second):
		}
		p.stop()
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(dir, "logs", "ejabberd.log"))
			t.Logf("ejabberd output:\n%s\nejabberd log:\n%s", tail(p.output(), 50), tail(string(log), 200))
		}
	})
	waitListening(t, "127.0.0.3:5269", p)
	// The node may answer ejabberdctl a moment after its listeners.
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := ejabberdctl(dir, "register", "carol", "ejabberd.test", peerPass).CombinedOutput()
		if err == nil {
			return other
		}
		if time.Now().After(deadline) {
			t.Fatalf("ejabberdctl register: %v\n%s", err, out)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func writeEjabberdFiles(t testing.TB, dir, pem string) {
	t.Helper()
	files := map[string]string{
		"ejabberd.yml":    ejabberdConfig(dir),
		"ejabberdctl.cfg": fmt.Sprintf("ERLANG_NODE=%s\nEJABBERD_PID_PATH=%s/ejabberd.pid\nERL_OPTIONS=\"-env ERL_CRASH_DUMP_BYTES 0\"\n", ejabberdNode, dir),
		"inetrc":          "{lookup,[\"file\",\"native\"]}.\n{file, resolv, \"/etc/resolv.conf\"}.\n",
		"ejabberd.pem":    pem,
		"logs/.keep":      "",
		"spool/.keep":     "",
	}
	for name, content := range files {
		path := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// ejabberdDir makes a directory the ejabberd user can use (t.TempDir's
// parents are private to us).
func ejabberdDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "parley-ejabberd-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	t.Cleanup(func() { exec.Command("rm", "-rf", dir).Run(); asRoot("rm", "-rf", dir).Run() })
	return dir
}

// ejabberdctl runs Debian's ejabberdctl on our node, with our
// configuration, spool and logs (it runs as the ejabberd user; as root or
// with sudo).
func ejabberdctl(dir string, args ...string) *exec.Cmd {
	base := []string{"ejabberdctl", "--config-dir", dir, "--config", filepath.Join(dir, "ejabberd.yml"),
		"--ctl-config", filepath.Join(dir, "ejabberdctl.cfg"), "--spool", filepath.Join(dir, "spool"),
		"--logs", filepath.Join(dir, "logs"), "--node", ejabberdNode}
	return asRoot(base[0], append(base[1:], args...)...)
}

func asRoot(name string, args ...string) *exec.Cmd {
	if os.Geteuid() == 0 {
		return exec.Command(name, args...)
	}
	return exec.Command("sudo", append([]string{"-n", name}, args...)...)
}

func chownEjabberd(t testing.TB, dir string) {
	t.Helper()
	u, err := user.Lookup("ejabberd")
	if err != nil {
		t.Fatalf("no ejabberd user: %v", err)
	}
	if out, err := asRoot("chown", "-R", u.Uid+":"+u.Gid, dir).CombinedOutput(); err != nil {
		t.Fatalf("chown %s: %v %s", dir, err, out)
	}
}

func concatFiles(t testing.TB, paths ...string) string {
	t.Helper()
	var s string
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		s += string(b)
	}
	return s
}

func ejabberdConfig(dir string) string {
	return fmt.Sprintf(`# ejabberd for Parley's s2s interop test (generated)
hosts:
  - ejabberd.test
loglevel: info
certfiles:
  - %[1]q
listen:
  -
    port: 5222
    ip: "127.0.0.3"
    module: ejabberd_c2s
    starttls_required: true
  -
    port: 5269
    ip: "127.0.0.3"
    module: ejabberd_s2s_in
s2s_use_starttls: optional
auth_method: internal
auth_password_format: plain
acl:
  local:
    user_regexp: ""
access_rules:
  local:
    allow: local
  c2s:
    allow: all
  s2s:
    allow: all
  muc_create:
    allow: all
modules:
  mod_caps: {}
  mod_disco: {}
  mod_muc:
    host: "conference.ejabberd.test"
    access: all
    access_create: muc_create
    access_persistent: muc_create
    default_room_options:
      persistent: false
  mod_ping: {}
  mod_pubsub:
    plugins: ["pep"]
  mod_roster: {}
  mod_s2s_dialback: {}
  mod_version: {}
`, filepath.Join(dir, "ejabberd.pem"))
}
