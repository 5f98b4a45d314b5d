// Package netpoll watches idle connections for readability with one
// goroutine for all of them, so a connection that has nothing to say holds
// no goroutine (and no goroutine stack) while it waits.
//
// It owns one epoll instance per process (Linux; elsewhere Register reports
// ErrUnsupported and callers keep a reading goroutine per connection). A
// Handle is armed once per idle period (EPOLLONESHOT, level-triggered: bytes
// already waiting in the socket count), and its callback runs on a new
// goroutine when the connection becomes readable, is hung up or fails.
//
// It does not read, write or close connections: the Go runtime's own poller
// keeps doing that. It knows nothing about XMPP.
package netpoll
