//go:build linux

package netpoll

import (
	"net"
	"testing"
	"time"
)

func pair(t *testing.T) (server, client net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server, err = ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { server.Close(); client.Close() })
	return server, client
}

func fired(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	case <-time.After(5 * time.Second):
		return false
	}
}

func quiet(ch chan struct{}) bool {
	select {
	case <-ch:
		return false
	case <-time.After(50 * time.Millisecond):
		return true
	}
}

func TestArmFiresOncePerArm(t *testing.T) {
	p, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	srv, cli := pair(t)
	ch := make(chan struct{}, 10)
	h, err := p.Register(srv, func() { ch <- struct{}{} })
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if err := h.Arm(); err != nil {
		t.Fatal(err)
	}
	if !quiet(ch) {
		t.Fatal("fired with nothing to read")
	}
	cli.Write([]byte("x"))
	if !fired(ch) {
		t.Fatal("did not fire when bytes arrived")
	}
	// Not re-armed: the unread byte does not fire again (one shot).
	if !quiet(ch) {
		t.Fatal("fired twice for one Arm")
	}
	// Re-armed with the byte still unread: level-triggered, fires at once.
	if err := h.Arm(); err != nil {
		t.Fatal(err)
	}
	if !fired(ch) {
		t.Fatal("re-arming with bytes waiting did not fire")
	}
	buf := make([]byte, 8)
	if n, _ := srv.Read(buf); n != 1 {
		t.Fatalf("read %d bytes, want 1", n)
	}
	h.Arm()
	if !quiet(ch) {
		t.Fatal("fired after the bytes were read")
	}
	cli.Close()
	if !fired(ch) {
		t.Fatal("did not fire when the peer closed")
	}
}

func TestClosedHandleAndConn(t *testing.T) {
	p, _ := Default()
	srv, cli := pair(t)
	ch := make(chan struct{}, 10)
	h, err := p.Register(srv, func() { ch <- struct{}{} })
	if err != nil {
		t.Fatal(err)
	}
	h.Arm()
	h.Close()
	cli.Write([]byte("x"))
	if !quiet(ch) {
		t.Fatal("a closed handle fired")
	}
	srv.Close()
	if err := h.Arm(); err == nil {
		t.Fatal("arming a closed connection succeeded")
	}
}

func TestUnsupported(t *testing.T) {
	p, _ := Default()
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	if _, err := p.Register(a, func() {}); err != ErrUnsupported {
		t.Fatalf("pipe: %v, want ErrUnsupported", err)
	}
}

// BenchmarkArmFire is one park/wake cycle of a connection: arm, the peer
// writes a byte, the callback runs on its goroutine, the byte is read.
func BenchmarkArmFire(b *testing.B) {
	p, err := Default()
	if err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	cli, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer cli.Close()
	srv, err := ln.Accept()
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	ch := make(chan struct{}, 1)
	h, err := p.Register(srv, func() { ch <- struct{}{} })
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close()
	one, buf := []byte{1}, make([]byte, 1)
	b.ReportAllocs()
	for b.Loop() {
		if err := h.Arm(); err != nil {
			b.Fatal(err)
		}
		cli.Write(one)
		<-ch
		srv.Read(buf)
	}
}
