package s2s_test

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/xmpptest"
)

// BenchmarkS2SMessages: chat messages from alice@a.test to bob@b.test,
// two Parley instances in this process over one s2s stream (dialback,
// TLS). Both clients are raw sockets so that the servers are what is
// measured. Reports messages per second end to end and the process's CPU
// time (both servers and both clients) per message.
func BenchmarkS2SMessages(b *testing.B) {
	p := startPair(b, func(c *config.Config) {
		c.S2S.QueueSize = 1 << 20
		c.S2S.StanzasPerSecond, c.S2S.StanzaBurst = 1<<30, 1<<30 // the flood limit is not what is measured
		c.MAM.Enabled = benchMAM()                               // nor, by default, the archive
	})
	sender := p.a.Raw(b)
	sender.Login(p.a.TLSConfig(b, "a.test"), "alice", "a.test", "pw", "bench")
	receiver := p.b.Raw(b)
	receiver.Login(p.b.TLSConfig(b, "b.test"), "bob", "b.test", "pw", "bench")
	receiver.Write("<presence/>")
	// Warm up: the stream is open before timing starts.
	sender.Write("<message to='bob@b.test/bench' type='chat'><body>warm</body></message>")
	receiver.ReadUntil("warm</body>", wait)

	ru0 := rusage()
	elapsed := blast(b, sender, receiver, "bob@b.test/bench")
	cpu := rusage() - ru0
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/msg")
	if out := streamsOf(p.a, "out"); len(out) != 1 {
		b.Fatalf("outbound streams: %+v, want one", out)
	}
}

// blast sends b.N chat messages to 'to' through sender, 64 per write,
// and returns how long until receiver got them all; the timer runs only
// meanwhile.
func blast(b *testing.B, sender, receiver *xmpptest.Raw, to string) time.Duration {
	const batch = 64
	msg := []byte("<message to='" + to + "' type='chat'><body>benchmark message of a typical length, about this long</body></message>")
	all := bytes.Repeat(msg, batch)
	b.ResetTimer()
	start := time.Now()
	done := make(chan error, 1)
	receiver.Conn.SetReadDeadline(time.Now().Add(5 * time.Minute)) // fail, not hang, if messages are lost
	go func() { done <- countMessages(receiver.Conn, b.N) }()
	for sent := 0; sent < b.N; sent += batch {
		if err := sender.TryWrite(all[:min(batch, b.N-sent)*len(msg)]); err != nil {
			b.Fatal(err)
		}
	}
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	return elapsed
}

// benchMAM is whether the benchmarks archive messages (XEP-0313, on in a
// default configuration): PARLEY_BENCH_MAM=1 measures with the archive.
func benchMAM() bool { return os.Getenv("PARLEY_BENCH_MAM") == "1" }

// countMessages reads until n messages arrived.
func countMessages(c interface{ Read([]byte) (int, error) }, n int) error {
	buf := make([]byte, 64<<10)
	var tailb []byte
	got := 0
	for got < n {
		k, err := c.Read(buf)
		if err != nil {
			return fmt.Errorf("after %d of %d messages: %w", got, n, err)
		}
		chunk := append(tailb, buf[:k]...)
		got += strings.Count(string(chunk), "</message>")
		if i := bytes.LastIndex(chunk, []byte("</message>")); i >= 0 {
			tailb = append([]byte(nil), chunk[i+len("</message>"):]...)
		} else {
			tailb = append([]byte(nil), chunk...)
		}
		if len(tailb) > 16 {
			tailb = tailb[len(tailb)-16:]
		}
	}
	return nil
}

// rusage returns the process's user and system CPU time.
func rusage() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
