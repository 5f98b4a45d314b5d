package sockio

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
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

// With a write timeout, a write that has to wait for room ends with a
// timeout once the peer has read nothing for that long, and the
// connection is then broken like any timed-out net.Conn write.
func TestWriteTimeoutBoundsWait(t *testing.T) {
	c, _ := pair(t)
	c.SetWriteTimeout(50 * time.Millisecond)
	_, err := c.Write(make([]byte, 64<<20)) // more than the socket buffers: must wait
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Write that cannot finish = %v, want a timeout", err)
	}
}

// With a write timeout, writes that fit go out with no deadline left
// behind, and a write that waited for room and completed clears its
// deadline: a later write long after the timeout still succeeds.
func TestWriteTimeoutClearsDeadline(t *testing.T) {
	c, client := pair(t)
	const timeout = 3 * time.Second // the whole big write must fit in it on a loaded machine
	c.SetWriteTimeout(timeout)
	if c.WriteTimeout() != timeout {
		t.Fatalf("WriteTimeout = %v", c.WriteTimeout())
	}
	big := make([]byte, 8<<20)
	rand.Read(big)
	got := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(io.LimitReader(client, int64(len(big))+5))
		got <- b
	}()
	if n, err := c.Write(big); err != nil || n != len(big) { // waits for room while the peer reads
		t.Fatalf("Write = %d, %v", n, err)
	}
	time.Sleep(timeout + 200*time.Millisecond) // past the timeout of the wait above (not synchronisation)
	if _, err := c.Write([]byte("after")); err != nil {
		t.Fatalf("Write after a completed wait = %v, want none (a stale deadline?)", err)
	}
	want := append(append([]byte{}, big...), "after"...)
	if b := <-got; !bytes.Equal(b, want) {
		t.Fatalf("peer got %d bytes, not what was written", len(b))
	}
}

// A write deadline of the caller's replaces the write timeout while it is
// set, and clearing it brings the timeout back.
func TestWriteDeadlineOverridesTimeout(t *testing.T) {
	c, _ := pair(t)
	c.SetWriteTimeout(time.Hour)
	c.SetWriteDeadline(time.Now().Add(50 * time.Millisecond))
	if _, err := c.Write(make([]byte, 64<<20)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Write past the caller's deadline = %v, want a timeout", err)
	}

	c2, _ := pair(t)
	c2.SetWriteTimeout(50 * time.Millisecond)
	c2.SetDeadline(time.Now().Add(time.Hour))
	c2.SetDeadline(time.Time{}) // cleared: the 50 ms timeout applies again
	if _, err := c2.Write(make([]byte, 64<<20)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Write with the deadline cleared = %v, want the timeout", err)
	}
}
