package c2s

import (
	"errors"
	"sync"
	"sync/atomic"

	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/stream"
)

// errClosed is returned when writing to a session that is closing.
var errClosed = errors.New("c2s: session closed")

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

// output is the session's outbound queue. Writers append serialised bytes
// under mu; a flusher goroutine, started on demand and exiting when the
// queue is empty, writes them to the connection. Several stanzas queued
// while a write is in progress go out in one write (coalescing).
//
// A queue past limits.max_outbound_bytes belongs to a slow consumer: what
// is not yet written is dropped and the session is asked to close with
// policy-violation, which the owner then writes after the write in
// progress (close.go), so the client does receive it.
type output struct {
	s *Session
	// mu guards the fields below.
	mu       sync.Mutex
	pending  *[]byte
	flushing bool
	stopped  bool          // no more stanzas: the session is closing
	closed   bool          // nothing more at all: the final bytes are queued, or a write failed
	gen      uint32        // flusher generation: a resumption or hibernation retires the running flusher
	done     chan struct{} // closed when the final flush after close ends
	// wmu serialises writes to the connection.
	wmu sync.Mutex
	// trGen counts the session's transport swaps (setTransport, under
	// wmu): a batch taken for one transport is never written to the next.
	trGen atomic.Uint32
}

// setTransport swaps the session's transport (hibernation, resumption).
// A flusher that took its batch before the swap, and writes only after
// it, drops the batch instead of writing it to the new transport ahead of
// the resumption's answer (what it held of stanzas is still in the
// stream-management queue and is replayed in order).
func (s *Session) setTransport(tr transport) {
	s.out.wmu.Lock()
	s.tr = tr
	s.out.trGen.Add(1)
	s.out.wmu.Unlock()
}

// deliver serialises el into the queue. With stream management the
// stanza is also kept until the client acknowledges it (deliverSM).
func (o *output) deliver(el *stanza.Element) error {
	o.mu.Lock()
	if o.stopped || o.closed {
		o.mu.Unlock()
		return errClosed
	}
	if o.s.sm != nil {
		return o.deliverSM(el) // unlocks
	}
	p := o.pendingLocked()
	*p = el.AppendXML(*p, stanza.NSClient)
	if max := o.s.srv.cfg.Limits.MaxOutboundBytes; max > 0 && len(*p) > max {
		o.slowLocked() // unlocks
		return errClosed
	}
	o.kickLocked()
	o.mu.Unlock()
	return nil
}

// slowLocked ends a slow consumer: nothing more is queued, what is not
// written is dropped (with stream management it is still held and routed
// again when the session ends), and the session is asked to close. It
// unlocks o.mu before the Close.
func (o *output) slowLocked() {
	o.stopped = true
	if o.pending != nil {
		putBuf(o.pending)
		o.pending = nil
	}
	o.mu.Unlock()
	o.s.Close(stream.PolicyViolation, "slow consumer: too much data queued")
}

// queueLocked appends bytes that are not a counted stanza (a nonza, an
// ack) to the queue.
func (o *output) queueLocked(b []byte) error {
	if o.closed {
		return errClosed
	}
	if o.s.sm != nil && o.s.sm.detached {
		return nil // nobody to write to; the next transport gets fresh state
	}
	p := o.pendingLocked()
	*p = append(*p, b...)
	o.kickLocked()
	return nil
}

// stop refuses stanzas from now on; what is queued still goes out.
func (o *output) stop() {
	o.mu.Lock()
	o.stopped = true
	o.mu.Unlock()
}

// final queues the session's last bytes (stream error, closing tag) and
// returns a channel closed once they are written or writing failed; nil
// when nothing can be written any more.
func (o *output) final(b []byte) <-chan struct{} {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return nil
	}
	p := o.pendingLocked()
	*p = append(*p, b...)
	o.closed = true
	o.done = make(chan struct{})
	o.kickLocked()
	return o.done
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
		go o.flush(o.gen)
	}
}

// flush writes until the queue is empty, then exits.
func (o *output) flush(gen uint32) {
	for {
		o.mu.Lock()
		if o.gen != gen {
			o.mu.Unlock()
			return // retired: the session hibernated or moved to a new transport
		}
		if o.s.sm != nil {
			o.s.sm.aQueued = false
		}
		buf := o.pending
		o.pending = nil
		trGen := o.trGen.Load()
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
		err := o.write(*buf, trGen)
		putBuf(buf)
		if err != nil {
			o.fail(gen)
			return
		}
	}
}

// write writes b within c2s.write_timeout to the transport the session
// had when b was taken from the queue (trGen); b is dropped if the
// transport has been swapped since.
func (o *output) write(b []byte, trGen uint32) error {
	o.wmu.Lock()
	defer o.wmu.Unlock()
	if o.trGen.Load() != trGen {
		return nil
	}
	return o.s.tr.Write(b, o.s.srv.cfg.C2S.WriteTimeout.D())
}

// fail marks the queue dead after a write error, unblocks waiters and
// ends the session: nothing more can reach the client.
func (o *output) fail(gen uint32) {
	o.mu.Lock()
	if o.gen != gen {
		o.mu.Unlock()
		return // a write to a transport the session no longer has
	}
	o.closed = true
	o.dropLocked()
	o.mu.Unlock()
	o.s.abort()
}

// dropLocked forgets what is queued and that a flusher runs, and releases
// whoever waits for the final flush.
func (o *output) dropLocked() {
	o.flushing = false
	if o.pending != nil {
		putBuf(o.pending)
		o.pending = nil
	}
	if o.done != nil {
		close(o.done)
		o.done = nil
	}
}

// writeNow writes b synchronously, bypassing the queue; only the owner
// uses it, before the session is bound (STARTTLS <proceed/> must be on the
// wire before the TLS handshake starts).
func (o *output) writeNow(b []byte) error {
	o.mu.Lock()
	closed, gen, trGen := o.closed, o.gen, o.trGen.Load()
	o.mu.Unlock()
	if closed {
		return errClosed
	}
	if err := o.write(b, trGen); err != nil {
		o.fail(gen)
		return err
	}
	return nil
}

func putBuf(b *[]byte) {
	if cap(*b) > 64<<10 {
		return // let big buffers go
	}
	*b = (*b)[:0]
	bufPool.Put(b)
}
