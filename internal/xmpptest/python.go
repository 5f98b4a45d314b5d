package xmpptest

import (
	"os"
	"os/exec"
	"testing"
)

// DebianPython is Debian's interpreter, where python3-slixmpp and
// python3-aioxmpp install (not a pyenv one on PATH).
const DebianPython = "/usr/bin/python3"

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

func missing(t testing.TB, pkg string, err error) {
	t.Helper()
	if os.Getenv("PARLEY_REQUIRE_INTEROP") != "" {
		t.Fatalf("%s is required: %v (apt-get install %s)", pkg, err, pkg)
	}
	t.Skip(pkg + " not installed")
}
