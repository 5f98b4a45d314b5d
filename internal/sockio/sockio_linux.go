package sockio

import (
	"io"
	"net"
	"os"
	"sync"
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
	*o = op{p: p}
	var err error
	if o == &c.rd {
		err = c.rc.Read(c.readFn)
	} else {
		err = c.rc.Write(c.writeFn)
	}
	n, errno := o.n, o.errno
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
			o.errno = e // r is -1: nothing was read
			return true
		}
		o.n = int(r)
		return true
	}
}

// Write writes all of p, waiting for room in the socket buffer as needed.
func (c *Conn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.do("write", &c.wr, p)
}

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
