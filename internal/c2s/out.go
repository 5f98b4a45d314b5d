package c2s

import (
	"errors"
	"sync"
	"time"

	"github.com/parleyim/parley/internal/stanza"
)

// errClosed is returned when writing to a session that is closing.
var errClosed = errors.New("c2s: session closed")

// writeTimeout bounds one write to the socket; a peer that does not read
// for this long is dead or hostile.
const writeTimeout = 30 * time.Second

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

// output is the session's outbound queue. Writers append serialised bytes
// under mu; a flusher goroutine, started on demand and exiting when the
// queue is empty, writes them to the connection. Several stanzas queued
// while a write is in progress go out in one write (coalescing).
type output struct {
	s *Session
	// mu guards pending, flushing, closed and done.
	mu       sync.Mutex
	pending  *[]byte
	flushing bool
	closed   bool
	done     chan struct{} // closed when the final flush after close ends
	// wmu serialises writes to the connection.
	wmu sync.Mutex
}

// deliver serialises el into the queue.
func (o *output) deliver(el *stanza.Element) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return errClosed
	}
	p := o.pendingLocked()
	*p = el.AppendXML(*p, stanza.NSClient)
	if max := o.s.srv.cfg.Limits.MaxOutboundBytes; max > 0 && len(*o.pending) > max {
		o.closed = true
		go o.s.Close("policy-violation", "slow consumer: too much data queued")
		return errClosed
	}
	o.kickLocked()
	return nil
}

// raw queues bytes that are not an element (stream header, closing tag).
// With final set, the queue is closed after them.
func (o *output) raw(b []byte, final bool) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return errClosed
	}
	p := o.pendingLocked()
	*p = append(*p, b...)
	if final {
		o.closed = true
		o.done = make(chan struct{})
	}
	o.kickLocked()
	return nil
}

// pendingLocked returns the queue buffer, taking one from the pool when
// the queue was empty (an idle session holds no buffer).
func (o *output) pendingLocked() *[]byte {
	if o.pending == nil {
		o.pending = bufPool.Get().(*[]byte)
	}
	return o.pending
}

func (o *output) kickLocked() {
	if !o.flushing {
		o.flushing = true
		go o.flush()
	}
}

// flush writes until the queue is empty, then exits.
func (o *output) flush() {
	for {
		o.mu.Lock()
		buf := o.pending
		o.pending = nil
		if buf == nil || len(*buf) == 0 {
			o.flushing = false
			if o.closed && o.done != nil {
				close(o.done)
				o.done = nil
			}
			o.mu.Unlock()
			if buf != nil {
				putBuf(buf)
			}
			return
		}
		o.mu.Unlock()
		err := o.write(*buf)
		putBuf(buf)
		if err != nil {
			o.fail()
			return
		}
	}
}

func (o *output) write(b []byte) error {
	o.wmu.Lock()
	defer o.wmu.Unlock()
	c := o.s.conn()
	if err := c.SetWriteDeadline(time.Now().Add(writeTimeout)); err != nil {
		return err
	}
	_, err := c.Write(b)
	return err
}

// fail marks the queue dead after a write error and unblocks waiters.
func (o *output) fail() {
	o.mu.Lock()
	o.closed = true
	o.flushing = false
	if o.pending != nil {
		putBuf(o.pending)
		o.pending = nil
	}
	if o.done != nil {
		close(o.done)
		o.done = nil
	}
	o.mu.Unlock()
	o.s.closeConn()
}

// writeNow writes b synchronously, bypassing the queue; only the reading
// goroutine uses it, before the session is bound (STARTTLS <proceed/> must
// be on the wire before the TLS handshake starts).
func (o *output) writeNow(b []byte) error {
	o.mu.Lock()
	closed := o.closed
	o.mu.Unlock()
	if closed {
		return errClosed
	}
	return o.write(b)
}

func putBuf(b *[]byte) {
	if cap(*b) > 64<<10 {
		return // let big buffers go
	}
	*b = (*b)[:0]
	bufPool.Put(b)
}
