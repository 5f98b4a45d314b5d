package netpoll

import (
	"errors"
	"net"
	"syscall"
)

// ErrUnsupported is returned by Register for connections that have no file
// descriptor (pipes, test doubles) and on systems without epoll.
var ErrUnsupported = errors.New("netpoll: connection cannot be polled")

// rawConn returns the connection's file descriptor access.
func rawConn(c net.Conn) (syscall.RawConn, error) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return nil, ErrUnsupported
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil, ErrUnsupported
	}
	return rc, nil
}
