package clientmatrix

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/xmpptest"
)

// parleyBin is the binary TestMain builds from ./cmd/parley.
var parleyBin string

// buildParley builds cmd/parley into dir, as a user does with go build
// (with -race when the tests run with it).
func buildParley(dir string) (string, error) {
	bin := filepath.Join(dir, "parley")
	args := []string{"build", "-o", bin}
	if raceBuild {
		args = append(args, "-race")
	}
	cmd := exec.Command("go", append(args, "github.com/parleyim/parley/cmd/parley")...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/parley: %w\n%s", err, out)
	}
	return bin, nil
}

// parley is a `parley serve` process with its own data directory.
type parley struct {
	dataDir string
	c2s     string // STARTTLS listener, 127.0.0.1:port
	log     *xmpptest.SyncBuffer
	cmd     *exec.Cmd
	exited  chan error
}

var listenLine = regexp.MustCompile(`listening on (\S+)\s+\(clients, STARTTLS\)`)

// startParley runs `parley serve` on random loopback ports with debug
// logging and stops it (SIGTERM, as an operator does) when the test ends.
func startParley(t *testing.T) *parley {
	t.Helper()
	p := &parley{dataDir: t.TempDir(), log: &xmpptest.SyncBuffer{}, exited: make(chan error, 1)}
	p.cmd = exec.Command(parleyBin, "serve", "--data-dir", p.dataDir,
		"--c2s-addr", "127.0.0.1:0", "--c2s-tls-addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0", "--s2s-addr", "127.0.0.1:0",
		"--http-addr", "", "--http-tls-addr", "", "--log-level", "debug")
	p.cmd.Stderr = p.log
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("parley serve: %v", err)
	}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := listenLine.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
		}
		p.exited <- p.cmd.Wait()
	}()
	t.Cleanup(func() { p.stop(t) })
	select {
	case p.c2s = <-addr:
	case err := <-p.exited:
		t.Fatalf("parley serve exited before listening: %v\n%s", err, p.log)
	case <-time.After(60 * time.Second):
		t.Fatalf("parley serve printed no STARTTLS address\n%s", p.log)
	}
	return p
}

func (p *parley) stop(t *testing.T) {
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return // already gone; startParley reported it
	}
	select {
	case err := <-p.exited:
		if err != nil {
			t.Errorf("parley serve did not exit cleanly on SIGTERM: %v\n%s", err, p.interesting())
		}
		if log := p.log.String(); strings.Contains(log, "WARNING: DATA RACE") {
			t.Errorf("the race detector reported a race in parley serve:\n%s", log[strings.Index(log, "WARNING: DATA RACE"):])
		}
	case <-time.After(30 * time.Second):
		p.cmd.Process.Kill()
		t.Errorf("parley serve still running 30 s after SIGTERM")
	}
}

// addUser creates an account with `parley user add` while the server runs.
func (p *parley) addUser(t *testing.T, jid, password string) {
	t.Helper()
	out, err := exec.Command(parleyBin, "user", "add", jid, "--password", password, "--data-dir", p.dataDir).CombinedOutput()
	if err != nil {
		t.Fatalf("parley user add %s: %v\n%s", jid, err, out)
	}
}

// cafile is the self-signed certificate serve generated for localhost.
func (p *parley) cafile() string { return filepath.Join(p.dataDir, "certs", "localhost.crt") }

var authLine = regexp.MustCompile(`msg=authenticated\b.*\bjid=(\S+).*\bmechanism=(\S+)(?:.*\bchannel_binding=("(?:[^"\\]|\\.)*"|\S*))?`)

// logins lists, without repeats, the logins to account the server logged
// so far: the mechanism and the GS2 channel-binding flag it saw ("n", "y",
// "p=TYPE"; empty for PLAIN, or when the log line does not say).
func (p *parley) logins(account string) []authAttempt {
	var out []authAttempt
	for _, m := range authLine.FindAllStringSubmatch(p.log.String(), -1) {
		if m[1] != account {
			continue
		}
		flag := m[3]
		if f, err := strconv.Unquote(flag); err == nil {
			flag = f
		}
		a := gs2Attempt(m[2], flag)
		if !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

// interesting is the part of the server's log that says how logins and
// streams went: SASL results, stream errors, refused connections.
func (p *parley) interesting() string {
	var b strings.Builder
	for _, line := range strings.Split(p.log.String(), "\n") {
		l := strings.ToLower(line)
		for _, k := range []string{"sasl", "authenticated", "stream error", "session bound", "refused", "error", "warn", "policy", "starttls", "tls"} {
			if strings.Contains(l, k) {
				b.WriteString(line + "\n")
				break
			}
		}
	}
	return b.String()
}

// poll calls cond every 100 ms until it reports true or the deadline
// passes; it reports whether cond became true.
func poll(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// missing skips the test for a missing prerequisite that is not a
// program (xmpptest.RequireCommand covers those), or fails it when
// PARLEY_REQUIRE_INTEROP is set.
func missing(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("PARLEY_REQUIRE_INTEROP") != "" {
		t.Fatal(why)
	}
	t.Skip(why)
}
