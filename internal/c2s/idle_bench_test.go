//go:build linux

package c2s_test

import (
	"encoding/base64"
	"fmt"
	"net"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/xmpptest"
)

// BenchmarkIdleSessionMemory pins the memory an idle client session costs
// the server (docs/benchmarks.md, "Idle memory"): n sessions log in over
// plaintext TCP (PLAIN, bind, initial presence), each pings the server
// once and then stays quiet, as in `parley bench idle`. The server runs
// with the configuration `parley serve` starts with (the XEP-0092 query
// to each client included; the clients do not answer it) and parks the
// quiet sessions. Each client keeps only its socket's file descriptor
// once logged in, so that what the process holds on top of the empty
// server is the server's: the benchmark reports the live heap
// ("heap-B/session") and the resident memory ("rss-B/session") per
// session, measured after park_after and a garbage collection. n is
// PARLEY_IDLE_SESSIONS (default 4000; two descriptors per session count
// against the process's open files limit). PARLEY_IDLE_HEAPPROFILE=file
// writes a heap profile of the held sessions, sampled at every
// allocation.
func BenchmarkIdleSessionMemory(b *testing.B) {
	n := envCount(b, "PARLEY_IDLE_SESSIONS", 4000)
	profile := os.Getenv("PARLEY_IDLE_HEAPPROFILE")
	if profile != "" {
		defer func(r int) { runtime.MemProfileRate = r }(runtime.MemProfileRate)
		runtime.MemProfileRate = 1
	}
	srv := xmpptest.Start(b, func(c *config.Config) {
		c.C2S.InsecurePlaintext = true
		c.Clients.AskVersion = true // as in `parley serve`
		c.Auth.ScramHashes = []string{"SHA-256"}
	})
	for i := range n {
		srv.AddUser(b, fmt.Sprintf("u%d@localhost", i), "pw")
	}
	addr := srv.Addr("c2s")
	// A first small round, not measured, makes what the server makes once
	// (pools, caches of the first use, the poller).
	endIdle(b, srv, loginIdle(b, addr, min(n, 100)))
	var heap, rss float64
	for range b.N {
		heap0, rss0 := settledMemory()
		fds := loginIdle(b, addr, n)
		// Past park_after, every quiet session gives up its goroutine.
		time.Sleep(srv.Config.C2S.ParkAfter.D() + time.Second)
		heap1, rss1 := settledMemory()
		heap += float64(heap1-heap0) / float64(n)
		rss += float64(rss1-rss0) / float64(n)
		if profile != "" {
			writeHeapProfile(b, profile)
		}
		endIdle(b, srv, fds)
	}
	b.ReportMetric(heap/float64(b.N), "heap-B/session")
	b.ReportMetric(rss/float64(b.N), "rss-B/session")
	b.ReportMetric(0, "ns/op")
}

// endIdle closes the sessions' sockets and waits until the server has
// ended them, so that the next round measures from a server without them.
func endIdle(b *testing.B, srv *xmpptest.Server, fds []int) {
	for _, fd := range fds {
		syscall.Close(fd)
	}
	for i := range fds {
		full := jid.MustParse(fmt.Sprintf("u%d@localhost/r", i))
		pollBench(b, full.String()+" to end", func() bool { return srv.Router().Session(full) == nil })
	}
}

// loginIdle logs in n sessions, eight at a time, and returns their
// sockets' descriptors.
func loginIdle(b *testing.B, addr string, n int) []int {
	fds := make([]int, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			fd, err := idleLogin(addr, fmt.Sprintf("u%d", i))
			if err != nil {
				b.Errorf("session %d: %v", i, err)
				return
			}
			fds[i] = fd
		})
	}
	wg.Wait()
	if b.Failed() {
		b.FailNow()
	}
	return fds
}

// idleLogin logs user in (PLAIN, bind, initial presence), pings the
// server once and returns a duplicate of the socket's descriptor: the
// Go connection is closed, the socket stays open and the client holds no
// memory for it.
func idleLogin(addr, user string) (int, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return -1, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	r := &lineReader{c: c}
	steps := []struct{ send, want string }{
		{xmpptest.Header("localhost"), "</stream:features>"},
		{"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>" +
			base64.StdEncoding.EncodeToString([]byte("\x00"+user+"\x00pw")) + "</auth>", "success"},
		{xmpptest.Header("localhost"), "</stream:features>"},
		{"<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>r</resource></bind></iq>", "</iq>"},
		{"<presence/><iq type='get' id='p'><ping xmlns='urn:xmpp:ping'/></iq>", "id=\"p\""},
	}
	for _, st := range steps {
		if _, err := c.Write([]byte(st.send)); err != nil {
			return -1, fmt.Errorf("write: %w", err)
		}
		if err := r.until(st.want); err != nil {
			return -1, err
		}
	}
	raw, err := c.(*net.TCPConn).SyscallConn()
	if err != nil {
		return -1, err
	}
	fd := -1
	cerr := raw.Control(func(s uintptr) { fd, err = syscall.Dup(int(s)) })
	if cerr != nil {
		return -1, cerr
	}
	return fd, err
}

// lineReader reads from c until what it has read contains a marker.
type lineReader struct {
	c   net.Conn
	got strings.Builder
}

func (r *lineReader) until(want string) error {
	buf := make([]byte, 4096)
	for !strings.Contains(r.got.String(), want) {
		n, err := r.c.Read(buf)
		r.got.Write(buf[:n])
		if err != nil {
			return fmt.Errorf("waiting for %q: %w; got %q", want, err, r.got.String())
		}
	}
	r.got.Reset()
	return nil
}

// settledMemory is the live heap and the resident memory after garbage
// collections that return freed memory to the system.
func settledMemory() (heap, rss int64) {
	runtime.GC()
	debug.FreeOSMemory()
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	return int64(s[0].Value.Uint64()), residentBytes()
}

// residentBytes is this process's resident memory (/proc/self/statm).
func residentBytes() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

func writeHeapProfile(b *testing.B, path string) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		b.Fatal(err)
	}
}

// envCount is the positive number in the environment variable name, def
// when it is not set.
func envCount(b *testing.B, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		b.Fatalf("%s=%q", name, v)
	}
	return n
}
