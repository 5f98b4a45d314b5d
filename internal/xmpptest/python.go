package xmpptest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// DebianPython is Debian's interpreter, where python3-slixmpp and
// python3-aioxmpp install (not a pyenv one on PATH).
const DebianPython = "/usr/bin/python3"

// PythonCommand is script run by DebianPython with args, with the shared
// helper modules in internal/xmpptest/python (parleyslix: connect a
// slixmpp client with the library's defaults; parleyaio: build an aioxmpp
// client likewise) on PYTHONPATH.
func PythonCommand(ctx context.Context, script string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, DebianPython, append([]string{script}, args...)...)
	cmd.Env = append(os.Environ(), "PYTHONPATH="+pythonDir())
	return cmd
}

// pythonDir is internal/xmpptest/python in this source tree.
func pythonDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "python")
}

// RequirePython skips the test when the Debian package pkg providing the
// python module is missing, unless PARLEY_REQUIRE_INTEROP is set (CI sets
// it, so a missing package fails there instead of skipping).
func RequirePython(t testing.TB, module, pkg string) {
	t.Helper()
	if err := exec.Command(DebianPython, "-c", "import "+module).Run(); err != nil {
		missing(t, pkg, err)
	}
}

// RequireCommand returns the path of the program name from the Debian
// package pkg, skipping the test (failing it under PARLEY_REQUIRE_INTEROP)
// when it is not installed.
func RequireCommand(t testing.TB, name, pkg string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		missing(t, pkg, err)
	}
	return path
}

// Missing skips the test because pkg is not installed, or fails it under
// PARLEY_REQUIRE_INTEROP.
func Missing(t testing.TB, pkg string, err error) { t.Helper(); missing(t, pkg, err) }

func missing(t testing.TB, pkg string, err error) {
	t.Helper()
	if os.Getenv("PARLEY_REQUIRE_INTEROP") != "" {
		t.Fatalf("%s is required: %v (apt-get install %s)", pkg, err, pkg)
	}
	t.Skip(pkg + " not installed")
}

// Script is a client script started by StartPython.
type Script struct {
	done   chan struct{}
	out    []byte
	err    error
	cancel context.CancelFunc
}

// StartPython runs script (a path relative to the test's package) with
// DebianPython and args, for at most a minute, and returns the stanza on in
// that match accepts first: what the script sent. It fails the test if the
// script ends before.
func StartPython(t testing.TB, in <-chan Stanza, match func(Stanza) bool, script string, args ...string) (Stanza, *Script) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	s := &Script{done: make(chan struct{}), cancel: cancel}
	t.Cleanup(func() { s.cancel(); <-s.done })
	cmd := PythonCommand(ctx, script, args...)
	go func() { s.out, s.err = cmd.CombinedOutput(); close(s.done) }()
	for {
		select {
		case st := <-in:
			if match(st) {
				return st, s
			}
		case <-s.done:
			t.Fatalf("%s ended before sending: %v\n%s", script, s.err, s.out)
		}
	}
}

// Wait waits for the script to end and returns its combined output and
// exit error.
func (s *Script) Wait() (string, error) {
	<-s.done
	return string(s.out), s.err
}
