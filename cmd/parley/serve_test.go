package main

import (
	"bufio"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestServeSignal builds the real binary, runs `parley serve` with no
// configuration but a data directory and loopback ports, checks it serves
// a client stream, then sends SIGTERM: the client must get
// <system-shutdown/> and the process must exit 0.
func TestServeSignal(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "parley")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "serve", "--data-dir", filepath.Join(dir, "data"),
		"--c2s-addr", "127.0.0.1:0", "--c2s-tls-addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0", "--s2s-addr", "127.0.0.1:0",
		"--http-addr", "127.0.0.1:0", "--http-tls-addr", "127.0.0.1:0")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	addr := readListenAddr(t, stdout, "STARTTLS")
	go io.Copy(io.Discard, stdout)

	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>")
	got := readUntil(t, c, "</stream:features>")
	if !strings.Contains(got, "starttls") {
		t.Fatalf("features: %s", got)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if rest := readUntil(t, c, "</stream:stream>"); !strings.Contains(rest, "<system-shutdown") {
		t.Fatalf("after SIGTERM: %q", rest)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if errors.As(err, &ee) || err != nil {
			t.Fatalf("exit: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("server did not exit after SIGTERM")
	}
}

var listenRE = regexp.MustCompile(`listening on (\S+)\s+\(clients, (\S+)`)

func readListenAddr(t *testing.T, r io.Reader, kind string) string {
	t.Helper()
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if m := listenRE.FindStringSubmatch(sc.Text()); m != nil && strings.HasPrefix(m[2], kind) {
			return m[1]
		}
	}
	t.Fatalf("no %s listener printed (%v)", kind, sc.Err())
	return ""
}

func readUntil(t *testing.T, c net.Conn, marker string) string {
	t.Helper()
	var b strings.Builder
	buf := make([]byte, 4096)
	for !strings.Contains(b.String(), marker) {
		n, err := c.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			t.Fatalf("read: %v; got %q", err, b.String())
		}
	}
	return b.String()
}
