package xmpptest

import (
	"net"
	"testing"
	"time"
)

// DelayProxy listens on loopback and forwards each connection to target,
// holding what the client sends for up and what the server sends for
// down before passing it on: a link with a round-trip time of up+down.
// It returns the address to dial; it stops when the test ends.
func DelayProxy(t testing.TB, target string, up, down time.Duration) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			go delayCopy(s, c, up)
			go delayCopy(c, s, down)
		}
	}()
	return ln.Addr().String()
}

// delayCopy copies src to dst, each chunk d after it was read (chunks
// keep their order; a later chunk is not held longer than d after it
// arrived, as on a link with latency d), and closes dst at the end.
func delayCopy(dst, src net.Conn, d time.Duration) {
	defer dst.Close()
	type chunk struct {
		at time.Time
		b  []byte
	}
	ch := make(chan chunk, 256)
	go func() {
		defer close(ch)
		for {
			buf := make([]byte, 32<<10)
			n, err := src.Read(buf)
			if n > 0 {
				ch <- chunk{time.Now().Add(d), buf[:n]}
			}
			if err != nil {
				return
			}
		}
	}()
	for c := range ch {
		time.Sleep(time.Until(c.at))
		if _, err := dst.Write(c.b); err != nil {
			for range ch { // the reader stops at src's end
			}
			return
		}
	}
}
