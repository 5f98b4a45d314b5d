package tlsutil

import (
	"crypto/tls"
	"encoding/binary"
	"io"
	"net"
	"testing"

	"github.com/parleyim/parley/internal/config"
)

// recordCounter counts the TLS records that pass through a connection
// (server to client), parsing the 5-byte record headers.
type recordCounter struct {
	net.Conn
	buf     []byte
	records int
}

func (r *recordCounter) Write(p []byte) (int, error) {
	r.buf = append(r.buf, p...)
	for len(r.buf) >= 5 {
		n := 5 + int(binary.BigEndian.Uint16(r.buf[3:5]))
		if len(r.buf) < n {
			break
		}
		if r.buf[0] == 23 { // application data
			r.records++
		}
		r.buf = r.buf[n:]
	}
	return r.Conn.Write(p)
}

// TestOneRecordPerWrite: on a fresh connection, a write of several KiB
// (stanzas queued together) leaves as one TLS record, so one system call,
// rather than crypto/tls's small first records (dynamic record sizing).
func TestOneRecordPerWrite(t *testing.T) {
	c, err := Load(t.TempDir(), []string{"example.org"}, config.TLS{})
	if err != nil {
		t.Fatal(err)
	}
	a, b := net.Pipe()
	counter := &recordCounter{Conn: a}
	srv := tls.Server(counter, c.TLSConfig())
	cli := tls.Client(b, &tls.Config{InsecureSkipVerify: true, ServerName: "example.org"})
	defer srv.Close()
	defer cli.Close()
	payload := make([]byte, 8<<10)
	done := make(chan error, 1)
	go func() {
		_, err := io.ReadFull(cli, make([]byte, len(payload)))
		done <- err
	}()
	if err := srv.Handshake(); err != nil {
		t.Fatal(err)
	}
	before := counter.records // TLS 1.3 sends session tickets as application data records
	if _, err := srv.Write(payload); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := counter.records - before; n != 1 {
		t.Errorf("an 8 KiB write left as %d records, want 1", n)
	}
}
