package clientmatrix

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/xmpptest"
)

// melliumDriver is the mellium.im/xmpp client in this process.
type melliumDriver struct {
	c    *xmpptest.Client
	err  error
	sent xmpptest.SyncBuffer // what the session wrote, SASL included
}

func (m *melliumDriver) login(t *testing.T, e *env) error {
	m.c, m.err = dialMellium(t, net.JoinHostPort(e.host, e.port), e.account, e.password, e.srv.cafile(), &m.sent)
	return m.err
}

func (m *melliumDriver) act(t *testing.T, e *env) error {
	res := m.c.IQ(t, `<iq type='set' id='add1'><query xmlns='jabber:iq:roster'><item jid='`+e.peer+`'/></query></iq>`)
	if res.Attr("type") != "result" {
		return fmt.Errorf("roster add: %s", res.Inner)
	}
	chat(t, m.c, e.peer, "ping "+e.token)
	return nil
}

func (m *melliumDriver) received(d time.Duration, body string) error {
	_, err := expectChat(m.c, d, body)
	return err
}

func (m *melliumDriver) log() string { return m.sent.String() }

func (m *melliumDriver) output() string {
	if m.err != nil {
		return m.err.Error()
	}
	return tail(m.log(), 40)
}

func startSendxmpp(*testing.T, *env) driver { return &sendxmppDriver{} }

// sendxmppDriver runs go-sendxmpp twice, as its users do: `-l` listens
// and prints what arrives, a second call sends a message read from stdin.
// Its debug flag (-d) only copies the XML it receives to stderr. The
// server's certificate is trusted through SSL_CERT_FILE, which Go's TLS
// reads on Linux.
type sendxmppDriver struct {
	listen, send *process
}

func (s *sendxmppDriver) command(e *env, args ...string) *exec.Cmd {
	base := []string{"-d", "-u", e.account, "-p", e.password, "-j", net.JoinHostPort(e.host, e.port)}
	cmd := exec.Command("go-sendxmpp", append(base, args...)...)
	cmd.Env = append(os.Environ(), "HOME="+e.dir, "SSL_CERT_FILE="+e.srv.cafile())
	return cmd
}

func (s *sendxmppDriver) login(t *testing.T, e *env) error {
	s.listen = startProcess(t, s.command(e, "-l"))
	// -d copies what it receives to stderr: the bind result holds
	// <jid>FULL JID</jid>.
	return s.listen.waitStderr(60*time.Second, "<jid>"+e.account+"/")
}

func (s *sendxmppDriver) act(t *testing.T, e *env) error {
	cmd := s.command(e, e.peer)
	cmd.Stdin = strings.NewReader("ping " + e.token + "\n")
	s.send = startProcess(t, cmd)
	select {
	case <-s.send.exited:
		if s.send.err != nil {
			return fmt.Errorf("go-sendxmpp (sending) exited with %v", s.send.err)
		}
		return nil
	case <-time.After(60 * time.Second):
		return errors.New("go-sendxmpp (sending) still running after 60 s")
	}
}

func (s *sendxmppDriver) received(d time.Duration, body string) error {
	// The listener prints "TIME FROM: BODY" to stdout.
	return s.listen.waitOutput(d, "@localhost: "+body)
}

func (s *sendxmppDriver) log() string {
	var b strings.Builder
	for _, p := range []*process{s.listen, s.send} {
		if p != nil {
			b.WriteString(p.stderr.String())
		}
	}
	return b.String()
}

func (s *sendxmppDriver) output() string {
	var b strings.Builder
	for name, p := range map[string]*process{"listener": s.listen, "sender": s.send} {
		if p != nil {
			b.WriteString("--- " + name + "\n" + tail(p.output(), 40) + "\n")
		}
	}
	return b.String()
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	return s[strings.LastIndex(s, "\n")+1:]
}

// termDriver is a terminal client in tmux.
type termDriver struct {
	tm      *terminal
	logFile string
	// connect logs in by typing; act types the roster add and the message.
	connect func(t *testing.T, e *env, tm *terminal) error
	actions func(e *env) []string
}

func (d *termDriver) login(t *testing.T, e *env) error { return d.connect(t, e, d.tm) }

func (d *termDriver) act(t *testing.T, e *env) error {
	for _, line := range d.actions(e) {
		d.tm.typeLine(t, line)
	}
	return nil
}

func (d *termDriver) received(dur time.Duration, body string) error { return d.tm.waitFor(dur, body) }

func (d *termDriver) log() string {
	b, _ := os.ReadFile(d.logFile)
	return string(b)
}

func (d *termDriver) output() string { return "screen:\n" + d.tm.screen() }

// startProfanity runs Profanity with a fresh home directory and debug
// logging (its log records libstrophe's XML). The user connects with
// /connect, types the password when asked, and accepts the self-signed
// certificate with /tls allow when Profanity asks.
func startProfanity(t *testing.T, e *env) driver {
	tm := startTerminal(t, e.dir, "env", "HOME="+e.dir, "TERM=xterm-256color", "LANG=C.UTF-8", "profanity", "-l", "DEBUG")
	return &termDriver{
		tm:      tm,
		logFile: filepath.Join(e.dir, ".local", "share", "profanity", "logs", "profanity.log"),
		connect: func(t *testing.T, e *env, tm *terminal) error {
			if err := tm.waitFor(30*time.Second, "Type '/help'"); err != nil {
				return err
			}
			tm.typeLine(t, "/connect "+e.account+" server "+e.host+" port "+e.port)
			if err := tm.waitFor(30*time.Second, "Enter password"); err != nil {
				return err
			}
			tm.typeSecret(t, e.password)
			if err := tm.waitFor(30*time.Second, "/tls allow"); err != nil {
				return err
			}
			tm.typeLine(t, "/tls allow")
			return waitScreen(tm, 60*time.Second, "logged in successfully", "Login failed")
		},
		actions: func(e *env) []string {
			return []string{"/roster add " + e.peer, "/msg " + e.peer + " ping " + e.token}
		},
	}
}

// waitScreen waits for ok on the screen and fails early on bad.
func waitScreen(tm *terminal, d time.Duration, ok, bad string) error {
	var screen string
	poll(d, func() bool {
		screen = tm.screen()
		return strings.Contains(screen, ok) || strings.Contains(screen, bad)
	})
	switch {
	case strings.Contains(screen, ok):
		return nil
	case strings.Contains(screen, bad):
		return fmt.Errorf("the screen shows %q", bad)
	}
	return fmt.Errorf("the screen did not show %q within %v", ok, d)
}

// startPoezio runs poezio with a configuration that holds what its first
// start asks for (account, password), the server's address, and trust in
// the server's certificate (ca_cert_path); everything else is poezio's
// default. poezio refuses to run as root, so under root it runs as nobody.
func startPoezio(t *testing.T, e *env) driver {
	if os.Geteuid() == 0 {
		// nobody cannot enter the test's own temporary directory (0700).
		dir, err := os.MkdirTemp("", "parley-poezio-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		e.dir = dir
	}
	cafile := filepath.Join(e.dir, "localhost.crt")
	pem, err := os.ReadFile(e.srv.cafile())
	if err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf("[Poezio]\njid = %s\npassword = %s\ncustom_host = %s\ncustom_port = %s\nca_cert_path = %s\n",
		e.account, e.password, e.host, e.port, cafile)
	files := map[string]string{cafile: string(pem), filepath.Join(e.dir, "poezio.cfg"): cfg}
	for name, content := range files {
		if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	argv := []string{"env", "HOME=" + e.dir, "TERM=xterm-256color", "LANG=C.UTF-8",
		"poezio", "-f", filepath.Join(e.dir, "poezio.cfg"), "-d", filepath.Join(e.dir, "debug.log")}
	if os.Geteuid() == 0 {
		argv = append(asNobody(t, e.dir), argv...)
	}
	tm := startTerminal(t, t.TempDir(), argv...)
	return &termDriver{
		tm:      tm,
		logFile: filepath.Join(e.dir, "debug.log"),
		connect: func(t *testing.T, e *env, tm *terminal) error {
			return tm.waitFor(60*time.Second, "Your JID is "+e.account+"/")
		},
		actions: func(e *env) []string {
			return []string{"/add " + e.peer, "/message " + e.peer + " ping " + e.token}
		},
	}
}

// asNobody returns the command prefix that drops root for user nobody and
// gives nobody the directory.
func asNobody(t *testing.T, dir string) []string {
	setpriv := xmpptest.RequireCommand(t, "setpriv", "util-linux")
	u, err := user.Lookup("nobody")
	if err != nil {
		missing(t, "no user nobody to run poezio as (poezio refuses root)")
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	err = filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Chown(p, uid, gid)
	})
	if err != nil {
		t.Fatal(err)
	}
	return []string{setpriv, "--reuid=" + u.Uid, "--regid=" + u.Gid, "--clear-groups"}
}
