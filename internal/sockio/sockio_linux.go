package sockio

import (
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"
)

// Conn is a *net.TCPConn whose Read and Write are raw non-blocking system
// calls waited for by the runtime poller. Like a net.Conn it may be read
// and written from different goroutines at once.
type Conn struct {
	*net.TCPConn
	rc syscall.RawConn
	// The state of the Read and Write in progress, and the functions the
	// poller calls (bound once, so a call allocates nothing).
	rmu, wmu sync.Mutex
	rd, wr   op
	readFn   func(fd uintptr) bool
	writeFn  func(fd uintptr) bool
	tryFn    func(fd uintptr)
	// noWait: writes do not wait for room (NoWait); behind holds, in
	// order, what they could not write at once (guarded by wmu).
	noWait atomic.Bool
	behind []byte
}

// op is one read or write: the buffer, how much of it was done, the
// system call's error.
type op struct {
	p     []byte
	n     int
	errno syscall.Errno
}

// Wrap returns c as a *Conn when it is a TCP connection with a file
// descriptor, else c unchanged.
func Wrap(c net.Conn) net.Conn {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return c
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return c
	}
	sc := &Conn{TCPConn: tc, rc: rc}
	sc.readFn = sc.rd.read
	sc.writeFn = sc.wr.write
	sc.tryFn = sc.wr.try
	return sc
}

// Read reads up to len(p) bytes once data is available.
func (c *Conn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	c.rmu.Lock()
	defer c.rmu.Unlock()
	n, err := c.do("read", &c.rd, p, c.readFn)
	if err == nil && n == 0 {
		return 0, io.EOF
	}
	return n, err
}

// do runs one read or write of p through the poller with o as its state
// and returns what it did and the error as net.Conn reports it; fn is
// the attempt the poller calls (readFn or writeFn).
func (c *Conn) do(name string, o *op, p []byte, fn func(uintptr) bool) (int, error) {
	*o = op{p: p}
	var err error
	if o == &c.rd {
		err = c.rc.Read(fn)
	} else {
		err = c.rc.Write(fn)
	}
	return c.result(name, o, err)
}

// result is what o did and its error as net.Conn reports it; err is the
// poller's (deadline, closed), already a *net.OpError.
func (c *Conn) result(name string, o *op, err error) (int, error) {
	n, errno := o.n, o.errno
	o.p = nil // keep no reference to the caller's buffer
	switch {
	case err != nil:
		return n, err
	case errno != 0:
		return n, &net.OpError{Op: name, Net: "tcp", Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: os.NewSyscallError(name, errno)}
	}
	return n, nil
}

// read is one attempt; false asks the poller to wait for readiness.
func (o *op) read(fd uintptr) bool {
	for {
		r, _, e := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&o.p[0])), uintptr(len(o.p)))
		switch e {
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return false
		}
		if e != 0 {
			o.errno = e // r is -1: nothing was read
			return true
		}
		o.n = int(r)
		return true
	}
}

// Write writes all of p, waiting for room in the socket buffer as needed;
// bytes kept by an earlier NoWait go first. Inside NoWait it does not
// wait: what the socket buffer does not take at once is kept and p counts
// as written.
func (c *Conn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.noWait.Load() {
		return len(p), c.writeBehind(p)
	}
	if err := c.flushLocked(); err != nil {
		return 0, err
	}
	return c.do("write", &c.wr, p, c.writeFn)
}

// NoWait writes p to w, which is c or a TLS connection on top of it,
// with writes that never wait for room in the socket buffer: what it does
// not take at once is kept, in order, and goes out before anything else,
// in the next Write or in Flush. kept reports bytes waiting so. One NoWait
// at a time: the caller serialises its writers.
//
// It lets a goroutine that must not block (one routing another client's
// message) write to a connection whose buffer almost always has room,
// and leave the rare rest to one that may wait.
func (c *Conn) NoWait(w io.Writer, p []byte) (kept bool, err error) {
	c.noWait.Store(true)
	_, err = w.Write(p)
	c.noWait.Store(false)
	c.wmu.Lock()
	kept = len(c.behind) > 0
	c.wmu.Unlock()
	return kept, err
}

// Flush writes what NoWait kept, waiting for room as Write does (within
// the write deadline).
func (c *Conn) Flush() error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.flushLocked()
}

func (c *Conn) flushLocked() error {
	if len(c.behind) == 0 {
		return nil
	}
	n, err := c.do("write", &c.wr, c.behind, c.writeFn)
	if err != nil {
		c.behind = c.behind[n:]
		return err
	}
	c.behind = nil // a rare backlog's buffer is not kept
	return nil
}

// writeBehind writes what of p the socket takes now, unless bytes are
// kept already (they go first), and keeps the rest.
func (c *Conn) writeBehind(p []byte) error {
	if len(c.behind) == 0 {
		// Through Control, not the poller's Write: no waiting, and no
		// write deadline applies (a past one set for an earlier wait
		// must not fail a write that cannot block).
		c.wr = op{p: p}
		n, err := c.result("write", &c.wr, c.rc.Control(c.tryFn))
		if err != nil {
			return err
		}
		p = p[n:]
	}
	if len(p) > 0 {
		c.behind = append(c.behind, p...)
	}
	return nil
}

// try writes what the socket buffer takes now.
func (o *op) try(fd uintptr) { o.write(fd) }

// write writes what is left; false asks the poller to wait for room.
func (o *op) write(fd uintptr) bool {
	for o.n < len(o.p) {
		r, _, e := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&o.p[o.n])), uintptr(len(o.p)-o.n))
		switch e {
		case 0:
			if r == 0 { // no progress and no error: never loop on it
				o.errno = syscall.EIO
				return true
			}
			o.n += int(r)
		case syscall.EINTR:
		case syscall.EAGAIN:
			return false
		default:
			o.errno = e
			return true
		}
	}
	return true
}
