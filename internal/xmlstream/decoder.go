package xmlstream

import (
	"errors"
	"io"
	"strings"
	"sync"
	"unsafe"

	"github.com/parleyim/parley/internal/stanza"
)

// Limits bound what one stream may cost. Zero means "use the default".
type Limits struct {
	MaxElementBytes int // bytes of one top-level element (stanza) including its children; default 256 KiB
	MaxDepth        int // element nesting depth inside a stanza; default 64
	MaxAttrs        int // attributes (incl. xmlns declarations) per element; default 64
	// MaxMemory bounds the memory one stanza's tree takes, as estimated by
	// StanzaMemory; default 2 MiB. Elements cost far more than their bytes
	// (an empty one, "<a/>", is 4 bytes of input and about 100 of tree), so
	// MaxElementBytes alone does not bound it.
	MaxMemory int
}

// Defaults for zero Limits fields.
const (
	DefaultMaxElementBytes = 256 << 10
	DefaultMaxDepth        = 64
	DefaultMaxAttrs        = 64
	DefaultMaxMemory       = 2 << 20
)

// Memory a stanza's tree takes besides its text, per element (the element
// and its place among its parent's children), attribute and text node.
const (
	elemCost = int(unsafe.Sizeof(stanza.Element{}) + unsafe.Sizeof(stanza.Node{}))
	attrCost = int(unsafe.Sizeof(stanza.Attr{}))
	textCost = int(unsafe.Sizeof(stanza.Node{}))
)

// StanzaMemory estimates the memory the tree of a stanza takes: its bytes
// (the decoder copies them into one string that the tree's names and text
// share) and the elements, attributes and text nodes built from them.
func StanzaMemory(bytes, elements, attrs, texts int) int {
	return bytes + elements*elemCost + attrs*attrCost + texts*textCost
}

func (l Limits) withDefaults() Limits {
	if l.MaxElementBytes <= 0 {
		l.MaxElementBytes = DefaultMaxElementBytes
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	if l.MaxAttrs <= 0 {
		l.MaxAttrs = DefaultMaxAttrs
	}
	if l.MaxMemory <= 0 {
		l.MaxMemory = DefaultMaxMemory
	}
	return l
}

const (
	smallBuf = 2 << 10 // read buffer of an idle stream
	bigBuf   = 8 << 10 // first size the buffer grows to for a big stanza
	minRead  = 512     // compact the buffer when less room is left

	// maxHeaderBytes bounds the stream header and the XML declaration,
	// whatever the element limit.
	maxHeaderBytes = 4 << 10
)

// Decoder states.
const (
	wantHeader = iota // next call is ReadHeader
	inStream          // next call is Next
)

var errState = errors.New("xmlstream: ReadHeader and Next called out of order")

// Decoder reads an XMPP stream: ReadHeader once per stream, then Next for
// each top-level element. It is not safe for concurrent use.
//
// Protocol errors (*Error) and ErrStreamClosed are sticky: every later
// call returns them until Restart or Reset. Reader errors are returned as
// they are and are not sticky, so a read deadline can be used for
// keepalives: after a timeout, calling Next again resumes where it was.
type Decoder struct {
	rd   io.Reader
	rerr error // reader error held back until the bytes read with it are used

	buf      []byte  // read buffer: buf[r:w] is read but not consumed; nil until the first read and after Release
	small    []byte  // the idle-size buffer, reused after a big stanza
	smallp   *[]byte // small's pool handle
	r, w     int
	consumed int64 // bytes consumed since NewDecoder

	lim      Limits
	state    int32
	preamble int32 // constructs read before the header (the XML declaration)
	err      error // sticky protocol error or ErrStreamClosed
	fr       framer

	// Stream-level namespace context, from the header.
	streamName string    // qualified name, which </stream:stream> repeats
	streamDef  string    // default namespace
	streamNS   []binding // prefixed declarations
}

// NewDecoder returns a decoder reading from r with the given limits.
func NewDecoder(r io.Reader, lim Limits) *Decoder {
	return &Decoder{rd: r, lim: lim.withDefaults()}
}

// smallPool holds idle-size read buffers: a decoder takes one for its first
// read and gives it back on Release, so a stream with nothing buffered holds
// no buffer.
var smallPool = sync.Pool{New: func() any { b := make([]byte, smallBuf); return &b }}

// Release gives the read buffer back when no byte is buffered and reports
// whether it did; the next read takes a buffer again. Call it before a
// stream goes idle (a parked connection), never concurrently with Next.
func (d *Decoder) Release() bool {
	if d.r != d.w {
		return false
	}
	if d.smallp != nil {
		smallPool.Put(d.smallp)
	}
	d.buf, d.small, d.smallp, d.r, d.w = nil, nil, nil, 0, 0
	d.fr.open = nil // nor the name stack: an idle stream keeps no array (made again by its next stanza)
	return true
}

// acquire takes an idle-size buffer from the pool if the decoder has none.
func (d *Decoder) acquire() {
	if d.small == nil {
		d.smallp = smallPool.Get().(*[]byte)
		d.small = *d.smallp
	}
	if d.buf == nil {
		d.buf = d.small
	}
}

// WantHeader reports whether the next call must be ReadHeader (a new
// stream, after NewDecoder, Restart or Reset).
func (d *Decoder) WantHeader() bool { return d.state == wantHeader }

// SetLimits changes the limits; call it between elements (for example
// after authentication).
func (d *Decoder) SetLimits(lim Limits) { d.lim = lim.withDefaults() }

// Buffered returns the number of bytes read from the reader but not yet
// consumed.
func (d *Decoder) Buffered() int { return d.w - d.r }

// BufferedSpace reports whether the bytes read from the reader but not yet
// consumed are all XML white space (or there are none). STARTTLS uses it:
// white space after <starttls/> is harmless, anything else would be
// plaintext injected ahead of the TLS handshake.
func (d *Decoder) BufferedSpace() bool {
	for _, c := range d.buf[d.r:d.w] {
		if !isSpace(c) {
			return false
		}
	}
	return true
}

// InputOffset returns the number of bytes consumed so far, over all
// streams (Restart and Reset do not reset it).
func (d *Decoder) InputOffset() int64 { return d.consumed }

// Restart prepares for a new stream header on the same connection (after
// SASL success, RFC 6120 §6.4.6): already buffered bytes are kept, the
// stream state is discarded. The next call must be ReadHeader.
func (d *Decoder) Restart() {
	d.state, d.err, d.preamble = wantHeader, nil, 0
	d.fr.reset()
	d.streamName, d.streamDef, d.streamNS = "", "", nil
}

// Reset switches to a new reader (after STARTTLS, RFC 6120 §5.4.3.3) and
// discards all state and buffered bytes. The next call must be ReadHeader.
func (d *Decoder) Reset(r io.Reader) {
	d.Restart()
	d.rd, d.rerr = r, nil
	d.buf, d.r, d.w = d.small, 0, 0
}

// ReadHeader reads the stream header: an optional XML declaration (only
// UTF-8 is accepted) and the <stream:stream> start tag, which must be the
// stream element in the NSStream namespace. White space before them is
// skipped. It does not check version or addresses. The header has fixed
// limits (4 KiB, 64 attributes), whatever the decoder's Limits.
func (d *Decoder) ReadHeader() (Header, error) {
	if d.err != nil {
		return Header{}, d.err
	}
	if d.state != wantHeader {
		return Header{}, errState
	}
	for {
		s, base, _, err := d.nextConstruct(true)
		if err != nil {
			return Header{}, err
		}
		if s[1] == '/' {
			return Header{}, d.fail(errAt(condNotWellFormed, "end tag before the stream header", base))
		}
		p := getParser(s, base, Limits{}.withDefaults(), "", nil)
		if s[1] == '?' {
			err = p.xmlDecl(d.preamble == 0)
			d.preamble++
			p.put()
			if err != nil {
				return Header{}, d.fail(err)
			}
			continue
		}
		h, err := d.setHeader(p)
		p.put()
		return h, d.fail(err)
	}
}

// setHeader parses the header and keeps its namespace context.
func (d *Decoder) setHeader(p *parser) (Header, error) {
	h, t, err := p.header()
	if err != nil {
		return Header{}, err
	}
	d.state = inStream
	d.streamDef = detachNS(p.def)
	if t.name == "stream:stream" && len(p.ns) == 1 && p.ns[0] == usualStreamNS[0] {
		// The header nearly every client sends: nothing of its own to keep.
		d.streamName, d.streamNS = "stream:stream", usualStreamNS
	} else {
		d.streamName = strings.Clone(t.name)
		d.streamNS = make([]binding, len(p.ns))
		for i, b := range p.ns {
			d.streamNS[i] = binding{prefix: strings.Clone(b.prefix), uri: detachNS(b.uri)}
		}
	}
	h.Space = detachNS(h.Space)
	// The attributes are substrings of the header's text; a session keeps
	// some of them (its domain) as long as it lives, which must not keep
	// the whole header alive (idle memory, docs/benchmarks.md).
	for _, a := range []*string{&h.StreamPrefix, &h.To, &h.From, &h.ID, &h.Version, &h.Lang} {
		*a = detachAttr(*a)
	}
	return h, nil
}

// usualStreamNS is the stream-level declarations of the usual header,
// shared by every decoder that reads one (getParser copies them).
var usualStreamNS = []binding{{prefix: "stream", uri: NSStream}}

// detachAttr returns a header attribute in memory of its own, the usual
// values without allocating.
func detachAttr(s string) string {
	switch s {
	case "":
		return ""
	case "stream":
		return "stream"
	case "1.0":
		return "1.0"
	case "en":
		return "en"
	}
	return strings.Clone(s)
}

// Next returns the next complete top-level element of the stream. White
// space between elements is skipped. It returns ErrStreamClosed when the
// peer closes the stream, io.EOF if the connection ends between elements
// and io.ErrUnexpectedEOF if it ends inside one.
//
// The element's strings share memory with each other (one allocation per
// stanza); keeping any of them keeps the whole stanza's text alive.
func (d *Decoder) Next() (*stanza.Element, error) {
	if d.err != nil {
		return nil, d.err
	}
	if d.state != inStream {
		return nil, errState
	}
	s, base, n, err := d.nextConstruct(false)
	if err != nil {
		return nil, err
	}
	p := getParser(s, base, d.lim, d.streamDef, d.streamNS)
	defer p.put()
	if s[1] == '/' {
		if err := p.streamEnd(d.streamName); err != nil {
			return nil, d.fail(err)
		}
		return nil, d.fail(ErrStreamClosed)
	}
	el, err := p.element(n)
	if err != nil {
		return nil, d.fail(err)
	}
	return el, nil
}

// nextConstruct frames the next construct, copies it into a string and
// consumes it. It also returns the construct's stream offset and what the
// framer counted in it.
func (d *Decoder) nextConstruct(header bool) (s string, base int64, c counts, err error) {
	n, err := d.frame(header)
	if err != nil {
		return "", 0, c, d.fail(err)
	}
	s, base, c = string(d.buf[d.r:d.r+n]), d.consumed, d.fr.counts
	d.fr.reset()
	d.consume(n)
	return s, base, c, nil
}

// fail makes protocol errors sticky.
func (d *Decoder) fail(err error) error {
	var pe *Error
	if errors.As(err, &pe) || err == ErrStreamClosed {
		d.err = err
	}
	return err
}

// frame reads until the buffer holds a complete construct and returns its
// length.
func (d *Decoder) frame(header bool) (int, error) {
	for {
		if d.fr.state == fsIdle {
			if err := d.skipSpace(header); err != nil {
				return 0, err
			}
		}
		limit := d.limit(header)
		if d.fr.state != fsIdle {
			n, err := d.scan(header, limit)
			switch {
			case err != nil && header:
				return 0, err
			case err != nil:
				return 0, d.firstError(err)
			case n > 0:
				return n, nil
			case d.w-d.r >= limit && header: // limit bytes scanned, and no end
				return 0, errAt(condPolicy, "element too big", d.consumed)
			case d.w-d.r >= limit:
				return 0, d.firstError(errAt(condPolicy, "element too big", d.consumed))
			}
		}
		if err := d.fill(limit); err != nil {
			return 0, d.eof(err, header)
		}
	}
}

// limit is the size limit of the construct being read.
func (d *Decoder) limit(header bool) int {
	if header {
		return maxHeaderBytes
	}
	return d.lim.MaxElementBytes
}

// eof turns io.EOF inside a construct into io.ErrUnexpectedEOF, or into
// the error the bytes read so far already hold.
func (d *Decoder) eof(err error, header bool) error {
	switch {
	case err != io.EOF:
		return err
	case !header && d.fr.state != fsIdle:
		return d.firstError(io.ErrUnexpectedEOF)
	case d.fr.state != fsIdle || header && d.preamble > 0:
		return io.ErrUnexpectedEOF
	}
	return err
}

// firstError parses what the framer has scanned of the current stanza,
// which may be only its beginning, and returns the first error the parser
// finds in it; if there is none, it returns err, what the framer found.
// So the error reported for a stanza is always its first one in stream
// order (what a parser reading the stream as a whole would report),
// whether the framer, the size limit, the end of the input or the parser
// came upon a problem first.
func (d *Decoder) firstError(err error) error {
	if m, ok := err.(errMemory); ok {
		return m.e // parsing it is what must not happen
	}
	f := &d.fr
	p := getParser(string(d.buf[d.r:d.r+f.off]), d.consumed, d.lim, d.streamDef, d.streamNS)
	p.partial = true
	_, perr := p.element(f.counts)
	p.put()
	var pe *Error
	if errors.As(perr, &pe) {
		return pe
	}
	return err
}

// skipSpace consumes white space between constructs and starts the next
// construct at a '<'.
func (d *Decoder) skipSpace(header bool) error {
	for d.r < d.w {
		c := d.buf[d.r]
		switch {
		case isSpace(c):
			d.r++
			d.consumed++
		case c == '<':
			d.fr.reset()
			d.fr.state, d.fr.off = fsLT, 1
			return nil
		case header && (c == 0 || c == 0xFE || c == 0xFF):
			return errAt(condEncoding, "the stream is not UTF-8", d.consumed)
		case header:
			return errAt(condNotWellFormed, "garbage before the stream header", d.consumed)
		default:
			return errAt(condNotWellFormed, "character data outside of stanzas", d.consumed)
		}
	}
	return nil
}

// consume marks n bytes as used and gives back a grown buffer once its
// extra room is not needed.
func (d *Decoder) consume(n int) {
	d.r += n
	d.consumed += int64(n)
	if d.r == d.w {
		d.r, d.w = 0, 0
	}
	if len(d.buf) > smallBuf && d.small != nil && d.w-d.r <= smallBuf/2 {
		d.w = copy(d.small, d.buf[d.r:d.w])
		d.buf, d.r = d.small, 0
	}
}

// fill reads more bytes into the buffer; limit is the size limit of the
// construct being read.
func (d *Decoder) fill(limit int) error {
	if err := d.rerr; err != nil {
		d.rerr = nil
		return err
	}
	d.acquire()
	d.makeRoom(limit)
	for range 100 {
		n, err := d.rd.Read(d.buf[d.w:])
		if n < 0 || n > len(d.buf)-d.w {
			return errors.New("xmlstream: reader returned an invalid count")
		}
		d.w += n
		switch {
		case err != nil && n > 0:
			d.rerr = err
			return nil
		case err != nil:
			return err
		case n > 0:
			return nil
		}
	}
	return io.ErrNoProgress
}

// makeRoom makes space at the end of the buffer: it moves the unconsumed
// bytes to the front, or grows the buffer (up to the size limit) when they
// fill it.
func (d *Decoder) makeRoom(limit int) {
	if d.r > 0 && len(d.buf)-d.w < minRead {
		d.w = copy(d.buf, d.buf[d.r:d.w])
		d.r = 0
	}
	if d.w < len(d.buf) {
		return
	}
	size := min(max(2*len(d.buf), bigBuf), limit+minRead)
	if size <= len(d.buf) {
		size = 2 * len(d.buf)
	}
	nb := make([]byte, size)
	d.w = copy(nb, d.buf[d.r:d.w])
	d.buf, d.r = nb, 0
}
