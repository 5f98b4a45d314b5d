package clientmatrix

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/xmpptest"
)

// terminal is a terminal program running in its own tmux server, driven
// by keystrokes and read from the screen, as a user would.
type terminal struct {
	sock string
}

// startTerminal runs argv in a 200x50 tmux window. The window stays after
// the program exits, so its last screen can still be read.
func startTerminal(t *testing.T, dir string, argv ...string) *terminal {
	t.Helper()
	xmpptest.RequireCommand(t, "tmux", "tmux")
	conf := filepath.Join(dir, "tmux.conf")
	if err := os.WriteFile(conf, []byte("set -g remain-on-exit on\nset -g history-limit 5000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tm := &terminal{sock: filepath.Join(dir, "tmux.sock")}
	args := append([]string{"-S", tm.sock, "-f", conf, "new-session", "-d", "-s", "main", "-x", "200", "-y", "50"}, argv...)
	if out, err := exec.Command("tmux", args...).CombinedOutput(); err != nil {
		t.Fatalf("tmux new-session: %v\n%s", err, out)
	}
	out, err := exec.Command("tmux", "-S", tm.sock, "display-message", "-p", "-t", "main", "#{pane_pid}").Output()
	pid, perr := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil || perr != nil {
		exec.Command("tmux", "-S", tm.sock, "kill-server").Run()
		t.Fatalf("tmux pane pid: %v %v", err, perr)
	}
	t.Cleanup(func() { tm.stop(t, pid) })
	return tm
}

// stop ends the program and its tmux server. The program is killed
// outright: poezio ignores the hangup of its terminal and would spin.
func (tm *terminal) stop(t *testing.T, pid int) {
	syscall.Kill(pid, syscall.SIGKILL)
	exec.Command("tmux", "-S", tm.sock, "kill-server").Run()
	if !poll(10*time.Second, func() bool { return gone(pid) }) {
		t.Errorf("terminal program %d still running after SIGKILL", pid)
	}
}

// gone reports whether process pid has ended (exited, or a zombie not
// yet reaped by its parent).
func gone(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	// Fields after the command name, which is in parentheses: state first.
	_, rest, ok := strings.Cut(string(stat), ") ")
	return ok && strings.HasPrefix(rest, "Z")
}

// typeLine types text on the input line and presses Enter. The first key
// goes alone and the rest follows once the input line shows it: a burst
// of keys reads as a paste to some programs (poezio does not run a pasted
// "/command"). Enter goes once the whole text is on the input line, and
// typeLine returns once the program has taken the line (keys typed
// together with the Enter would be part of that paste too).
func (tm *terminal) typeLine(t *testing.T, text string) {
	t.Helper()
	tm.keys(t, "-l", text[:1])
	if err := tm.waitInput(text[:1], true); err != nil {
		t.Fatal(err)
	}
	end := text[max(0, len(text)-12):]
	tm.keys(t, "-l", text[1:])
	if err := tm.waitInput(end, true); err != nil {
		t.Fatal(err)
	}
	tm.keys(t, "Enter")
	if err := tm.waitInput(end, false); err != nil {
		t.Fatal(err)
	}
}

// waitInput waits until the bottom line of the window (where both
// programs edit their input) ends with text, or (shows false) no longer
// does.
func (tm *terminal) waitInput(text string, shows bool) error {
	var last string
	if poll(10*time.Second, func() bool {
		out, _ := exec.Command("tmux", "-S", tm.sock, "capture-pane", "-p", "-t", "main").Output()
		lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
		last = strings.TrimRight(lines[len(lines)-1], " ")
		return strings.HasSuffix(last, text) == shows
	}) {
		return nil
	}
	if shows {
		return fmt.Errorf("the input line shows %q, not the typed %q", last, text)
	}
	return fmt.Errorf("the input line still shows %q after Enter", last)
}

// typeSecret types text that is not echoed (a password) and presses Enter.
func (tm *terminal) typeSecret(t *testing.T, text string) {
	t.Helper()
	tm.keys(t, "-l", text)
	tm.keys(t, "Enter")
}

func (tm *terminal) keys(t *testing.T, args ...string) {
	t.Helper()
	args = append([]string{"-S", tm.sock, "send-keys", "-t", "main"}, args...)
	if out, err := exec.Command("tmux", args...).CombinedOutput(); err != nil {
		t.Fatalf("tmux send-keys: %v\n%s", err, out)
	}
}

// screen is the window's text, scroll-back included.
func (tm *terminal) screen() string {
	out, err := exec.Command("tmux", "-S", tm.sock, "capture-pane", "-p", "-J", "-t", "main", "-S", "-5000").Output()
	if err != nil {
		return fmt.Sprintf("(capture-pane: %v)", err)
	}
	return string(out)
}

// waitFor waits until the screen shows text.
func (tm *terminal) waitFor(d time.Duration, text string) error {
	if poll(d, func() bool { return strings.Contains(tm.screen(), text) }) {
		return nil
	}
	return fmt.Errorf("the screen did not show %q within %v", text, d)
}
