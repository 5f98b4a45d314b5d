package tlsutil

import (
	"bytes"
	"crypto/tls"
	"reflect"
	"sync"
	"unsafe"
)

// ReleaseBuffers drops the read buffers of a TLS connection that holds no
// unread bytes, and reports whether it did; the connection grows small
// ones again on its next read. It is what OpenSSL calls
// SSL_MODE_RELEASE_BUFFERS: crypto/tls keeps the buffer it grew for the
// largest record it ever read (a post-quantum ClientHello makes that about
// 3.5 KiB) for the connection's whole life, which is most of what an idle
// TLS session costs beyond its cipher state.
//
// crypto/tls has no API for this, so ReleaseBuffers finds the buffers by
// field name and type (rawInput, input, hand) once per process; if a Go
// release renames or retypes them it does nothing and returns false
// (TestReleaseBuffers fails then, so the change is noticed). Call it only
// from the goroutine that reads c, between reads, after the handshake.
func ReleaseBuffers(c *tls.Conn) bool {
	f := tlsBufferFields()
	if !f.ok || c == nil {
		return false
	}
	base := unsafe.Pointer(c)
	raw := (*bytes.Buffer)(unsafe.Add(base, f.rawInput))
	in := (*bytes.Reader)(unsafe.Add(base, f.input))
	hand := (*bytes.Buffer)(unsafe.Add(base, f.hand))
	if raw.Len() != 0 || in.Len() != 0 || hand.Len() != 0 {
		return false
	}
	*raw = bytes.Buffer{}
	in.Reset(nil) // it pointed into rawInput's array
	*hand = bytes.Buffer{}
	return true
}

// bufferFields are the offsets of crypto/tls.Conn's read buffers.
type bufferFields struct {
	rawInput, input, hand uintptr
	ok                    bool
}

var tlsBufferFields = sync.OnceValue(func() bufferFields {
	t := reflect.TypeFor[tls.Conn]()
	field := func(name string, typ reflect.Type) (uintptr, bool) {
		f, ok := t.FieldByName(name)
		return f.Offset, ok && f.Type == typ && len(f.Index) == 1
	}
	bufT, readerT := reflect.TypeFor[bytes.Buffer](), reflect.TypeFor[bytes.Reader]()
	var f bufferFields
	var ok1, ok2, ok3 bool
	f.rawInput, ok1 = field("rawInput", bufT)
	f.input, ok2 = field("input", readerT)
	f.hand, ok3 = field("hand", bufT)
	f.ok = ok1 && ok2 && ok3
	return f
})
