//go:build !linux

package netpoll

import "net"

// Poller is unavailable on this system.
type Poller struct{}

// Handle is unavailable on this system.
type Handle struct{}

// Default reports ErrUnsupported: connections keep a reading goroutine.
func Default() (*Poller, error) { return nil, ErrUnsupported }

// Register reports ErrUnsupported.
func (p *Poller) Register(net.Conn, func()) (*Handle, error) { return nil, ErrUnsupported }

// Arm reports ErrUnsupported.
func (h *Handle) Arm() error { return ErrUnsupported }

// Close does nothing.
func (h *Handle) Close() {}
