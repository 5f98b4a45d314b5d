package sockio

import (
	"io"
	"math"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
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
	// wto bounds a write that has to wait for room (SetWriteTimeout);
	// wdSet: a write deadline set by the caller is in force and wins.
	wtoMs int32 // in milliseconds: the struct stays in its allocation size class
	wdSet atomic.Bool
}

// op is one read or write: the buffer, how much of it was done, the
// system call's error.
type op struct {
	p     []byte
	n     int
	errno uint32 // a syscall.Errno (kept small: see Conn)
	// try: a write that finds no room stops (blocked) instead of asking
	// the poller to wait.
	try, blocked bool
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
	return sc
}

// Read reads up to len(p) bytes once data is available.
func (c *Conn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	c.rmu.Lock()
	defer c.rmu.Unlock()
	n, err := c.do("read", &c.rd, p)
	if err == nil && n == 0 {
		return 0, io.EOF
	}
	return n, err
}

// do runs one read or write of p through the poller with o as its state
// and returns what it did and the error as net.Conn reports it.
func (c *Conn) do(name string, o *op, p []byte) (int, error) {
	*o = op{p: p, try: o.try}
	var err error
	if o == &c.rd {
		err = c.rc.Read(c.readFn)
	} else {
		err = c.rc.Write(c.writeFn)
	}
	n, errno := o.n, syscall.Errno(o.errno)
	o.p = nil // keep no reference to the caller's buffer
	switch {
	case err != nil:
		return n, err // the poller's (deadline, closed), already a *net.OpError
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
			o.errno = uint32(e) // r is -1: nothing was read
			return true
		}
		o.n = int(r)
		return true
	}
}

// Write writes all of p, waiting for room in the socket buffer as needed.
// With a write timeout (SetWriteTimeout) and no write deadline of the
// caller's, a wait for room ends with os.ErrDeadlineExceeded after the
// timeout; a write that fits in the socket buffer waits for nothing and
// costs no deadline.
func (c *Conn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.wtoMs <= 0 || c.wdSet.Load() {
		return c.do("write", &c.wr, p)
	}
	c.wr.try = true
	n, err := c.do("write", &c.wr, p)
	blocked := c.wr.blocked
	c.wr.try, c.wr.blocked = false, false
	if err != nil || !blocked {
		return n, err
	}
	if err := c.TCPConn.SetWriteDeadline(time.Now().Add(c.WriteTimeout())); err != nil {
		return n, err
	}
	m, err := c.do("write", &c.wr, p[n:])
	// Clear it, or it would fail the next write once it has passed.
	if derr := c.TCPConn.SetWriteDeadline(time.Time{}); err == nil && derr != nil {
		err = derr
	}
	return n + m, err
}

// SetWriteTimeout makes each Write that must wait for room in the socket
// buffer wait at most d, in whole milliseconds up to about 24 days (0: no
// bound but the caller's deadline). A write deadline set with
// SetWriteDeadline or SetDeadline replaces the timeout until it is cleared
// (zero time). Call it before the first Write.
func (c *Conn) SetWriteTimeout(d time.Duration) {
	c.wtoMs = int32(min(max(d.Milliseconds(), 0), math.MaxInt32))
	if d > 0 && c.wtoMs == 0 {
		c.wtoMs = 1
	}
}

// WriteTimeout is what SetWriteTimeout set.
func (c *Conn) WriteTimeout() time.Duration { return time.Duration(c.wtoMs) * time.Millisecond }

// SetWriteDeadline sets the write deadline; a non-zero one replaces the
// write timeout until it is cleared.
func (c *Conn) SetWriteDeadline(t time.Time) error {
	c.wdSet.Store(!t.IsZero())
	return c.TCPConn.SetWriteDeadline(t)
}

// SetDeadline sets both deadlines; see SetWriteDeadline.
func (c *Conn) SetDeadline(t time.Time) error {
	c.wdSet.Store(!t.IsZero())
	return c.TCPConn.SetDeadline(t)
}

// write writes what is left; false asks the poller to wait for room.
func (o *op) write(fd uintptr) bool {
	for o.n < len(o.p) {
		r, _, e := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&o.p[o.n])), uintptr(len(o.p)-o.n))
		switch e {
		case 0:
			if r == 0 { // no progress and no error: never loop on it
				o.errno = uint32(syscall.EIO)
				return true
			}
			o.n += int(r)
		case syscall.EINTR:
		case syscall.EAGAIN:
			if o.try {
				o.blocked = true
				return true
			}
			return false
		default:
			o.errno = uint32(e)
			return true
		}
	}
	return true
}
