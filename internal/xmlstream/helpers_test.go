package xmlstream

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/parleyim/parley/internal/stanza"
)

// hdr is a typical client stream header.
const hdr = `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>`

// chunkReader returns its input in pieces of 1..max bytes.
type chunkReader struct {
	s   string
	max int
	rnd *rand.Rand
}

func newChunkReader(s string, seed uint64, max int) *chunkReader {
	return &chunkReader{s: s, max: max, rnd: rand.New(rand.NewPCG(seed, 1))}
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if c.s == "" {
		return 0, io.EOF
	}
	n := min(1+c.rnd.IntN(c.max), len(p), len(c.s))
	copy(p, c.s[:n])
	c.s = c.s[n:]
	return n, nil
}

// outcome is everything a decoder produced from one input.
type outcome struct {
	header Header
	els    []*stanza.Element
	err    error
}

// decodeAll reads a header and then elements until an error.
func decodeAll(r io.Reader, lim Limits) outcome {
	d := NewDecoder(r, lim)
	var o outcome
	if o.header, o.err = d.ReadHeader(); o.err != nil {
		return o
	}
	for range 100000 {
		el, err := d.Next()
		if err != nil {
			o.err = err
			return o
		}
		o.els = append(o.els, el)
	}
	o.err = errors.New("test: too many elements")
	return o
}

func (o outcome) dumps() []string {
	var out []string
	for _, el := range o.els {
		out = append(out, dump(el))
	}
	return out
}

// dump writes an element in a compact, unambiguous notation:
// {space}local attr="v" {ns}attr="v" [child "text" ...].
func dump(el *stanza.Element) string {
	var b strings.Builder
	dumpTo(&b, el)
	return b.String()
}

func dumpTo(b *strings.Builder, el *stanza.Element) {
	fmt.Fprintf(b, "{%s}%s", el.Space, el.Local)
	for _, a := range el.Attrs {
		b.WriteByte(' ')
		if a.Space != "" {
			fmt.Fprintf(b, "{%s}", a.Space)
		}
		fmt.Fprintf(b, "%s=%q", a.Local, a.Value)
	}
	if len(el.Children) == 0 {
		return
	}
	b.WriteString(" [")
	for i, n := range el.Children {
		if i > 0 {
			b.WriteByte(' ')
		}
		if n.El != nil {
			dumpTo(b, n.El)
		} else {
			fmt.Fprintf(b, "%q", n.Text)
		}
	}
	b.WriteByte(']')
}

// equalEl reports whether two trees are the same (names, attributes in
// order, children in order).
func equalEl(a, b *stanza.Element) bool {
	if a.Space != b.Space || a.Local != b.Local || len(a.Attrs) != len(b.Attrs) || len(a.Children) != len(b.Children) {
		return false
	}
	for i := range a.Attrs {
		if a.Attrs[i] != b.Attrs[i] {
			return false
		}
	}
	for i, n := range a.Children {
		m := b.Children[i]
		if (n.El == nil) != (m.El == nil) || n.Text != m.Text {
			return false
		}
		if n.El != nil && !equalEl(n.El, m.El) {
			return false
		}
	}
	return true
}

// roundTrip serialises el with stanza.AppendXML, decodes it again inside a
// stream with the same header and checks that the tree is unchanged.
func roundTrip(t testing.TB, header string, parentSpace string, el *stanza.Element) {
	t.Helper()
	out := el.AppendXML(nil, parentSpace)
	big := Limits{MaxElementBytes: 64 << 20, MaxDepth: 1 << 20, MaxAttrs: 1 << 20}
	o := decodeAll(strings.NewReader(header+string(out)), big)
	if len(o.els) != 1 || o.err != io.EOF {
		t.Fatalf("round trip of %s\nserialised %q\ngave %d elements, error %v", dump(el), out, len(o.els), o.err)
	}
	if !equalEl(el, o.els[0]) {
		t.Fatalf("round trip changed the tree\nbefore %s\nxml    %q\nafter  %s", dump(el), out, dump(o.els[0]))
	}
}

// checkErr checks err against the expected condition (for *Error) or
// error value.
func checkErr(t testing.TB, err error, wantCond string, wantErr error) {
	t.Helper()
	if wantCond != "" {
		var e *Error
		if !errors.As(err, &e) || e.Condition != wantCond {
			t.Fatalf("error = %v, want condition %s", err, wantCond)
		}
		return
	}
	if !errors.Is(err, wantErr) {
		t.Fatalf("error = %v, want %v", err, wantErr)
	}
}

// sameOutcome reports how two outcomes of the same input differ, or "".
func sameOutcome(a, b outcome) string {
	if a.header != b.header {
		return fmt.Sprintf("headers differ: %+v vs %+v", a.header, b.header)
	}
	if fmt.Sprint(a.err) != fmt.Sprint(b.err) {
		return fmt.Sprintf("errors differ: %v vs %v", a.err, b.err)
	}
	if len(a.els) != len(b.els) {
		return fmt.Sprintf("%d vs %d elements", len(a.els), len(b.els))
	}
	for i := range a.els {
		if !equalEl(a.els[i], b.els[i]) {
			return fmt.Sprintf("element %d differs: %s vs %s", i, dump(a.els[i]), dump(b.els[i]))
		}
	}
	return ""
}

// checkChunked decodes in once in one piece and then in random chunks,
// and checks that the outcome does not depend on the chunking.
func checkChunked(t *testing.T, in string, lim Limits, want outcome) {
	t.Helper()
	for _, max := range []int{1, 2, 3, 7, 16, 100} {
		for seed := range uint64(3) {
			got := decodeAll(newChunkReader(in, seed, max), lim)
			if diff := sameOutcome(want, got); diff != "" {
				t.Fatalf("chunks of 1..%d (seed %d): %s", max, seed, diff)
			}
		}
	}
}
