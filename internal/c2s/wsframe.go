package c2s

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/parleyim/parley/internal/stream"
)

// This file is the server side of the WebSocket protocol (RFC 6455) that
// XMPP over WebSocket needs: the opening handshake, and frames read and
// written on the hijacked connection. Keeping it this small lets a
// WebSocket session run on the TCP transport's machinery (a silent one
// parks in netpoll and holds no goroutine or buffer), which a general
// WebSocket library, with a reading goroutine and buffers per connection,
// does not allow (docs/benchmarks.md has the figures). Extensions
// (compression) are not negotiated.

// wsGUID is the handshake's fixed key suffix (RFC 6455 §1.3).
const wsGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// WebSocket opcodes (RFC 6455 §5.2).
const (
	wsContinuation = 0x0
	wsText         = 0x1
	wsBinary       = 0x2
	wsClose        = 0x8
	wsPing         = 0x9
	wsPong         = 0xA
)

// wsHandshake checks a client's opening handshake (RFC 6455 §4.2.1) and
// returns the Sec-WebSocket-Accept value, or the reason to refuse.
func wsHandshake(r *http.Request) (accept string, refuse string) {
	switch {
	case r.Method != http.MethodGet:
		return "", "a WebSocket is opened with GET"
	case !headerHasToken(r.Header, "Connection", "upgrade") || !headerHasToken(r.Header, "Upgrade", "websocket"):
		return "", "not a WebSocket handshake (Upgrade: websocket)"
	case r.Header.Get("Sec-WebSocket-Version") != "13":
		return "", "WebSocket version 13 is required"
	}
	key := r.Header.Get("Sec-WebSocket-Key")
	if b, err := base64.StdEncoding.DecodeString(key); err != nil || len(b) != 16 {
		return "", "bad Sec-WebSocket-Key"
	}
	sum := sha1.Sum([]byte(key + wsGUID))
	return base64.StdEncoding.EncodeToString(sum[:]), ""
}

func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// offersProtocol reports whether the client's handshake lists proto in
// Sec-WebSocket-Protocol.
func offersProtocol(r *http.Request, proto string) bool {
	return headerHasToken(r.Header, "Sec-WebSocket-Protocol", proto)
}

// appendFrame appends an unmasked server frame (RFC 6455 §5.2).
func appendFrame(b []byte, opcode byte, payload []byte) []byte {
	b = append(b, 0x80|opcode)
	switch n := len(payload); {
	case n < 126:
		b = append(b, byte(n))
	case n < 1<<16:
		b = append(b, 126, byte(n>>8), byte(n))
	default:
		b = append(b, 127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	return append(b, payload...)
}

// wsReader turns the client's frames into the bytes of its text messages,
// for the decoder. Its state survives the reader returning errPark (the
// session parks mid-frame and resumes where it was). Control frames are
// handled here: a ping is answered, a close ends the stream.
type wsReader struct {
	t   *wsTransport
	src io.Reader // the connection through deadlines and the byte rate

	pre []byte // the synthetic stream header, read first

	// buf holds what was read and not parsed yet: taken from wsBufs for a
	// read, given back once empty (a silent session holds none).
	buf    *[]byte
	br, bw int

	hdr     [14]byte
	hn      int   // header bytes read
	left    int64 // payload bytes of the current frame still to read
	mask    [4]byte
	pos     int64 // payload bytes of the current frame read (for the mask)
	opcode  byte
	inMsg   bool   // a fragmented text message is in progress
	ctrl    []byte // a control frame's payload being read
	closing bool   // the client's close frame arrived
}

var (
	errWSUnmasked = stream.New(stream.BadFormat, "WebSocket frames from a client must be masked (RFC 6455 §5.1)")
	errWSBinary   = stream.New(stream.BadFormat, "XMPP over WebSocket uses text messages (RFC 7395 §3.2)")
	errWSFrame    = stream.New(stream.BadFormat, "malformed WebSocket frame (RFC 6455 §5.2)")
)

var wsBufs = sync.Pool{New: func() any { b := make([]byte, 4096); return &b }}

// fill reads from the connection into an empty buffer.
func (r *wsReader) fill() error {
	if r.buf == nil {
		r.buf = wsBufs.Get().(*[]byte)
	}
	n, err := r.src.Read(*r.buf)
	r.br, r.bw = 0, n
	if n == 0 {
		r.release()
		if err == nil {
			err = io.ErrNoProgress
		}
		return err
	}
	return nil
}

// take copies buffered bytes into p, filling the buffer when it is empty.
func (r *wsReader) take(p []byte) (int, error) {
	if r.br == r.bw {
		if err := r.fill(); err != nil {
			return 0, err
		}
	}
	n := copy(p, (*r.buf)[r.br:r.bw])
	r.br += n
	if r.br == r.bw {
		r.release()
	}
	return n, nil
}

func (r *wsReader) release() {
	if r.buf != nil {
		wsBufs.Put(r.buf)
		r.buf, r.br, r.bw = nil, 0, 0
	}
}

func (r *wsReader) Read(p []byte) (int, error) {
	if len(r.pre) > 0 {
		n := copy(p, r.pre)
		r.pre = r.pre[n:]
		return n, nil
	}
	for {
		if r.closing {
			return 0, io.EOF
		}
		if r.left == 0 && r.ctrl == nil {
			if err := r.header(); err != nil {
				return 0, err
			}
			if r.left == 0 && r.ctrl == nil {
				continue // an empty data frame
			}
		}
		if r.ctrl != nil {
			if err := r.control(); err != nil {
				return 0, err
			}
			continue
		}
		if int64(len(p)) > r.left {
			p = p[:r.left]
		}
		n, err := r.take(p)
		r.unmask(p[:n])
		r.left -= int64(n)
		return n, err
	}
}

// unmask applies the frame's mask to b, the payload from r.pos on, eight
// bytes at a time.
func (r *wsReader) unmask(b []byte) {
	var key [8]byte
	for i := range key {
		key[i] = r.mask[(r.pos+int64(i))&3]
	}
	k := binary.LittleEndian.Uint64(key[:])
	i := 0
	for ; i+8 <= len(b); i += 8 {
		binary.LittleEndian.PutUint64(b[i:], binary.LittleEndian.Uint64(b[i:])^k)
	}
	for ; i < len(b); i++ {
		b[i] ^= key[i&7]
	}
	r.pos += int64(len(b))
}

// header reads the next frame header, in as many reads as it takes.
func (r *wsReader) header() error {
	for {
		need := 2
		if r.hn >= 2 {
			switch r.hdr[1] & 0x7f {
			case 126:
				need += 2
			case 127:
				need += 8
			}
			need += 4 // the mask key
		}
		if r.hn >= need {
			return r.parse(need)
		}
		n, err := r.take(r.hdr[r.hn:need])
		r.hn += n
		if err != nil {
			return err
		}
	}
}

// parse takes a whole header of n bytes.
func (r *wsReader) parse(n int) error {
	b0, b1 := r.hdr[0], r.hdr[1]
	r.hn = 0
	if b0&0x70 != 0 {
		return errWSFrame // reserved bits: no extension was negotiated
	}
	if b1&0x80 == 0 {
		return errWSUnmasked
	}
	length := int64(b1 & 0x7f)
	switch length {
	case 126:
		length = int64(binary.BigEndian.Uint16(r.hdr[2:4]))
	case 127:
		length = int64(binary.BigEndian.Uint64(r.hdr[2:10]))
		if length < 0 {
			return errWSFrame
		}
	}
	copy(r.mask[:], r.hdr[n-4:n])
	r.pos = 0
	fin, op := b0&0x80 != 0, b0&0x0f
	if op >= wsClose {
		if !fin || length > 125 {
			return errWSFrame // control frames are short and whole (§5.5)
		}
		r.opcode, r.ctrl = op, make([]byte, 0, length)
		r.left = length
		return nil
	}
	switch {
	case op == wsBinary:
		return errWSBinary
	case op == wsText && r.inMsg, op == wsContinuation && !r.inMsg, op != wsText && op != wsContinuation:
		return errWSFrame
	}
	r.inMsg = !fin
	r.left = length
	return nil
}

// control reads a control frame's payload and acts on it.
func (r *wsReader) control() error {
	for r.left > 0 {
		buf := r.ctrl[len(r.ctrl):cap(r.ctrl)]
		n, err := r.take(buf)
		r.unmask(buf[:n])
		r.ctrl = r.ctrl[:len(r.ctrl)+n]
		r.left -= int64(n)
		if err != nil {
			return err
		}
	}
	payload := r.ctrl
	r.ctrl = nil
	switch r.opcode {
	case wsPing:
		return r.t.writeFrame(wsPong, payload)
	case wsClose:
		// The client ends the WebSocket: echo its close (§5.5.1); the
		// stream ends without a stream error.
		r.closing = true
		r.t.closeFrame(payload)
		return io.EOF
	}
	return nil // an unsolicited pong
}
