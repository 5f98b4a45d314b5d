package c2s

import (
	"testing"
	"unsafe"
)

// TestIdleConnectionSize guards idle memory (docs/benchmarks.md): a
// connection's session and TCP transport are one allocation, which with
// the 8-byte type header Go puts on objects over 512 bytes must stay in
// the 576-byte size class. A field that pushes it over costs 64 bytes per
// connection: take another out (or reorder to remove padding), or measure
// with `parley bench idle` and update this bound and the benchmarks.
func TestIdleConnectionSize(t *testing.T) {
	if got := unsafe.Sizeof(tcpSession{}); got+8 > 576 {
		t.Fatalf("tcpSession is %d bytes (+8 header > 576): the next size class is 640", got)
	}
}
