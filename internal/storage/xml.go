package storage

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/xmlstream"
)

// Features store XML (messages, vCards, private XML) as its serialisation:
// EncodeElements writes elements with their namespaces declared, and an
// ElementDecoder reads them back with the same strict parser that reads
// client streams.

// EncodeElements serialises els one after the other, each with its
// namespace declared, so that the bytes stand on their own.
func EncodeElements(els ...*stanza.Element) []byte {
	var b []byte
	for _, el := range els {
		b = el.AppendXML(b, "")
	}
	return b
}

// storedHeader opens the stream stored XML is parsed in; its default
// namespace only matters for elements stored without one.
const storedHeader = "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>"

// ElementDecoder parses stored XML. It reuses its buffers between calls
// and is not safe for concurrent use.
type ElementDecoder struct {
	dec *xmlstream.Decoder
	buf []byte
	rd  bytes.Reader
}

// Decode parses data, as written by EncodeElements, into its top-level
// elements.
func (x *ElementDecoder) Decode(data []byte) ([]*stanza.Element, error) {
	x.buf = append(append(x.buf[:0], storedHeader...), data...)
	x.rd.Reset(x.buf)
	// Stored data passed the stream limits when it was received; the
	// limits here only have to let it through.
	lim := xmlstream.Limits{MaxElementBytes: len(data) + 1, MaxDepth: 1 << 10, MaxAttrs: 1 << 10, MaxMemory: 1 << 40}
	if x.dec == nil {
		x.dec = xmlstream.NewDecoder(&x.rd, lim)
	} else {
		x.dec.Reset(&x.rd)
		x.dec.SetLimits(lim)
	}
	if _, err := x.dec.ReadHeader(); err != nil {
		return nil, fmt.Errorf("storage: decode stored XML: %w", err)
	}
	var out []*stanza.Element
	for {
		el, err := x.dec.Next()
		switch {
		case errors.Is(err, io.EOF):
			return out, nil
		case err != nil:
			return nil, fmt.Errorf("storage: decode stored XML: %w", err)
		}
		out = append(out, el)
	}
}

// DecodeElements parses data with a fresh ElementDecoder.
func DecodeElements(data []byte) ([]*stanza.Element, error) {
	var x ElementDecoder
	return x.Decode(data)
}
