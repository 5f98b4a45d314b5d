package xmlstream

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/parleyim/parley/internal/stanza"
)

// One grammar: the framer decides where a stanza ends and the parser
// checks it, and the two must never disagree. The reference below reads
// the stream with the parser alone (no framer: each stanza is parsed
// straight from the rest of the input); the decoder must produce the same
// elements and end with the same condition, whatever the input.

// refOutcome is what the parser alone makes of a stream body (after hdr).
type refOutcome struct {
	els     []*stanza.Element
	cond    string // condition of the *Error it ends with, if any
	err     error  // else io.EOF or io.ErrUnexpectedEOF
	stopped bool   // it reached a top-level end tag, which it does not judge
}

// refDecode reads body element by element with the parser, applying the
// decoder's limits the way they are documented: a stanza that is neither
// complete nor wrong within MaxElementBytes is a policy-violation.
func refDecode(body string, lim Limits) refOutcome {
	lim = lim.withDefaults()
	ns := []binding{{prefix: "stream", uri: NSStream}}
	var o refOutcome
	i := 0
	for {
		for i < len(body) && isSpace(body[i]) {
			i++
		}
		switch {
		case i == len(body):
			o.err = io.EOF
			return o
		case body[i] != '<':
			o.cond = condNotWellFormed
			return o
		case strings.HasPrefix(body[i:], "</"):
			o.stopped = true
			return o
		}
		rest := body[i:]
		if len(rest) > lim.MaxElementBytes {
			rest = rest[:lim.MaxElementBytes]
		}
		p := getParser(rest, int64(len(hdr)+i), lim, stanza.NSClient, ns)
		p.partial = true
		el, err := p.first(counts{})
		n := p.i
		p.put()
		var pe *Error
		switch {
		case errors.As(err, &pe):
			o.cond = pe.Condition
			return o
		case errors.Is(err, errTruncated) && len(body)-i >= lim.MaxElementBytes:
			// MaxElementBytes read and no end: it can only be longer.
			o.cond = condPolicy
			return o
		case errors.Is(err, errTruncated):
			o.err = io.ErrUnexpectedEOF
			return o
		case err != nil:
			panic(err)
		}
		o.els = append(o.els, el)
		i += n
	}
}

// checkOneGrammar compares the decoder with the reference on one body.
func checkOneGrammar(t testing.TB, body string, lim Limits) {
	t.Helper()
	want := refDecode(body, lim)
	got := decodeAll(strings.NewReader(hdr+body), lim)
	if want.stopped {
		// The parser alone does not read </stream:stream>; only the
		// elements before it are compared.
		if len(got.els) < len(want.els) {
			t.Fatalf("decoder: %d elements then %v; parser alone: %d elements before an end tag", len(got.els), got.err, len(want.els))
		}
		got.els = got.els[:len(want.els)]
	} else {
		var pe *Error
		gotCond := ""
		if errors.As(got.err, &pe) {
			gotCond = pe.Condition
		}
		if gotCond != want.cond || want.cond == "" && !errors.Is(got.err, want.err) {
			t.Fatalf("decoder ends with %v; parser alone with %q %v\nafter %d and %d elements", got.err, want.cond, want.err, len(got.els), len(want.els))
		}
	}
	if len(got.els) != len(want.els) {
		t.Fatalf("decoder: %d elements, parser alone: %d (decoder error %v, parser %q %v)", len(got.els), len(want.els), got.err, want.cond, want.err)
	}
	for i := range got.els {
		if !equalEl(got.els[i], want.els[i]) {
			t.Fatalf("element %d: decoder %s, parser alone %s", i, dump(got.els[i]), dump(want.els[i]))
		}
	}
}

// grammarSeeds hold one case for each rule the framer applies; they are
// also fuzz seeds (FuzzOneGrammar, FuzzDecoder).
var grammarSeeds = []string{
	// End tags match the open elements by name, at every depth.
	`<message to='x@localhost'><body>hi</message><message/>`,
	`<message><body><b>hi</b></body></mesage><presence/>`,
	`<a><b><c>x</c></b></c></a><presence/>`,
	`<a:m xmlns:a='urn:x' xmlns:b='urn:x'></b:m><presence/>`,
	`<m></m ><m></m x>`,
	`<m></>`,
	`<m></1m>`,
	// Tag syntax: quoting, '=', white space, "/>".
	`<message / ><presence/>`,
	`<message/ ><presence/>`,
	`<message 'to'='x'><presence/>`,
	`<message to='a>b' id=1><presence/></message>`,
	`<message to ='a' type= "b" id = 'c'/>`,
	`<message to='a'type='b'/>`,
	`<message to><presence/>`,
	`<message =''/>`,
	`<message a='1' a='2'/>`,
	`<message><body attr/></message>`,
	// Names: start characters, colons, non-ASCII, length.
	`<1m/>`,
	`<:m/>`,
	`<a::b/>`,
	`<a:b:c xmlns:a='u'/>`,
	"<m\xffx/><presence/>",
	"<m\xcc\x80x/>",
	"<\xcc\x80m/>",
	`<café xmlns='urn:ü' ñ='ö'>日本語</café>`,
	"<m" + strings.Repeat("x", 1100) + "/>",
	"<m a" + strings.Repeat("x", 1100) + "='1'/>",
	// Depth and attribute count (with the fuzz limits: 16 and 8).
	strings.Repeat("<a>", 17) + strings.Repeat("</a>", 17),
	strings.Repeat("<a>", 16) + "<1" + strings.Repeat("</a>", 16),
	"<m" + manyAttrs(9) + "/>",
	"<m" + manyAttrs(8) + "/>",
	// Stream-level constructs.
	`<s:stream xmlns:s='http://etherx.jabber.org/streams'><presence/>`,
	`<stream:stream xmlns:stream='urn:other'></stream:stream>`,
	`<stream xmlns='http://etherx.jabber.org/streams'>`,
	`<![CDATA[x`,
	`<m><![CDATA[<a></b>]]></m>`,
	`<m><![CD`,
	`<m><!-- x --></m>`,
	`<m><?pi x?></m>`,
	// The first error in stream order wins, wherever it is found.
	"<m>\x01</m x>",
	"<m a='&foo;' 'b'>",
	"<m>&lt</b>",
	"<m><n xmlns:p=''><1",
	`<p:m><a></b>`,
	"<m>\x01",
	"<m a='&#x",
	"<m>a]]>",
	"<m" + strings.Repeat("\t", 2000),
	"<m>" + strings.Repeat("y", 2000) + "\x01",
	"<m>\x01" + strings.Repeat("y", 2000),
}

func TestOneGrammar(t *testing.T) {
	for _, s := range append(decoderSeeds, grammarSeeds...) {
		for _, lim := range []Limits{{}, fuzzLimits} {
			checkOneGrammar(t, s, lim)
			// And cut short anywhere.
			for _, k := range []int{1, 2, 5, len(s) / 3, len(s) / 2, len(s) - 1} {
				if k > 0 && k < len(s) {
					checkOneGrammar(t, s[:k], lim)
				}
			}
		}
	}
}

func FuzzOneGrammar(f *testing.F) {
	for _, s := range append(decoderSeeds, grammarSeeds...) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > maxFuzzInput {
			return
		}
		checkOneGrammar(t, string(data), fuzzLimits)
	})
}

// pausedReader returns its input, then times out (as a connection whose
// peer is waiting for an answer) instead of ending.
type pausedReader struct{ s string }

func (r *pausedReader) Read(p []byte) (int, error) {
	if r.s == "" {
		return 0, timeoutError{}
	}
	n := copy(p, r.s)
	r.s = r.s[n:]
	return n, nil
}

// TestStructuralErrorsNeedNoMoreInput: a structural error is reported as
// soon as its bytes have arrived, without waiting for more input (the peer
// may be waiting for an answer), and before any later stanza.
func TestStructuralErrorsNeedNoMoreInput(t *testing.T) {
	tests := []struct{ in, cond string }{
		{`<message to='x@localhost'><body>hi</message>`, condNotWellFormed},
		{`<message to='x@localhost'></body>`, condNotWellFormed},
		{`<iq><query><item></query>`, condNotWellFormed},
		{`<iq><query><item><x></item>`, condNotWellFormed},
		{`<message><body>hi</body></message>`, ""},
		{`<message / >`, condNotWellFormed},
		{`<message 'to'='x'>`, condNotWellFormed},
		{`<message to=x>`, condNotWellFormed},
		{`<message to='a'type='b'>`, condNotWellFormed},
		{"<m\xff>", condNotWellFormed},
		{`<s:stream xmlns:s='http://etherx.jabber.org/streams'>`, condNotWellFormed},
		{`<message><!-- x`, condRestricted},
		{"<m>\x01</m", condNotWellFormed},
		{strings.Repeat("<a>", 65), condPolicy},
		{"<m" + manyAttrs(65), condPolicy},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%.40q", tt.in), func(t *testing.T) {
			d := NewDecoder(&pausedReader{s: hdr + tt.in + "<presence/>"}, Limits{})
			if _, err := d.ReadHeader(); err != nil {
				t.Fatal(err)
			}
			el, err := d.Next()
			if tt.cond == "" {
				if err != nil || el.Local != "message" {
					t.Fatalf("got %v, %v", el, err)
				}
				return
			}
			checkErr(t, err, tt.cond, nil)
		})
	}
}
