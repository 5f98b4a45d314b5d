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
//
// The raw path is built for Linux, where it was measured; elsewhere Wrap
// returns the connection unchanged (sockio_other.go).
package sockio
