//go:build linux

package netpoll

import (
	"fmt"
	"log/slog"
	"net"
	"sync"
	"syscall"
	"time"
)

// Poller is an epoll instance and the goroutine waiting on it.
type Poller struct {
	epfd int
	// mu guards handles and next.
	mu      sync.Mutex
	handles map[uint64]*Handle
	next    uint64
}

// Handle is one connection's registration. Arm and Close must not be called
// concurrently with each other (the connection's owner calls them in turn).
type Handle struct {
	p     *Poller
	id    uint64
	rc    syscall.RawConn
	fn    func()
	added bool // in the epoll set (armed at least once)
}

var defaultPoller = sync.OnceValues(newPoller)

// Default returns the process's poller, starting it on first use.
func Default() (*Poller, error) { return defaultPoller() }

func newPoller() (*Poller, error) {
	fd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("netpoll: epoll_create1: %w", err)
	}
	p := &Poller{epfd: fd, handles: map[uint64]*Handle{}}
	go p.wait()
	return p, nil
}

// Register prepares c (a TCP or Unix connection, not a TLS wrapper: pass
// the connection underneath) for polling; fn runs on its own goroutine each
// time an armed handle fires. Nothing is watched until Arm.
func (p *Poller) Register(c net.Conn, fn func()) (*Handle, error) {
	rc, err := rawConn(c)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	p.next++
	h := &Handle{p: p, id: p.next, rc: rc, fn: fn}
	p.handles[h.id] = h
	p.mu.Unlock()
	return h, nil
}

// Arm watches the connection until it is readable (bytes waiting, end of
// stream, hang-up or error), then calls fn once. It fails when the
// connection is closed.
func (h *Handle) Arm() error {
	ev := syscall.EpollEvent{
		Events: syscall.EPOLLIN | syscall.EPOLLRDHUP | syscall.EPOLLONESHOT,
		Fd:     int32(uint32(h.id)),
		Pad:    int32(uint32(h.id >> 32)),
	}
	op := syscall.EPOLL_CTL_MOD
	if !h.added {
		op = syscall.EPOLL_CTL_ADD
	}
	var cerr error
	err := h.rc.Control(func(fd uintptr) { cerr = syscall.EpollCtl(h.p.epfd, op, int(fd), &ev) })
	if err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("netpoll: arm: %w", err)
	}
	h.added = true
	return nil
}

// Close forgets the handle: fn is not called any more. Call it before
// closing the connection when possible (a closed connection leaves the epoll
// set by itself).
func (h *Handle) Close() {
	h.p.mu.Lock()
	delete(h.p.handles, h.id)
	h.p.mu.Unlock()
	if h.added {
		h.rc.Control(func(fd uintptr) { syscall.EpollCtl(h.p.epfd, syscall.EPOLL_CTL_DEL, int(fd), nil) })
		h.added = false
	}
}

// wait dispatches readiness events forever (the poller lives as long as
// the process).
func (p *Poller) wait() {
	events := make([]syscall.EpollEvent, 256)
	for {
		n, err := syscall.EpollWait(p.epfd, events, -1)
		if err != nil {
			if err != syscall.EINTR {
				slog.Error("netpoll: epoll_wait failed", "err", err)
				time.Sleep(10 * time.Millisecond)
			}
			continue
		}
		for _, ev := range events[:n] {
			p.fire(uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32)
		}
	}
}

func (p *Poller) fire(id uint64) {
	p.mu.Lock()
	h := p.handles[id]
	p.mu.Unlock()
	if h != nil {
		go h.fn()
	}
}
