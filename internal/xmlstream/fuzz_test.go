package xmlstream

import (
	"fmt"
	"hash/fnv"
	"io"
	"strings"
	"testing"

	"github.com/parleyim/parley/internal/stanza"
)

// fuzzLimits are small so that the fuzzer reaches every limit.
var fuzzLimits = Limits{MaxElementBytes: 1024, MaxDepth: 16, MaxAttrs: 8}

// maxFuzzInput bounds fuzz inputs: longer ones only repeat what shorter
// ones reach (decoding is linear, see TestLinearWork and BenchmarkDecodeScaling), and the fuzzer's
// minimisation, quadratic in the input length, would stall on them.
const maxFuzzInput = 4 << 10

// decoderSeeds are interesting stream contents (after hdr). The same
// seeds are committed under testdata/fuzz/FuzzDecoder.
var decoderSeeds = []string{
	`<message to='bob@localhost/res' type='chat' id='abc123'><body>hello world</body></message>`,
	" \n<presence/>\t\r\n<iq type='get' id='1'><ping xmlns='urn:xmpp:ping'/></iq> </stream:stream>",
	`<foo:x xmlns:foo='urn:a' xmlns:b='urn:b' b:k='1'><foo:y xmlns:foo='urn:c' foo:z='3'/><z xmlns=''/></foo:x>`,
	`<m a='&lt;&#x9;&#10;&amp;' b="x&quot;y">&lt;&gt;&amp;&quot;&apos;&#65;&#x1F600;</m>`,
	`<m>a<![CDATA[<b>&amp;]]]]><![CDATA[>]]>c<i/>d</m>`,
	`<message><!-- comment --></message>`,
	`<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><m>&lol2;</m>`,
	strings.Repeat("<a>", 20) + strings.Repeat("</a>", 20),
	"<m to='\xc3\x28'>\xff\xfe</m>",
	`<stream:stream xmlns:stream='http://etherx.jabber.org/streams'>`,
	`<x xmlns:a='u' xmlns:b='u' a:k='1' b:k='2'/>`,
	"<m xml:lang='en' a='x\r\ny\tz'>line\r\nend\r</m>",
	`<message><body>trunc`,
	`<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features><stream:error/>`,
	`<p:m/><m p:a='1'/>`,
}

func FuzzDecoder(f *testing.F) {
	for _, s := range append(decoderSeeds, grammarSeeds...) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > maxFuzzInput {
			return
		}
		in := hdr + string(data)
		whole := decodeAll(strings.NewReader(in), fuzzLimits)
		if whole.err == nil {
			t.Fatal("decoding ended without an error")
		}

		// The same input in chunks chosen by the input itself.
		h := fnv.New64a()
		h.Write(data)
		seed := h.Sum64()
		chunked := decodeAll(newChunkReader(in, seed, 1+int(seed%23)), fuzzLimits)
		compareFuzzOutcomes(t, whole, chunked)

		roundTripAll(t, whole.els)
	})
}

// roundTripAll is roundTrip for many elements at once, through a single
// decoder, which keeps fuzzing (and minimising) fast.
func roundTripAll(t *testing.T, els []*stanza.Element) {
	t.Helper()
	out := []byte(hdr)
	for _, el := range els {
		out = el.AppendXML(out, stanza.NSClient)
	}
	big := Limits{MaxElementBytes: 64 << 20, MaxDepth: 1 << 20, MaxAttrs: 1 << 20}
	back := decodeAll(strings.NewReader(string(out)), big)
	if back.err != io.EOF || len(back.els) != len(els) {
		t.Fatalf("round trip of %d elements gave %d, error %v\nserialised %q", len(els), len(back.els), back.err, out)
	}
	for i := range els {
		if !equalEl(els[i], back.els[i]) {
			t.Fatalf("round trip changed the tree\nbefore %s\nafter  %s", dump(els[i]), dump(back.els[i]))
		}
	}
}

// compareFuzzOutcomes checks that chunking changed nothing, not even the
// error text.
func compareFuzzOutcomes(t *testing.T, a, b outcome) {
	t.Helper()
	if diff := sameOutcome(a, b); diff != "" {
		t.Fatalf("whole vs chunked: %s", diff)
	}
}

func FuzzHeader(f *testing.F) {
	for _, s := range []string{
		hdr,
		`<stream xmlns='http://etherx.jabber.org/streams' version='1.0'>`,
		`<?xml version="1.0" encoding="UTF-8" standalone="no"?>` + "\n" + `<s:stream xmlns:s="http://etherx.jabber.org/streams" xml:lang='en' id='a&amp;b'>`,
		`<?xml version='1.0' encoding='UTF-16'?><stream:stream xmlns:stream='http://etherx.jabber.org/streams'>`,
		`<!DOCTYPE x><stream:stream xmlns:stream='http://etherx.jabber.org/streams'>`,
		`<stream:stream xmlns:stream='wrong'>`,
		"\xff\xfe<\x00",
		`<?xml-stylesheet?><stream:stream/>`,
		`<?xml version='1.1'?><stream:stream xmlns:stream='http://etherx.jabber.org/streams'>`,
		`<stream:stream xmlns:stream='http://etherx.jabber.org/streams' a='1'b='2'>`,
		`<stream:stream xmlns:stream='http://etherx.jabber.org/streams' / >`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > maxFuzzInput {
			return
		}
		in := string(data)
		d := NewDecoder(strings.NewReader(in), Limits{})
		h, err := d.ReadHeader()
		h2, err2 := NewDecoder(newChunkReader(in, uint64(len(in)), 7), Limits{}).ReadHeader()
		if h != h2 || fmt.Sprint(err) != fmt.Sprint(err2) {
			t.Fatalf("whole vs chunked: %+v %v / %+v %v", h, err, h2, err2)
		}
		if err != nil {
			return
		}
		// A header rebuilt from the parsed fields reads back the same.
		out := writeHeader(h)
		back, err := NewDecoder(strings.NewReader(out), Limits{}).ReadHeader()
		if err != nil || back != h {
			t.Fatalf("header %+v\nwritten as %q\nread back %+v, %v", h, out, back, err)
		}
	})
}

// writeHeader serialises a Header (test only: c2s writes real headers).
func writeHeader(h Header) string {
	b := []byte("<")
	if h.StreamPrefix != "" {
		b = append(b, h.StreamPrefix+":stream xmlns:"+h.StreamPrefix+"='"+NSStream+"'"...)
	} else {
		b = append(b, "stream"...)
	}
	if h.Space != "" {
		b = append(b, ` xmlns="`...)
		b = append(stanza.AppendEscapedAttr(b, h.Space), '"')
	}
	for _, a := range []struct{ name, value string }{
		{"to", h.To}, {"from", h.From}, {"id", h.ID}, {"version", h.Version}, {"xml:lang", h.Lang},
	} {
		if a.value != "" {
			b = append(b, " "+a.name+`="`...)
			b = append(stanza.AppendEscapedAttr(b, a.value), '"')
		}
	}
	return string(append(b, '>'))
}
