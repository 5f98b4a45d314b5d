// Package memtrim gives memory back to the operating system after a burst.
//
// The Go runtime keeps freed heap pages (up to about the next GC goal, which
// is twice the live heap by default) and returns the rest slowly. After a
// login storm that is most of a server's resident memory although the
// sessions left behind are idle, and so are the cached stacks of the
// goroutines that served the storm and exited. Every interval, Run looks at
// the runtime's own counters; when the process has been quiet (allocated
// little compared with its live heap) and holds a lot of reclaimable memory
// (free heap and stacks), it collects and runs debug.FreeOSMemory once. A busy server is left alone: trimming it would
// only make the heap grow back.
//
// It owns no XMPP state and knows nothing of sessions.
package memtrim
