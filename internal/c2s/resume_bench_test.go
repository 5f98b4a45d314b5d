//go:build linux

package c2s_test

import (
	"fmt"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/c2s"
	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/xmpptest"
)

// BenchmarkResumeStorm: n sessions with XEP-0198 resumption lose their
// connections at once (a simulated network drop: TCP resets), hibernate,
// and all resume at the same moment over new connections (TCP, STARTTLS,
// SASL PLAIN, <resume/>), each with a message held for it. One op is the
// whole storm; it reports resumes per second and the process CPU per
// resume (client and server share the process: the figure bounds the
// server's cost from above). n is PARLEY_RESUME_STORM (default 200); at
// most 200 connections are in their TLS handshake and login at a time (a
// test client gives a handshake 5 s, which thousands at once on two cores
// exceed), in the storm as in the setup.
func BenchmarkResumeStorm(b *testing.B) {
	n := envCount(b, "PARLEY_RESUME_STORM", 200)
	srv := xmpptest.Start(b)
	srv.AddUser(b, "sender@localhost", "pw")
	for i := range n {
		srv.AddUser(b, fmt.Sprintf("u%d@localhost", i), "pw")
	}
	cfg := srv.TLSConfig(b, "localhost")
	addr := srv.Addr("c2s")
	sender := srv.SMLogin(b, "sender", "localhost", "pw", "s")
	sender.Enable(false, 0)
	var total time.Duration
	var cpu time.Duration
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		ids := make([]string, n)
		hs := make([]uint32, n)
		var wg sync.WaitGroup
		sem := make(chan struct{}, 200)
		for i := range n {
			wg.Go(func() {
				sem <- struct{}{}
				defer func() { <-sem }()
				c := xmpptest.SMLoginAt(b, addr, cfg, fmt.Sprintf("u%d", i), "localhost", "pw", "phone")
				c.Enable(true, 0)
				ids[i] = c.ID
				c.Kill()
				hs[i] = c.H()
			})
		}
		wg.Wait()
		for i := range n {
			full := jid.MustParse(fmt.Sprintf("u%d@localhost/phone", i))
			pollBench(b, full.String()+" to hibernate", func() bool { s := srv.Router().Session(full); return s != nil && c2s.SMHibernated(s) })
			sender.Send(fmt.Sprintf("<message to='u%d@localhost/phone' type='chat'><body>held</body></message>", i))
		}
		sender.RequestAck(30*time.Second, nil)
		cpu0 := processCPU()
		start := time.Now()
		b.StartTimer()
		for i := range n {
			wg.Go(func() {
				sem <- struct{}{}
				defer func() { <-sem }()
				c := xmpptest.SMLoginAt(b, addr, cfg, fmt.Sprintf("u%d", i), "localhost", "pw", "-")
				if st := c.Resume(ids[i], hs[i]); st.XMLName.Local != "resumed" {
					b.Errorf("resume %d: %s", i, st.Inner)
					return
				}
				c.Expect(30*time.Second, "the held message", func(st xmpptest.Stanza) bool { return st.XMLName.Local == "message" })
				c.Raw.Conn.Close()
			})
		}
		wg.Wait()
		b.StopTimer()
		total += time.Since(start)
		cpu += processCPU() - cpu0
		// The closed connections hibernate again; they end with the server.
	}
	resumes := float64(n * b.N)
	b.ReportMetric(resumes/total.Seconds(), "resumes/s")
	b.ReportMetric(float64(cpu.Microseconds())/resumes, "cpu-µs/resume")
}

func pollBench(b *testing.B, what string, cond func() bool) {
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			b.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// processCPU is the user and system CPU time of this process so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
