package c2s

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/parleyim/parley/internal/stream"
)

// clientFrame is a masked client frame (RFC 6455 §5.2, §5.3).
func clientFrame(fin bool, opcode byte, payload []byte, mask [4]byte) []byte {
	b0 := opcode
	if fin {
		b0 |= 0x80
	}
	b := []byte{b0}
	switch n := len(payload); {
	case n < 126:
		b = append(b, 0x80|byte(n))
	case n < 1<<16:
		b = append(b, 0x80|126, byte(n>>8), byte(n))
	default:
		b = append(b, 0x80|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	b = append(b, mask[:]...)
	for i, c := range payload {
		b = append(b, c^mask[i&3])
	}
	return b
}

// oneByte reads one byte at a time, as a slow peer would deliver them.
type oneByte struct{ r io.Reader }

func (o oneByte) Read(p []byte) (int, error) {
	if len(p) > 1 {
		p = p[:1]
	}
	return o.r.Read(p)
}

// TestWSReaderFrames: text messages, fragmented or not, of every length
// class, read one byte at a time and in one go, come out unmasked and in
// order; control frames between fragments are not data.
func TestWSReaderFrames(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	var in, want bytes.Buffer
	for _, n := range []int{0, 1, 7, 125, 126, 300, 65535, 65536, 70000} {
		msg := make([]byte, n)
		for i := range msg {
			msg[i] = 'a' + byte(rnd.IntN(26))
		}
		want.Write(msg)
		mask := [4]byte{byte(rnd.Uint32()), 0x5a, byte(n), 0xff}
		half := n / 2
		if n%2 == 1 {
			in.Write(clientFrame(false, wsText, msg[:half], mask))
			in.Write(clientFrame(true, wsPong, []byte("pong"), mask))
			in.Write(clientFrame(true, wsContinuation, msg[half:], mask))
		} else {
			in.Write(clientFrame(true, wsText, msg, mask))
		}
	}
	for name, src := range map[string]io.Reader{
		"whole":    bytes.NewReader(in.Bytes()),
		"one byte": oneByte{bytes.NewReader(in.Bytes())},
	} {
		r := &wsReader{src: src}
		got, err := io.ReadAll(r)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("%s: read %d bytes, want %d (first difference at %d)", name, len(got), want.Len(), firstDiff(got, want.Bytes()))
		}
		if r.buf != nil {
			t.Errorf("%s: the reader holds a buffer with nothing in it", name)
		}
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestWSReaderRefuses: what RFC 6455 and RFC 7395 forbid is a stream error.
func TestWSReaderRefuses(t *testing.T) {
	mask := [4]byte{1, 2, 3, 4}
	unmasked := clientFrame(true, wsText, []byte("<a/>"), mask)
	unmasked[1] &^= 0x80
	for name, tc := range map[string]struct {
		in   []byte
		want error
	}{
		"unmasked":           {unmasked, errWSUnmasked},
		"binary":             {clientFrame(true, wsBinary, []byte("<a/>"), mask), errWSBinary},
		"reserved bits":      {append([]byte{0xc1}, clientFrame(true, wsText, nil, mask)[1:]...), errWSFrame},
		"stray continuation": {clientFrame(true, wsContinuation, []byte("x"), mask), errWSFrame},
		"fragmented ping":    {clientFrame(false, wsPing, []byte("x"), mask), errWSFrame},
		"text inside text":   {append(clientFrame(false, wsText, []byte("a"), mask), clientFrame(true, wsText, []byte("b"), mask)...), errWSFrame},
	} {
		r := &wsReader{src: bytes.NewReader(tc.in)}
		_, err := io.ReadAll(r)
		var se *stream.Error
		if !errors.Is(err, tc.want) || !errors.As(err, &se) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}
}

func BenchmarkWSReader(b *testing.B) {
	msg := bytes.Repeat([]byte("<message to='bob@localhost' type='chat'><body>hello</body></message>"), 4)
	frame := clientFrame(true, wsText, msg, [4]byte{9, 8, 7, 6})
	in := bytes.Repeat(frame, 64)
	buf := make([]byte, 2048)
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		r := &wsReader{src: bytes.NewReader(in)}
		for {
			if _, err := r.Read(buf); err != nil {
				break
			}
		}
	}
}
