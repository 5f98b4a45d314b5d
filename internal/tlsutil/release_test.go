package tlsutil

import (
	"bytes"
	"crypto/tls"
	"io"
	"net"
	"testing"
	"unsafe"

	"github.com/parleyim/parley/internal/config"
)

// tlsPair returns both ends of a TLS 1.3 connection over loopback TCP.
func tlsPair(t *testing.T) (server, client *tls.Conn) {
	t.Helper()
	certs, err := Load(t.TempDir(), []string{"localhost"}, config.TLS{})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			server = tls.Server(c, certs.TLSConfig())
			err = server.Handshake()
		}
		done <- err
	}()
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	client = tls.Client(raw, &tls.Config{InsecureSkipVerify: true, ServerName: "localhost"})
	if err := client.Handshake(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return server, client
}

func rawInputCap(c *tls.Conn) int {
	f := tlsBufferFields()
	return (*bytes.Buffer)(unsafe.Add(unsafe.Pointer(c), f.rawInput)).Cap()
}

func TestReleaseBuffers(t *testing.T) {
	if !tlsBufferFields().ok {
		t.Fatal("crypto/tls.Conn no longer has rawInput/input/hand buffers of the expected types: update ReleaseBuffers")
	}
	server, client := tlsPair(t)
	buf := make([]byte, 64<<10)
	read := func(want string) {
		t.Helper()
		if _, err := io.ReadFull(server, buf[:len(want)]); err != nil || string(buf[:len(want)]) != want {
			t.Fatalf("read %q, %v; want %q", buf[:len(want)], err, want)
		}
	}
	client.Write([]byte("hello"))
	read("hello")
	if rawInputCap(server) == 0 {
		t.Fatal("the server read records without a buffer?")
	}
	if !ReleaseBuffers(server) || rawInputCap(server) != 0 {
		t.Fatalf("nothing unread: ReleaseBuffers must drop the buffer (cap %d)", rawInputCap(server))
	}
	// The connection works on: a record bigger than the old buffer, both ways.
	big := string(bytes.Repeat([]byte("x"), 20<<10))
	go client.Write([]byte(big))
	read(big)
	if _, err := server.Write([]byte("back")); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(client, buf[:4]); err != nil || string(buf[:4]) != "back" {
		t.Fatalf("client read %q, %v", buf[:4], err)
	}
	// Unread plaintext of a record: nothing may be dropped.
	client.Write([]byte("abcdef"))
	read("abc")
	if ReleaseBuffers(server) {
		t.Fatal("ReleaseBuffers dropped unread bytes")
	}
	read("def")
	if !ReleaseBuffers(server) {
		t.Fatal("all read: ReleaseBuffers must succeed")
	}
}

func TestReleaseBuffersNil(t *testing.T) {
	if ReleaseBuffers(nil) {
		t.Fatal("nil connection released")
	}
}
