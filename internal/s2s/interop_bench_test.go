package s2s_test

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/config"
)

// BenchmarkInteropEjabberd: chat messages from alice@parley.test to
// carol@ejabberd.test over one s2s stream (dialback, TLS) between Parley
// (in this process) and Debian's ejabberd 23.01. Both clients are raw
// sockets. Reports messages per second end to end, this process's CPU
// (Parley and both clients) per message, and ejabberd's (its BEAM
// process) per message.
func BenchmarkInteropEjabberd(b *testing.B) {
	requirePeer(b, "ejabberdctl")
	ca := newTestCA(b)
	other := startEjabberd(b)
	parley := interopParley(b, ca, map[string]string{}, func(c *config.Config) {
		c.MAM.Enabled = benchMAM()
		c.S2S.QueueSize = 1 << 20 // a burst faster than the peer reads would be bounced (resource-constraint)
	})
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	sender := parley.Raw(b)
	sender.Login(&tls.Config{ServerName: "parley.test", RootCAs: pool}, "alice", "parley.test", "pw", "bench")
	peerPool := x509.NewCertPool()
	peerPool.AddCert(other.cert)
	receiver := parley.RawAt(b, "127.0.0.3:5222")
	receiver.Login(&tls.Config{ServerName: "ejabberd.test", RootCAs: peerPool}, "carol", "ejabberd.test", peerPass, "bench")
	receiver.Write("<presence/>")
	sender.Write("<message to='carol@ejabberd.test/bench' type='chat'><body>warm</body></message>")
	receiver.ReadUntil("warm</body>", 30*time.Second)
	beam := beamPID(b)

	ru0, ej0 := rusage(), procCPU(b, beam)
	elapsed := blast(b, sender, receiver, "carol@ejabberd.test/bench")
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(float64((rusage()-ru0).Microseconds())/float64(b.N), "parley-cpu-µs/msg")
	b.ReportMetric(float64((procCPU(b, beam)-ej0).Microseconds())/float64(b.N), "ejabberd-cpu-µs/msg")
}

// beamPID finds the Erlang VM of the test's ejabberd node.
func beamPID(t testing.TB) int {
	t.Helper()
	out, err := exec.Command("pgrep", "-f", "beam.*"+ejabberdNode).Output()
	if err != nil {
		t.Fatalf("ejabberd's BEAM process: %v", err)
	}
	for _, f := range strings.Fields(string(out)) {
		pid, _ := strconv.Atoi(f)
		if comm, _ := os.ReadFile("/proc/" + f + "/comm"); strings.HasPrefix(string(comm), "beam") {
			return pid
		}
	}
	t.Fatalf("no BEAM process among %q", out)
	return 0
}

// procCPU is a process's user+system CPU time (/proc/PID/stat, in clock
// ticks of 10 ms).
func procCPU(t testing.TB, pid int) time.Duration {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	u, _ := strconv.Atoi(f[11]) // field 14 of the file: utime
	s, _ := strconv.Atoi(f[12]) // field 15: stime
	return time.Duration(u+s) * 10 * time.Millisecond
}
