package s2s_test

import (
	"crypto/tls"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/xmpptest"
)

// The pinned benchmarks run each server as its own process on its own
// core (taskset): Parley as `parley serve` built from this tree, the
// clients (raw sockets) in the benchmark's process, unpinned. CPU per
// message is each server process's own (/proc/PID/stat, 10 ms ticks).
// PARLEY_BENCH_MAM=1 turns the archive on in Parley. The byte rate limit
// of client connections (limits.bytes_per_second) and s2s stanza limits
// are off: they are not what is measured.

// BenchmarkS2SPinned: alice@a.test → bob@b.test, two `parley serve`
// processes over one s2s stream, a.test on CPU 0 and b.test on CPU 1.
func BenchmarkS2SPinned(b *testing.B) {
	bin := pinnedParleyBin(b)
	addrA, addrB := freeAddr(b), freeAddr(b)
	routes := map[string]string{"a.test": addrA, "b.test": addrB}
	a := startServe(b, bin, "a.test", addrA, routes, "0")
	bb := startServe(b, bin, "b.test", addrB, routes, "1")
	sender := rawLogin(b, a.c2s, "alice", "a.test", "pw")
	receiver := rawLogin(b, bb.c2s, "bob", "b.test", "pw")
	pinnedBlast(b, sender, receiver, "bob@b.test/bench", map[string]int{"a.test": a.pid(), "b.test": bb.pid()})
}

// BenchmarkS2SPinnedToEjabberd: alice@parley.test (`parley serve`, CPU 0)
// → carol@ejabberd.test (Debian's ejabberd 23.01, CPU 1), dialback.
func BenchmarkS2SPinnedToEjabberd(b *testing.B) {
	benchPinnedEjabberd(b, true)
}

// BenchmarkS2SPinnedFromEjabberd: carol@ejabberd.test (CPU 1) →
// alice@parley.test (`parley serve`, CPU 0).
func BenchmarkS2SPinnedFromEjabberd(b *testing.B) {
	benchPinnedEjabberd(b, false)
}

func benchPinnedEjabberd(b *testing.B, toEjabberd bool) {
	requirePeer(b, "ejabberdctl")
	bin := pinnedParleyBin(b)
	other := startEjabberd(b)
	beam := beamPID(b)
	if out, err := asRoot("taskset", "-a", "-p", "-c", "1", fmt.Sprint(beam)).CombinedOutput(); err != nil {
		b.Fatalf("pinning ejabberd: %v %s", err, out)
	}
	p := startServe(b, bin, "parley.test", parleyS2S, map[string]string{}, "0")
	alice := rawLogin(b, p.c2s, "alice", "parley.test", "pw")
	carol := xmpptest.RawDial(b, "127.0.0.3:5222")
	carol.Login(&tls.Config{ServerName: "ejabberd.test", RootCAs: other.pool()}, "carol", "ejabberd.test", peerPass, "bench")
	pids := map[string]int{"parley": p.pid(), "ejabberd": beam}
	if toEjabberd {
		pinnedBlast(b, alice, carol, "carol@ejabberd.test/bench", pids)
	} else {
		pinnedBlast(b, carol, alice, "alice@parley.test/bench", pids)
	}
}

// pinnedBlast warms the stream up, sends b.N messages and reports the
// rate and each server's CPU per message.
func pinnedBlast(b *testing.B, sender, receiver *xmpptest.Raw, to string, pids map[string]int) {
	receiver.Write("<presence/>")
	sender.Write("<message to='" + to + "' type='chat'><body>warm</body></message>")
	receiver.ReadUntil("warm</body>", time.Minute)
	before := map[string]time.Duration{}
	for name, pid := range pids {
		before[name] = procCPU(b, pid)
	}
	elapsed := blast(b, sender, receiver, to)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
	for name, pid := range pids {
		b.ReportMetric(float64((procCPU(b, pid)-before[name]).Microseconds())/float64(b.N), name+"-cpu-µs/msg")
	}
}

// rawLogin logs user in at a `parley serve` c2s address (its certificate
// is self-signed: not verified).
func rawLogin(b *testing.B, addr, user, domain, pw string) *xmpptest.Raw {
	r := xmpptest.RawDial(b, addr)
	r.Login(&tls.Config{ServerName: domain, InsecureSkipVerify: true}, user, domain, pw, "bench")
	return r
}

// pinnedParleyBin builds cmd/parley (without -race) for the benchmark.
func pinnedParleyBin(b *testing.B) string {
	if _, err := exec.LookPath("taskset"); err != nil {
		b.Skip("taskset (util-linux) is not installed")
	}
	bin := filepath.Join(b.TempDir(), "parley")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/parleyim/parley/cmd/parley").CombinedOutput(); err != nil {
		b.Fatalf("go build ./cmd/parley: %v\n%s", err, out)
	}
	return bin
}

// serveProc is a `parley serve` process.
type serveProc struct {
	*peerProc
	c2s string
}

func (s *serveProc) pid() int { return s.cmd.Process.Pid }

// startServe runs `parley serve` for domain on CPU cpu, with s2s on
// s2sAddr and routes, until the benchmark ends. Its one user, password
// pw, is bob on b.test and alice on any other domain.
func startServe(b *testing.B, bin, domain, s2sAddr string, routes map[string]string, cpu string) *serveProc {
	dir := b.TempDir()
	s := &serveProc{c2s: freeAddr(b)}
	var r strings.Builder
	for d, a := range routes {
		fmt.Fprintf(&r, "%q = %q\n", d, a)
	}
	cfg := fmt.Sprintf(`domains = [%q]
data_dir = %q
[log]
level = "warn"
[limits]
bytes_per_second = 0
[c2s]
addr = %q
tls_addr = ""
[admin]
addr = ""
[http]
addr = ""
tls_addr = ""
[mam]
enabled = %t
[s2s]
enabled = true
addr = %q
require_valid_certificates = false
queue_size = 1048576
stanzas_per_second = 1073741824
stanza_burst = 1073741824
[s2s.routes]
%s`, domain, dir, s.c2s, benchMAM(), s2sAddr, r.String())
	path := filepath.Join(dir, "parley.toml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		b.Fatal(err)
	}
	user := "bob@" + domain
	if domain != "b.test" {
		user = "alice@" + domain
	}
	if out, err := exec.Command(bin, "--config", path, "user", "add", user, "--password", "pw").CombinedOutput(); err != nil {
		b.Fatalf("parley user add: %v\n%s", err, out)
	}
	s.peerProc = startPeer(b, "parley "+domain, exec.Command("taskset", "-c", cpu, bin, "--config", path, "serve"))
	b.Cleanup(s.stop)
	waitListening(b, s.c2s, s.peerProc)
	return s
}
