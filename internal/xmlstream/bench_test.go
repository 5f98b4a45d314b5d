package xmlstream

import (
	"io"
	"strings"
	"testing"
)

// repeatReader returns prefix once, then body over and over.
type repeatReader struct {
	prefix, body string
	off          int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.prefix != "" {
		n := copy(p, r.prefix)
		r.prefix = r.prefix[n:]
		return n, nil
	}
	n := 0
	for n < len(p) {
		c := copy(p[n:], r.body[r.off:])
		n += c
		r.off = (r.off + c) % len(r.body)
	}
	return n, nil
}

// newLoopDecoder returns a decoder, past the header, reading body forever.
func newLoopDecoder(tb testing.TB, body string) *Decoder {
	d := NewDecoder(&repeatReader{prefix: hdr, body: body}, Limits{})
	if _, err := d.ReadHeader(); err != nil {
		tb.Fatal(err)
	}
	return d
}

var benchStanzas = []struct {
	name, xml string
}{
	{"chat", `<message to='bob@localhost/res' type='chat' id='abc123'><body>hello world</body></message>`},
	{"presence", `<presence from='juliet@example.com/balcony' id='p1'><show>away</show><status>Out for a walk</status><priority>5</priority>` +
		`<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='https://example.com/client' ver='QgayPKawpkPSDYmwT/WM94uAlu0='/></presence>`},
	{"iq-nested", `<iq type='result' id='disco1' to='juliet@example.com/balcony' from='example.com'>` +
		`<query xmlns='http://jabber.org/protocol/disco#info'><identity category='server' type='im' name='Parley'/>` +
		`<feature var='http://jabber.org/protocol/disco#info'/><feature var='http://jabber.org/protocol/disco#items'/>` +
		`<feature var='urn:xmpp:ping'/><feature var='jabber:iq:roster'/><feature var='urn:xmpp:carbons:2'/>` +
		`<x xmlns='jabber:x:data' type='result'><field var='FORM_TYPE' type='hidden'><value>http://jabber.org/network/serverinfo</value></field></x>` +
		`</query></iq>`},
	{"4KiB-entities", `<message to='bob@localhost' type='chat' id='big'><body>` +
		strings.Repeat("if a &lt; b &amp;&amp; c &gt; d then &quot;yes&quot;\n", 64) + `</body></message>`},
}

func BenchmarkNext(b *testing.B) {
	for _, bs := range benchStanzas {
		b.Run(bs.name, func(b *testing.B) {
			d := newLoopDecoder(b, bs.xml)
			b.SetBytes(int64(len(bs.xml)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := d.Next(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkReadHeader(b *testing.B) {
	r := strings.NewReader(hdr)
	d := NewDecoder(r, Limits{})
	b.ReportAllocs()
	for b.Loop() {
		r.Reset(hdr)
		d.Reset(r)
		if _, err := d.ReadHeader(); err != nil {
			b.Fatal(err)
		}
	}
}

// TestAllocations keeps the hot path honest: a chat message must cost at
// most 6 allocations (it costs 4: the string, the elements, the attributes
// and the children).
func TestAllocations(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	d := newLoopDecoder(t, benchStanzas[0].xml)
	allocs := testing.AllocsPerRun(1000, func() {
		if _, err := d.Next(); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 6 {
		t.Fatalf("%v allocations per chat message, want at most 6", allocs)
	}
}

var _ io.Reader = (*repeatReader)(nil)

// BenchmarkEncodingXMLReference decodes the same stanzas with encoding/xml
// into stanza trees (stdTrees' token loop), to calibrate the numbers above
// on the machine at hand.
func BenchmarkEncodingXMLReference(b *testing.B) {
	for _, bs := range benchStanzas {
		b.Run(bs.name, func(b *testing.B) {
			in := stdHdr + strings.Repeat(bs.xml, 100) + "</stream:stream>"
			b.SetBytes(int64(100 * len(bs.xml)))
			b.ReportAllocs()
			for b.Loop() {
				els, err := stdTrees(in)
				if err != nil || len(els) != 100 {
					b.Fatal(err, len(els))
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*100), "ns/stanza")
		})
	}
}
