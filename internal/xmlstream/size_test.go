package xmlstream

import (
	"testing"
	"unsafe"
)

// TestDecoderSize guards idle memory (docs/benchmarks.md): every idle
// connection keeps its decoder, which must stay in the 320-byte size
// class; a field that pushes it over costs 32 bytes per connection.
func TestDecoderSize(t *testing.T) {
	if got := unsafe.Sizeof(Decoder{}); got > 320 {
		t.Fatalf("Decoder is %d bytes: over the 320-byte size class", got)
	}
}
