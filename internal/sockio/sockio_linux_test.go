package sockio

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// pair returns a wrapped server side and a plain client side of a
// loopback TCP connection.
func pair(t testing.TB) (*Conn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			accepted <- nil
			return
		}
		accepted <- c
	}()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	raw := <-accepted
	if raw == nil {
		t.Fatal("accept failed")
	}
	c, ok := Wrap(raw).(*Conn)
	if !ok {
		t.Fatalf("Wrap(%T) did not wrap", raw)
	}
	t.Cleanup(func() { c.Close(); client.Close() })
	return c, client
}

func TestReadWrite(t *testing.T) {
	c, client := pair(t)
	if _, err := client.Write([]byte("<message/>")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	n, err := c.Read(buf)
	if err != nil || string(buf[:n]) != "<message/>" {
		t.Fatalf("Read = %q, %v", buf[:n], err)
	}
	if n, err := c.Read(nil); n != 0 || err != nil {
		t.Errorf("Read(nil) = %d, %v", n, err)
	}
	if _, err := c.Write([]byte("<presence/>")); err != nil {
		t.Fatal(err)
	}
	n, err = client.Read(buf)
	if err != nil || string(buf[:n]) != "<presence/>" {
		t.Fatalf("client read %q, %v", buf[:n], err)
	}
}

// A write larger than the socket buffers completes once the peer reads
// (the wait-for-room path), and every byte arrives in order.
func TestWriteWaitsForRoom(t *testing.T) {
	c, client := pair(t)
	big := make([]byte, 8<<20) // more than loopback's socket buffers: the write must wait
	rand.Read(big)
	got := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(io.LimitReader(client, int64(len(big))))
		got <- b
	}()
	n, err := c.Write(big)
	if err != nil || n != len(big) {
		t.Fatalf("Write = %d, %v", n, err)
	}
	if b := <-got; !bytes.Equal(b, big) {
		t.Fatalf("peer got %d bytes, not what was written", len(b))
	}
}

func TestEOF(t *testing.T) {
	c, client := pair(t)
	client.Close()
	if _, err := c.Read(make([]byte, 8)); err != io.EOF {
		t.Fatalf("Read after the peer closed = %v, want io.EOF", err)
	}
}

func TestDeadlines(t *testing.T) {
	c, _ := pair(t)
	c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	_, err := c.Read(make([]byte, 8))
	var ne net.Error
	if !errors.Is(err, os.ErrDeadlineExceeded) || !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("Read past its deadline = %v, want a timeout", err)
	}
	// A write that cannot finish (the peer never reads) times out too.
	c.SetWriteDeadline(time.Now().Add(50 * time.Millisecond))
	_, err = c.Write(make([]byte, 64<<20))
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Write past its deadline = %v, want a timeout", err)
	}
}

func TestClosed(t *testing.T) {
	c, _ := pair(t)
	done := make(chan error, 1)
	go func() {
		_, err := c.Read(make([]byte, 8))
		done <- err
	}()
	c.Close() // before or during the Read: either way it ends with net.ErrClosed
	if err := <-done; !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Read interrupted by Close = %v, want net.ErrClosed", err)
	}
	if _, err := c.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Write after Close = %v, want net.ErrClosed", err)
	}
}

// A read of a reset connection returns no bytes and the error (a
// negative count would break every io.Reader user).
func TestReadReset(t *testing.T) {
	c, client := pair(t)
	if _, err := c.Write([]byte("unread")); err != nil { // unread data makes the peer's close a reset
		t.Fatal(err)
	}
	client.(*net.TCPConn).SetLinger(0)
	client.Close() // RST
	var n int
	var err error
	for err == nil {
		n, err = c.Read(make([]byte, 64))
	}
	var se *os.SyscallError
	if n != 0 || !errors.As(err, &se) {
		t.Fatalf("Read of a reset connection = %d, %v; want 0 and a *os.SyscallError", n, err)
	}
}

// A failed system call is reported as net.Conn reports it.
func TestResetIsOpError(t *testing.T) {
	c, client := pair(t)
	client.(*net.TCPConn).SetLinger(0)
	client.Close() // RST
	deadline := time.Now().Add(5 * time.Second)
	var err error
	for err == nil && time.Now().Before(deadline) {
		_, err = c.Write([]byte("data after reset"))
	}
	var op *net.OpError
	var se *os.SyscallError
	if !errors.As(err, &op) || !errors.As(err, &se) {
		t.Fatalf("Write to a reset connection = %v (%T), want *net.OpError around *os.SyscallError", err, err)
	}
}

func TestWrapLeavesOthers(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	if Wrap(a) != a {
		t.Error("Wrap changed a connection with no file descriptor")
	}
}

func BenchmarkReadWrite(b *testing.B) {
	c, client := pair(b)
	msg := []byte("<message to='bob@localhost' type='chat'><body>hello</body></message>")
	buf := make([]byte, 2048)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Write(msg); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(client, buf[:len(msg)]); err != nil {
			b.Fatal(err)
		}
		if _, err := client.Write(msg); err != nil {
			b.Fatal(err)
		}
		if _, err := c.Read(buf); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadEmpty is the read that finds nothing (EAGAIN) after each
// message at a steady rate, made as sockio makes it: what skipping it
// could save (docs/benchmarks.md, "Steady rates: where the floor is").
// cpu-ns/op is the process's CPU time per read, which on a shared machine
// says more than the wall-clock ns/op.
func BenchmarkReadEmpty(b *testing.B) {
	c, _ := pair(b)
	rc, err := c.SyscallConn()
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 4096)
	b.ReportAllocs()
	cpu0 := cpuTime()
	rc.Control(func(fd uintptr) {
		for b.Loop() {
			_, _, e := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)))
			if e != syscall.EAGAIN {
				b.Fatalf("read of an empty socket = %v, want EAGAIN", e)
			}
		}
	})
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
}

// cpuTime is the process's CPU time (user and system).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
