package clientmatrix

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/xmpptest"
)

// clients is the matrix, in the order of docs/clients.md.
var clients = []clientCase{
	{
		name: "slixmpp", transport: "STARTTLS", scram: true, roster: true, processes: 1,
		version: dpkgVersion("python3-slixmpp"),
		require: func(t *testing.T) { xmpptest.RequirePython(t, "slixmpp", "python3-slixmpp") },
		start:   pythonScript("testdata/slixmpp_client.py"),
	},
	{
		name: "poezio", transport: "STARTTLS", scram: true, roster: true, processes: 1,
		version: dpkgVersion("poezio"),
		require: func(t *testing.T) { xmpptest.RequireCommand(t, "poezio", "poezio") },
		start:   startPoezio,
	},
	{
		name: "aioxmpp", transport: "STARTTLS", scram: true, roster: true, processes: 1,
		version: dpkgVersion("python3-aioxmpp"),
		require: func(t *testing.T) { xmpptest.RequirePython(t, "aioxmpp", "python3-aioxmpp") },
		start:   pythonScript("testdata/aioxmpp_client.py"),
	},
	{
		name: "Profanity", transport: "STARTTLS", scram: true, roster: true, processes: 1,
		version: func() string {
			return dpkgVersion("profanity")() + " (" + dpkgVersion("libstrophe0")() + ")"
		},
		require: func(t *testing.T) { xmpptest.RequireCommand(t, "profanity", "profanity") },
		start:   startProfanity,
	},
	{
		// go-sendxmpp sends in one process and listens in another; it has
		// no roster command, and the go-xmpp it is built with knows no
		// SCRAM (PLAIN, DIGEST-MD5 and X-OAUTH2 only).
		name: "go-sendxmpp", transport: "STARTTLS", scram: false, roster: false, processes: 2, replyBare: true,
		version: dpkgVersion("go-sendxmpp"),
		require: func(t *testing.T) { xmpptest.RequireCommand(t, "go-sendxmpp", "go-sendxmpp") },
		start:   startSendxmpp,
	},
	{
		name: "@xmpp/client", transport: "STARTTLS (xmpp://, TCP)", scram: true, roster: true, processes: 1,
		version: npmVersion("@xmpp/client"),
		require: requireXmppJS,
		start:   xmppJS,
	},
	{
		name: "mellium.im/xmpp", transport: "STARTTLS", scram: true, roster: true, processes: 1, binding: "tls-exporter",
		version: goModVersion("mellium.im/xmpp"),
		require: func(*testing.T) {},
		start:   func(*testing.T, *env) driver { return &melliumDriver{} },
	},
}

// dpkgVersion reports a Debian package's installed version.
func dpkgVersion(pkg string) func() string {
	return func() string {
		out, err := exec.Command("dpkg-query", "-W", "-f=${Version}", pkg).Output()
		if err != nil || len(out) == 0 {
			return "unknown"
		}
		return pkg + " " + string(out)
	}
}

const xmppjsDir = "testdata/xmppjs"

func npmVersion(pkg string) func() string {
	return func() string {
		b, err := os.ReadFile(filepath.Join(xmppjsDir, "node_modules", pkg, "package.json"))
		var p struct{ Version string }
		if err != nil || json.Unmarshal(b, &p) != nil {
			return "unknown"
		}
		return "npm " + p.Version
	}
}

func goModVersion(mod string) func() string {
	return func() string {
		out, err := exec.Command("go", "list", "-m", "-f", "{{.Version}}", mod).Output()
		if err != nil {
			return "unknown"
		}
		return strings.TrimSpace(string(out))
	}
}

func requireXmppJS(t *testing.T) {
	xmpptest.RequireCommand(t, "node", "nodejs npm")
	if _, err := os.Stat(filepath.Join(xmppjsDir, "node_modules", "@xmpp", "client")); err != nil {
		missing(t, "@xmpp/client is not installed: npm ci --prefix internal/clientmatrix/"+xmppjsDir)
	}
}

// process is a client program with its output collected.
type process struct {
	cmd            *exec.Cmd
	stdout, stderr *xmpptest.SyncBuffer
	exited         chan struct{}
	err            error
}

func startProcess(t *testing.T, cmd *exec.Cmd) *process {
	t.Helper()
	p := &process{cmd: cmd, stdout: &xmpptest.SyncBuffer{}, stderr: &xmpptest.SyncBuffer{}, exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.stdout, p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: %v", cmd.Path, err)
	}
	go func() { p.err = cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-p.exited
	})
	return p
}

// waitOutput waits until stdout holds text; it gives up early when the
// program exits without printing it.
func (p *process) waitOutput(d time.Duration, text string) error {
	return p.wait(p.stdout, "stdout", d, text)
}

// waitStderr is waitOutput for stderr.
func (p *process) waitStderr(d time.Duration, text string) error {
	return p.wait(p.stderr, "stderr", d, text)
}

func (p *process) wait(out *xmpptest.SyncBuffer, where string, d time.Duration, text string) error {
	deadline := time.After(d)
	for !strings.Contains(out.String(), text) {
		select {
		case <-p.exited:
			if strings.Contains(out.String(), text) {
				return nil
			}
			return fmt.Errorf("exited (%v) before %q showed on its %s; its last words: %q", p.err, text, where, p.lastWords())
		case <-deadline:
			return fmt.Errorf("no %q on its %s within %v", text, where, d)
		case <-time.After(100 * time.Millisecond):
		}
	}
	return nil
}

// lastWords is the last line the program printed (stdout, else stderr).
func (p *process) lastWords() string {
	if l := lastLine(p.stdout.String()); l != "" {
		return l
	}
	return lastLine(p.stderr.String())
}

func (p *process) output() string {
	return "stdout:\n" + p.stdout.String() + "stderr:\n" + tail(p.stderr.String(), 40)
}

// scriptDriver runs a script that does the whole exchange itself (see the
// scripts' doc strings): it prints ONLINE, ROSTER, SENT and RECEIVED.
type scriptDriver struct {
	cmd func(e *env) *exec.Cmd
	p   *process
}

func (s *scriptDriver) login(t *testing.T, e *env) error {
	s.p = startProcess(t, s.cmd(e))
	return s.p.waitOutput(60*time.Second, "ONLINE ")
}

func (s *scriptDriver) act(*testing.T, *env) error { return s.p.waitOutput(30*time.Second, "SENT") }

func (s *scriptDriver) received(d time.Duration, body string) error {
	if err := s.p.waitOutput(d, "RECEIVED "+body); err != nil {
		return err
	}
	select {
	case <-s.p.exited:
		if s.p.err != nil {
			return fmt.Errorf("the client exited with %v after receiving", s.p.err)
		}
		return nil
	case <-time.After(d):
		return fmt.Errorf("the client did not exit within %v after receiving", d)
	}
}

func (s *scriptDriver) log() string {
	if s.p == nil {
		return ""
	}
	return s.p.stderr.String()
}

func (s *scriptDriver) output() string {
	if s.p == nil {
		return "(not started)"
	}
	return s.p.output()
}

// pythonScript runs a script with Debian's Python.
func pythonScript(script string) func(*testing.T, *env) driver {
	return func(_ *testing.T, _ *env) driver {
		return &scriptDriver{cmd: func(e *env) *exec.Cmd {
			return xmpptest.PythonCommand(context.Background(), script,
				e.account, e.password, e.host, e.port, e.srv.cafile(), e.peer, e.token)
		}}
	}
}

// xmppJS runs testdata/xmppjs/client.mjs; Node trusts the server's
// certificate through NODE_EXTRA_CA_CERTS.
func xmppJS(_ *testing.T, _ *env) driver {
	return &scriptDriver{cmd: func(e *env) *exec.Cmd {
		cmd := exec.Command("node", filepath.Join(xmppjsDir, "client.mjs"),
			e.account, e.password, e.host, e.port, e.peer, e.token)
		cmd.Env = append(os.Environ(), "NODE_EXTRA_CA_CERTS="+e.srv.cafile())
		return cmd
	}}
}
