// Package sockio gives a TCP connection reads and writes that cost one
// system call each and nothing more, for the many short reads and writes
// of a chat server.
//
// Go's net.Conn enters every read and write through the runtime's
// blocking-syscall path (entersyscall/exitsyscall). When the process was
// idle, that path wakes the runtime's monitor thread (sysmon), which then
// spins through a few timed sleeps before it finds the process idle again
// and goes back to sleep: at a few thousand messages a second, each
// message costs a futex wake, several nanosleeps and as many context
// switches on top of its read and write. Sockets are non-blocking (the
// runtime poller waits for readiness), so a read or write never blocks and
// can be issued as a raw system call, which skips that path; waiting for
// readiness, deadlines and closing stay with the runtime poller
// (syscall.RawConn).
//
// It does not change what is read or written, the deadlines, or the
// errors a caller sees (io.EOF at the end, os.ErrDeadlineExceeded on a
// deadline, net.ErrClosed after Close).
package sockio

import (
	"io"
	"net"
	"os"
	"syscall"
	"unsafe"
)

// Conn is a *net.TCPConn whose Read and Write are raw non-blocking system
// calls waited for by the runtime poller.
type Conn struct {
	*net.TCPConn
	rc syscall.RawConn
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
	return &Conn{TCPConn: tc, rc: rc}
}

// Read reads up to len(p) bytes once data is available.
func (c *Conn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	var n int
	var errno syscall.Errno
	err := c.rc.Read(func(fd uintptr) bool {
		for {
			r, _, e := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
			switch e {
			case syscall.EINTR:
				continue
			case syscall.EAGAIN:
				return false // wait for readiness
			}
			n, errno = int(r), e
			return true
		}
	})
	switch {
	case err != nil:
		return 0, err // the poller's, already a *net.OpError
	case errno != 0:
		return 0, c.opError("read", errno)
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}

// Write writes all of p, waiting for room in the socket buffer as needed.
func (c *Conn) Write(p []byte) (int, error) {
	written := 0
	var errno syscall.Errno
	err := c.rc.Write(func(fd uintptr) bool {
		for written < len(p) {
			r, _, e := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&p[written])), uintptr(len(p)-written))
			switch e {
			case 0:
				written += int(r)
			case syscall.EINTR:
			case syscall.EAGAIN:
				return false // wait for room
			default:
				errno = e
				return true
			}
		}
		return true
	})
	switch {
	case err != nil:
		return written, err
	case errno != 0:
		return written, c.opError("write", errno)
	}
	return written, nil
}

// opError wraps a failed system call the way net.Conn does.
func (c *Conn) opError(op string, errno syscall.Errno) error {
	return &net.OpError{Op: op, Net: "tcp", Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: os.NewSyscallError(op, errno)}
}
