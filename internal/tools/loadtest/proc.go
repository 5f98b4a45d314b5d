package loadtest

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTick is USER_HZ, the unit of the CPU times in /proc/PID/stat: 100
// on every Linux architecture Go supports.
const clockTick = 10 * time.Millisecond

// Proc reads a server's resource use from /proc: the process PID and all
// its descendants (ejabberd runs helper processes). A zero PID measures
// nothing and every reading is zero.
type Proc struct{ PID int }

// tree returns PID and its descendants.
func (p Proc) tree() []int {
	if p.PID <= 0 {
		return nil
	}
	parent := map[int]int{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if pp, ok := ppidOf(pid); ok {
			parent[pid] = pp
		}
	}
	out := []int{p.PID}
	for changed := true; changed; {
		changed = false
		for pid, pp := range parent {
			if containsInt(out, pp) && !containsInt(out, pid) {
				out = append(out, pid)
				changed = true
			}
		}
	}
	return out
}

func containsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// statFields returns the fields of /proc/PID/stat after the command name.
func statFields(pid int) ([]string, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil, false
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return nil, false
	}
	return strings.Fields(string(b[i+1:])), true
}

func ppidOf(pid int) (int, bool) {
	f, ok := statFields(pid)
	if !ok || len(f) < 2 {
		return 0, false
	}
	pp, err := strconv.Atoi(f[1])
	return pp, err == nil
}

// CPU returns the user+system CPU time used so far by the process tree,
// including reaped children (cutime, cstime).
func (p Proc) CPU() time.Duration {
	var ticks int64
	for _, pid := range p.tree() {
		f, ok := statFields(pid)
		if !ok || len(f) < 15 {
			continue
		}
		// Fields after ')': state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14).
		for _, k := range []int{11, 12, 13, 14} {
			v, _ := strconv.ParseInt(f[k], 10, 64)
			ticks += v
		}
	}
	return time.Duration(ticks) * clockTick
}

// RSS returns the resident set size of the process tree in bytes (VmRSS
// from /proc/PID/status, summed).
func (p Proc) RSS() int64 {
	var total int64
	for _, pid := range p.tree() {
		total += vmRSS(pid)
	}
	return total
}

func vmRSS(pid int) int64 {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			var kb int64
			fmt.Sscanf(strings.TrimSpace(v), "%d", &kb)
			return kb << 10
		}
	}
	return 0
}

// Settle waits until the process tree has used no CPU for quiet (it has
// finished the work the load gave it), or until limit passes.
func (p Proc) Settle(quiet, limit time.Duration) {
	if p.PID <= 0 {
		return
	}
	end := time.Now().Add(limit)
	last := p.CPU()
	for time.Now().Before(end) {
		time.Sleep(quiet)
		now := p.CPU()
		if now == last {
			return
		}
		last = now
	}
}

// self is the load tool's own process, to show whether it was the
// bottleneck.
var self = Proc{PID: os.Getpid()}

// busy is cpu as a percentage of one core over wall.
func busy(cpu, wall time.Duration) float64 {
	if wall <= 0 {
		return 0
	}
	return 100 * cpu.Seconds() / wall.Seconds()
}
