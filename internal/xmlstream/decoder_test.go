package xmlstream

import (
	"fmt"
	"io"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/parleyim/parley/internal/stanza"
)

func TestHeaderVariants(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Header
	}{
		{
			name: "with XML declaration, single quotes",
			in:   hdr,
			want: Header{Space: "jabber:client", StreamPrefix: "stream", To: "localhost", Version: "1.0"},
		},
		{
			name: "without XML declaration, double quotes",
			in:   `<stream:stream xmlns="jabber:client" xmlns:stream="http://etherx.jabber.org/streams" to="example.org" from="juliet@example.org" id="abc" version="1.0" xml:lang="en">`,
			want: Header{Space: "jabber:client", StreamPrefix: "stream", To: "example.org", From: "juliet@example.org", ID: "abc", Version: "1.0", Lang: "en"},
		},
		{
			name: "declaration with encoding and standalone",
			in:   `<?xml version="1.0" encoding="utf-8" standalone='yes' ?>` + "\n" + `<stream:stream xmlns:stream='http://etherx.jabber.org/streams' xmlns='jabber:server'>`,
			want: Header{Space: "jabber:server", StreamPrefix: "stream"},
		},
		{
			name: "stream namespace as the default namespace",
			in:   `<stream xmlns='http://etherx.jabber.org/streams' version='1.0'>`,
			want: Header{Space: NSStream, Version: "1.0"},
		},
		{
			name: "other prefix, white space everywhere",
			in:   "\n  <s:stream\n\txmlns:s = 'http://etherx.jabber.org/streams'\r\n  to='a&amp;b' >",
			want: Header{StreamPrefix: "s", To: "a&b"},
		},
		{
			name: "unknown attributes are ignored",
			in:   `<stream:stream xmlns:stream='http://etherx.jabber.org/streams' xmlns:x='urn:x' x:to='no' foo='bar' to='yes'>`,
			want: Header{StreamPrefix: "stream", To: "yes"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := outcome{header: tt.want, err: io.EOF}
			got := decodeAll(strings.NewReader(tt.in), Limits{})
			if diff := sameOutcome(want, got); diff != "" {
				t.Fatal(diff)
			}
			checkChunked(t, tt.in, Limits{}, want)
		})
	}
}

func TestValidStreams(t *testing.T) {
	tests := []struct {
		name string
		in   string   // after hdr
		want []string // dumps of the elements
		err  error    // after them
	}{
		{
			name: "chat message",
			in:   `<message to='bob@localhost/res' type='chat' id='abc123'><body>hello world</body></message>`,
			want: []string{`{jabber:client}message to="bob@localhost/res" type="chat" id="abc123" [{jabber:client}body ["hello world"]]`},
			err:  io.EOF,
		},
		{
			name: "keepalives between stanzas and stream close",
			in:   " \n\t <presence/>\r\n \n<message/> </stream:stream >",
			want: []string{`{jabber:client}presence`, `{jabber:client}message`},
			err:  ErrStreamClosed,
		},
		{
			name: "stream namespace elements",
			in:   `<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features><stream:error><not-well-formed xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>`,
			want: []string{
				`{http://etherx.jabber.org/streams}features [{urn:ietf:params:xml:ns:xmpp-bind}bind]`,
				`{http://etherx.jabber.org/streams}error [{urn:ietf:params:xml:ns:xmpp-streams}not-well-formed]`,
			},
			err: io.EOF,
		},
		{
			name: "child with its own default namespace, scope popped at its end",
			in:   `<iq type='get' id='1'><query xmlns='jabber:iq:roster'><item/></query><x/></iq>`,
			want: []string{`{jabber:client}iq type="get" id="1" [{jabber:iq:roster}query [{jabber:iq:roster}item] {jabber:client}x]`},
			err:  io.EOF,
		},
		{
			name: "prefixed elements and prefixed attributes",
			in:   `<foo:x xmlns:foo='urn:a' xmlns:b='urn:b' b:k='1' k='2'><foo:y foo:z='3'/><z/></foo:x>`,
			want: []string{`{urn:a}x {urn:b}k="1" k="2" [{urn:a}y {urn:a}z="3" {jabber:client}z]`},
			err:  io.EOF,
		},
		{
			name: "prefix redeclared in an inner scope",
			in:   `<a xmlns:p='urn:1'><p:b xmlns:p='urn:2'><p:c/></p:b><p:d/></a>`,
			want: []string{`{jabber:client}a [{urn:2}b [{urn:2}c] {urn:1}d]`},
			err:  io.EOF,
		},
		{
			name: "declaration after use in the same tag, default namespace undeclared",
			in:   `<p:a p:x='1' xmlns:p='urn:p'><b xmlns=''/></p:a>`,
			want: []string{`{urn:p}a {urn:p}x="1" [{}b]`},
			err:  io.EOF,
		},
		{
			name: "predefined entities and character references",
			in:   `<message><body>&lt;&gt;&amp;&quot;&apos;&#65;&#x42;&#x1F600;&#xe9;</body></message>`,
			want: []string{`{jabber:client}message [{jabber:client}body ["<>&\"'AB😀é"]]`},
			err:  io.EOF,
		},
		{
			name: "CDATA merged with adjacent text",
			in:   `<message><body>a<![CDATA[<b>&amp;]]]]><![CDATA[>]]>c<![CDATA[]]></body></message>`,
			want: []string{`{jabber:client}message [{jabber:client}body ["a<b>&amp;]]>c"]]`},
			err:  io.EOF,
		},
		{
			name: "mixed content keeps document order and white space",
			in:   "<p>one<b>two</b>three<i/> four\n</p>",
			want: []string{`{jabber:client}p ["one" {jabber:client}b ["two"] "three" {jabber:client}i " four\n"]`},
			err:  io.EOF,
		},
		{
			name: "xml:lang",
			in:   `<message xml:lang='de'><body xml:lang="en">hi</body></message>`,
			want: []string{`{jabber:client}message {http://www.w3.org/XML/1998/namespace}lang="de" [{jabber:client}body {http://www.w3.org/XML/1998/namespace}lang="en" ["hi"]]`},
			err:  io.EOF,
		},
		{
			name: "line ends in text and attribute normalisation",
			in:   "<m a='x\ty\r\nz&#10;w&#9;&#13;' b=\"\n\"><body>a\r\nb\rc&#13;</body></m>",
			want: []string{`{jabber:client}m a="x y z\nw\t\r" b=" " [{jabber:client}body ["a\nb\nc\r"]]`},
			err:  io.EOF,
		},
		{
			name: "quotes inside values and '>' in text and values",
			in:   `<m a="it's" b='say "hi"' c='a>b'>x > y</m>`,
			want: []string{`{jabber:client}m a="it's" b="say \"hi\"" c="a>b" ["x > y"]`},
			err:  io.EOF,
		},
		{
			name: "non-ASCII names and text",
			in:   `<café xmlns='urn:ü' ñ='ö'>日本語</café>`,
			want: []string{`{urn:ü}café ñ="ö" ["日本語"]`},
			err:  io.EOF,
		},
		{
			name: "white space around = and before >",
			in:   "<m id = '1'\n type\t=\"x\" ></m\n>",
			want: []string{`{jabber:client}m id="1" type="x"`},
			err:  io.EOF,
		},
		{
			name: "xml prefix may be declared with its own namespace",
			in:   `<m xmlns:xml='http://www.w3.org/XML/1998/namespace' xml:lang='en'/>`,
			want: []string{`{jabber:client}m {http://www.w3.org/XML/1998/namespace}lang="en"`},
			err:  io.EOF,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := hdr + tt.in
			got := decodeAll(strings.NewReader(in), Limits{})
			checkErr(t, got.err, "", tt.err)
			if d := got.dumps(); !reflect.DeepEqual(d, tt.want) {
				t.Fatalf("got\n%s\nwant\n%s", strings.Join(d, "\n"), strings.Join(tt.want, "\n"))
			}
			for _, el := range got.els {
				roundTrip(t, hdr, stanza.NSClient, el)
			}
			checkChunked(t, in, Limits{}, got)
		})
	}
}

func TestHostileInput(t *testing.T) {
	const (
		nwf        = "not-well-formed"
		restricted = "restricted-xml"
		policy     = "policy-violation"
		badPrefix  = "bad-namespace-prefix"
	)
	tests := []struct {
		name   string
		in     string // whole input; "$" is replaced by hdr
		cond   string
		err    error // when cond is ""
		nElems int   // elements decoded before the error
	}{
		{name: "billion laughs DTD", cond: restricted, in: `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]><stream:stream xmlns:stream='http://etherx.jabber.org/streams'>`},
		{name: "DOCTYPE in the stream", cond: restricted, in: `$<!DOCTYPE foo>`},
		{name: "DOCTYPE inside a stanza", cond: restricted, in: `$<message><!DOCTYPE x></message>`},
		{name: "internal entity reference", cond: restricted, in: `$<message><body>&foo;</body></message>`},
		{name: "entity reference in attribute", cond: restricted, in: `$<message to='&lol9;'/>`},
		{name: "external entity attempt", cond: restricted, in: `<!DOCTYPE m [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><stream:stream xmlns:stream='http://etherx.jabber.org/streams'>`},
		{name: "external entity reference", cond: restricted, in: `$<message><body>&xxe;</body></message>`},
		{name: "comment before the header", cond: restricted, in: `<!-- hi --><stream:stream xmlns:stream='http://etherx.jabber.org/streams'>`},
		{name: "comment in the stream", cond: restricted, in: `$<presence/><!-- hi -->`, nElems: 1},
		{name: "comment in a stanza", cond: restricted, in: `$<message><!-- hi --></message>`},
		{name: "processing instruction in the stream", cond: restricted, in: `$<?foo bar?>`},
		{name: "processing instruction in a stanza", cond: restricted, in: `$<message><?php x ?></message>`},
		{name: "processing instruction before the header", cond: restricted, in: `<?xml-stylesheet href='x'?><stream:stream xmlns:stream='http://etherx.jabber.org/streams'>`},
		{name: "second XML declaration", cond: nwf, in: `<?xml version='1.0'?>` + "$"},
		{name: "XML declaration in the stream", cond: restricted, in: `$<?xml version='1.0'?>`},
		{name: "encoding other than UTF-8", cond: "unsupported-encoding", in: `<?xml version='1.0' encoding='ISO-8859-1'?><stream:stream xmlns:stream='http://etherx.jabber.org/streams'>`},
		{name: "UTF-16 byte order mark", cond: "unsupported-encoding", in: "\xff\xfe<\x00s\x00"},
		{name: "UTF-16 without byte order mark", cond: "unsupported-encoding", in: "<\x00s\x00"},
		{name: "UTF-8 byte order mark", cond: nwf, in: "\xef\xbb\xbf$"},
		{name: "bad XML version", cond: nwf, in: `<?xml version='2.0'?><stream:stream xmlns:stream='http://etherx.jabber.org/streams'>`},
		{name: "XML 1.1 declaration", cond: nwf, in: `<?xml version='1.1'?><stream:stream xmlns:stream='http://etherx.jabber.org/streams'>`},
		{name: "XML 1.10 declaration", cond: nwf, in: `<?xml version="1.10" encoding='UTF-8'?><stream:stream xmlns:stream='http://etherx.jabber.org/streams'>`},
		{name: "garbage before the header", cond: nwf, in: `GET / HTTP/1.1` + "\r\n$"},
		{name: "end tag before the header", cond: nwf, in: `</stream:stream>`},
		{name: "header in the wrong namespace", cond: "invalid-namespace", in: `<stream:stream xmlns:stream='wrong'>`},
		{name: "header in the content namespace", cond: "invalid-namespace", in: `<stream xmlns='jabber:client'>`},
		{name: "header with undeclared prefix", cond: badPrefix, in: `<stream:stream xmlns='jabber:client'>`},
		{name: "header with the wrong name", cond: "invalid-xml", in: `<stream:foo xmlns:stream='http://etherx.jabber.org/streams'>`},
		{name: "empty header element", cond: nwf, in: `<stream:stream xmlns:stream='http://etherx.jabber.org/streams'/>`},
		{name: "second stream header", cond: nwf, in: "$" + hdr[len("<?xml version='1.0'?>"):]},
		{name: "second stream header with another prefix", cond: nwf, in: `$<s:stream xmlns:s='http://etherx.jabber.org/streams'></s:stream>`},
		{name: "text at stream level", cond: nwf, in: `$hello`},
		{name: "CDATA at stream level", cond: nwf, in: `$<![CDATA[ ]]>`},
		{name: "stream closed", err: ErrStreamClosed, in: `$<message/></stream:stream><message/>`, nElems: 1},
		{name: "wrong stream end tag", cond: nwf, in: `$</stream:foo>`},
		{name: "truncated stanza", err: io.ErrUnexpectedEOF, in: `$<message><body>hel`},
		{name: "truncated tag", err: io.ErrUnexpectedEOF, in: `$<message to='a`},
		{name: "truncated header", err: io.ErrUnexpectedEOF, in: `<stream:stream xmlns`},
		{name: "only the XML declaration", err: io.ErrUnexpectedEOF, in: `<?xml version='1.0'?>`},
		{name: "empty input", err: io.EOF, in: ``},
		{name: "end of input between stanzas", err: io.EOF, in: "$<message/>\n", nElems: 1},
		{name: "mismatched end tag", cond: nwf, in: `$<message><body></message></body>`},
		{name: "end tag with another prefix", cond: nwf, in: `$<a:m xmlns:a='urn:x' xmlns:b='urn:x'></b:m>`},
		{name: "duplicate attribute", cond: nwf, in: `$<message id='1' id='2'/>`},
		{name: "duplicate attribute via two prefixes", cond: nwf, in: `$<x xmlns:a='u' xmlns:b='u' a:k='1' b:k='2'/>`},
		{name: "duplicate namespace declaration", cond: nwf, in: `$<x xmlns:a='u' xmlns:a='v'/>`},
		{name: "unquoted attribute", cond: nwf, in: `$<message id=1/>`},
		{name: "attribute without value", cond: nwf, in: `$<message checked/>`},
		{name: "attributes without white space", cond: nwf, in: `$<message a='1'b='2'/>`},
		{name: "'<' in attribute value", cond: nwf, in: `$<message to='a<b'/>`},
		{name: "'<' in a tag", cond: nwf, in: `$<message <body/>`},
		{name: "']]>' in text", cond: nwf, in: `$<message>a]]>b</message>`},
		{name: "invalid UTF-8 in text", cond: nwf, in: "$<message><body>\xff</body></message>"},
		{name: "invalid UTF-8 in attribute", cond: nwf, in: "$<message to='\xc3\x28'/>"},
		{name: "invalid UTF-8 in a name", cond: nwf, in: "$<mess\xffage/>"},
		{name: "overlong UTF-8", cond: nwf, in: "$<m>\xc0\xaf</m>"},
		{name: "UTF-8 surrogate", cond: nwf, in: "$<m>\xed\xa0\x80</m>"},
		{name: "U+FFFE", cond: nwf, in: "$<m>\xef\xbf\xbe</m>"},
		{name: "control character", cond: nwf, in: "$<m>\x01</m>"},
		{name: "NUL in attribute", cond: nwf, in: "$<m a='\x00'/>"},
		{name: "control character in CDATA", cond: nwf, in: "$<m><![CDATA[\x08]]></m>"},
		{name: "reference to NUL", cond: nwf, in: `$<m>&#0;</m>`},
		{name: "reference to a surrogate", cond: nwf, in: `$<m>&#xD800;</m>`},
		{name: "reference beyond Unicode", cond: nwf, in: `$<m>&#x110000;</m>`},
		{name: "huge reference", cond: nwf, in: `$<m>&#99999999999999999999;</m>`},
		{name: "empty character reference", cond: nwf, in: `$<m>&#;</m>`},
		{name: "bare ampersand", cond: nwf, in: `$<m>a & b</m>`},
		{name: "reference without semicolon", cond: nwf, in: `$<m>&lt</m>`},
		{name: "unknown element prefix", cond: badPrefix, in: `$<foo:bar/>`},
		{name: "unknown attribute prefix", cond: badPrefix, in: `$<message foo:bar='1'/>`},
		{name: "prefix used out of scope", cond: badPrefix, in: `$<a><b xmlns:p='urn:p'/><p:c/></a>`},
		{name: "element in the xml namespace", cond: badPrefix, in: `$<xml:m/>`},
		{name: "undeclaring a prefix", cond: nwf, in: `$<m xmlns:p=''/>`},
		{name: "declaring xmlns", cond: nwf, in: `$<m xmlns:xmlns='urn:x'/>`},
		{name: "rebinding xml", cond: nwf, in: `$<m xmlns:xml='urn:x'/>`},
		{name: "binding the xml namespace", cond: nwf, in: `$<m xmlns:p='http://www.w3.org/XML/1998/namespace'/>`},
		{name: "name starting with a digit", cond: nwf, in: `$<1m/>`},
		{name: "name with two colons", cond: nwf, in: `$<a:b:c xmlns:a='u'/>`},
		{name: "name ending in a colon", cond: nwf, in: `$<a: xmlns:a='u'/>`},
		{name: "empty tag name", cond: nwf, in: `$<>`},
		{name: "too many attributes", cond: policy, in: "$<m" + manyAttrs(65) + "/>"},
		{name: "name too long", cond: policy, in: "$<m" + strings.Repeat("x", 2000) + "/>"},
		{name: "10,000 deep", cond: policy, in: "$" + strings.Repeat("<a>", 10000) + strings.Repeat("</a>", 10000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := strings.ReplaceAll(tt.in, "$", hdr)
			got := decodeAll(strings.NewReader(in), Limits{})
			checkErr(t, got.err, tt.cond, tt.err)
			if len(got.els) != tt.nElems {
				t.Fatalf("decoded %d elements before the error, want %d", len(got.els), tt.nElems)
			}
			checkChunked(t, in, Limits{}, got)
		})
	}
}

func manyAttrs(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(" a")
		b.WriteString(strings.Repeat("x", i))
		b.WriteString("='1'")
	}
	return b.String()
}

func TestLimits(t *testing.T) {
	lim := Limits{MaxElementBytes: 100, MaxDepth: 3, MaxAttrs: 2}
	fill := func(n int) string { // a stanza of exactly n bytes
		return "<m>" + strings.Repeat("x", n-7) + "</m>"
	}
	tests := []struct {
		name string
		in   string
		cond string
	}{
		{"element at the byte limit", fill(100), ""},
		{"element over the byte limit", fill(101), "policy-violation"},
		{"depth at the limit", "<a><b><c/></b></a>", ""},
		{"depth over the limit", "<a><b><c><d/></c></b></a>", "policy-violation"},
		{"attributes at the limit", "<a x='1' y='2'/>", ""},
		{"attributes over the limit", "<a x='1' y='2' z='3'/>", "policy-violation"},
		{"declarations count as attributes", "<a xmlns='urn:a' y='2' z='3'/>", "policy-violation"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkLimitCase(t, tt.in, lim, tt.cond) })
	}
}

// checkLimitCase decodes hdr+body with lim and checks that it ends with
// the condition cond (or io.EOF if cond is ""), however it is chunked.
func checkLimitCase(t *testing.T, body string, lim Limits, cond string) error {
	t.Helper()
	in := hdr + body
	got := decodeAll(strings.NewReader(in), lim)
	if cond == "" {
		checkErr(t, got.err, "", io.EOF)
	} else {
		checkErr(t, got.err, cond, nil)
	}
	checkChunked(t, in, lim, got)
	return got.err
}

// memoryCases are stanzas at and over lim.MaxMemory (2 KiB here), made of
// many cheap elements or attributes, which the byte limit lets through.
func memoryCases() []struct{ name, in, cond string } {
	const budget = 2 << 10
	els := func(n int) string { return "<m>" + strings.Repeat("<a/>", n-1) + "</m>" }
	fit := 1
	for StanzaMemory(len(els(fit+1)), fit+1, 0, 0) <= budget {
		fit++
	}
	return []struct{ name, in, cond string }{
		{"elements within the memory budget", els(fit), ""},
		// The budget is checked at each start tag with the bytes before
		// it: fit+3 elements are over it however it is counted.
		{"elements over the memory budget", els(fit + 3), "policy-violation"},
		{"attributes over the memory budget", "<m" + manyAttrs(60) + "/>", "policy-violation"},
	}
}

func TestMemoryLimit(t *testing.T) {
	lim := Limits{MaxMemory: 2 << 10, MaxElementBytes: 1 << 20, MaxAttrs: 100}
	for _, tt := range memoryCases() {
		t.Run(tt.name, func(t *testing.T) {
			err := checkLimitCase(t, tt.in, lim, tt.cond)
			if tt.cond != "" && !strings.Contains(err.Error(), "memory") {
				t.Fatalf("error %q does not say what was too big", err)
			}
		})
	}
	// The audit's case: 65,000 empty elements, 260 KB, within the default
	// byte limit, are refused by the default memory limit long before
	// their end.
	in := hdr + "<message>" + strings.Repeat("<a/>", 65000) + "</message>"
	d := NewDecoder(strings.NewReader(in), Limits{})
	if _, err := d.ReadHeader(); err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := d.Next()
	runtime.ReadMemStats(&after)
	checkErr(t, err, "policy-violation", nil)
	if n := d.Buffered(); n >= len(in)-len(hdr) {
		t.Fatalf("read all %d bytes before refusing", n)
	}
	// Parsed whole, the stanza would take about 7 MB; refusing it may take
	// the read buffer and the memory budget, no more.
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 2*DefaultMaxMemory+256<<10 {
		t.Fatalf("refusing the stanza allocated %d bytes", alloc)
	}
}

func TestSetLimitsBetweenElements(t *testing.T) {
	d := NewDecoder(strings.NewReader(hdr+"<a>"+strings.Repeat("x", 200)+"</a><a>"+strings.Repeat("x", 200)+"</a>"), Limits{MaxElementBytes: 100})
	if _, err := d.ReadHeader(); err != nil {
		t.Fatal(err)
	}
	_, err := d.Next()
	checkErr(t, err, "policy-violation", nil)
	if _, err := d.Next(); err == nil {
		t.Fatal("protocol errors must be sticky")
	}

	d = NewDecoder(strings.NewReader(hdr+"<a/><a>"+strings.Repeat("x", 200)+"</a>"), Limits{MaxElementBytes: 100})
	if _, err := d.ReadHeader(); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Next(); err != nil {
		t.Fatal(err)
	}
	d.SetLimits(Limits{MaxElementBytes: 1000})
	if _, err := d.Next(); err != nil {
		t.Fatalf("after raising the limit: %v", err)
	}
}

// genReader generates a stanza that never ends and counts what it gave.
type genReader struct {
	prefix string
	read   int
	limit  int
}

func (g *genReader) Read(p []byte) (int, error) {
	if g.read >= g.limit {
		return 0, io.EOF
	}
	n := 0
	for n < len(p) && g.read < g.limit {
		if g.read < len(g.prefix) {
			p[n] = g.prefix[g.read]
		} else {
			p[n] = 'a'
		}
		n++
		g.read++
	}
	return n, nil
}

func TestHugeStanzaIsRefusedEarly(t *testing.T) {
	for _, max := range []int{0, 4096, 1 << 20} {
		g := &genReader{prefix: hdr + "<message><body>", limit: 10 << 20}
		d := NewDecoder(g, Limits{MaxElementBytes: max})
		if _, err := d.ReadHeader(); err != nil {
			t.Fatal(err)
		}
		_, err := d.Next()
		checkErr(t, err, "policy-violation", nil)
		limit := d.lim.MaxElementBytes
		if extra := g.read - len(hdr) - limit; extra > smallBuf {
			t.Errorf("limit %d: read %d bytes, %d more than header+limit", limit, g.read, extra)
		}
		if len(d.buf) > limit+minRead {
			t.Errorf("limit %d: buffer grew to %d", limit, len(d.buf))
		}
	}
}

func TestBufferShrinksAfterBigStanza(t *testing.T) {
	big := "<message><body>" + strings.Repeat("y", 100<<10) + "</body></message>"
	d := NewDecoder(strings.NewReader(hdr+big+"<presence/>"), Limits{})
	if _, err := d.ReadHeader(); err != nil {
		t.Fatal(err)
	}
	if len(d.buf) != smallBuf {
		t.Fatalf("initial buffer %d bytes, want %d", len(d.buf), smallBuf)
	}
	el, err := d.Next()
	if err != nil || len(el.Text()) != 0 || len(el.ChildText("", "body")) != 100<<10 {
		t.Fatalf("big stanza: %v", err)
	}
	if len(d.buf) != smallBuf {
		t.Fatalf("buffer is %d bytes after a big stanza, want %d", len(d.buf), smallBuf)
	}
	if el, err := d.Next(); err != nil || el.Local != "presence" {
		t.Fatalf("after the big stanza: %v %v", el, err)
	}
}

func TestRestartWithPipelinedBytes(t *testing.T) {
	in := hdr + `<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>` +
		`<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='example.net' version='1.0'>` +
		`<iq type='set' id='b'/>`
	for _, r := range []io.Reader{strings.NewReader(in), newChunkReader(in, 1, 5)} {
		d := NewDecoder(r, Limits{})
		if _, err := d.ReadHeader(); err != nil {
			t.Fatal(err)
		}
		el, err := d.Next()
		if err != nil || el.Local != "auth" {
			t.Fatalf("auth: %v %v", el, err)
		}
		before := d.InputOffset()
		d.Restart()
		if _, err := d.Next(); err != errState {
			t.Fatalf("Next before ReadHeader: %v", err)
		}
		h, err := d.ReadHeader()
		if err != nil || h.To != "example.net" {
			t.Fatalf("second header %+v: %v", h, err)
		}
		el, err = d.Next()
		if err != nil || el.Local != "iq" || el.Space != stanza.NSClient {
			t.Fatalf("iq: %v %v", el, err)
		}
		if d.InputOffset() != int64(len(in)) || before >= d.InputOffset() {
			t.Fatalf("InputOffset %d (was %d), want %d", d.InputOffset(), before, len(in))
		}
	}
}

func TestRestartWithBufferedBytes(t *testing.T) {
	in := hdr + `<success/>` + `<stream:stream xmlns:stream='http://etherx.jabber.org/streams'>`
	d := NewDecoder(strings.NewReader(in), Limits{})
	if _, err := d.ReadHeader(); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Next(); err != nil {
		t.Fatal(err)
	}
	if d.Buffered() == 0 {
		t.Fatal("expected the new header to be buffered already")
	}
	d.Restart()
	if _, err := d.ReadHeader(); err != nil {
		t.Fatal(err)
	}
	if d.Buffered() != 0 {
		t.Fatalf("Buffered = %d after reading everything", d.Buffered())
	}
}

func TestReset(t *testing.T) {
	d := NewDecoder(strings.NewReader(hdr+`<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/><message>injected`), Limits{})
	if _, err := d.ReadHeader(); err != nil {
		t.Fatal(err)
	}
	if el, err := d.Next(); err != nil || el.Local != "starttls" {
		t.Fatalf("starttls: %v %v", el, err)
	}
	d.Reset(strings.NewReader(hdr + `<presence/>`))
	if d.Buffered() != 0 {
		t.Fatal("Reset must discard buffered bytes")
	}
	if _, err := d.ReadHeader(); err != nil {
		t.Fatal(err)
	}
	el, err := d.Next()
	if err != nil || el.Local != "presence" {
		t.Fatalf("after Reset: %v %v", el, err)
	}
	if _, err := d.Next(); err != io.EOF {
		t.Fatalf("end: %v", err)
	}
}

// timeoutReader fails once with a timeout after giving part of the input.
type timeoutReader struct {
	parts []string
}

type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

func (r *timeoutReader) Read(p []byte) (int, error) {
	if len(r.parts) == 0 {
		return 0, io.EOF
	}
	part := r.parts[0]
	r.parts = r.parts[1:]
	if part == "" {
		return 0, timeoutError{}
	}
	return copy(p, part), nil
}

func TestReaderErrorsAreReturnedAndNotSticky(t *testing.T) {
	r := &timeoutReader{parts: []string{hdr, "", "<message><bo", "", "dy>hi</body></message>"}}
	d := NewDecoder(r, Limits{})
	if _, err := d.ReadHeader(); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := d.Next(); err != (timeoutError{}) {
			t.Fatalf("want the reader's timeout error as is, got %v", err)
		}
	}
	el, err := d.Next()
	if err != nil || el.ChildText("", "body") != "hi" {
		t.Fatalf("after timeouts: %v %v", el, err)
	}
}

func TestCallsOutOfOrder(t *testing.T) {
	d := NewDecoder(strings.NewReader(hdr), Limits{})
	if _, err := d.Next(); err != errState {
		t.Fatalf("Next before ReadHeader: %v", err)
	}
	if _, err := d.ReadHeader(); err != nil {
		t.Fatal(err)
	}
	if _, err := d.ReadHeader(); err != errState {
		t.Fatalf("second ReadHeader: %v", err)
	}
}

func TestElementsDoNotAlias(t *testing.T) {
	d := NewDecoder(strings.NewReader(hdr+`<m a='1'><b/>x</m><m a='2'><b/>y</m>`), Limits{})
	if _, err := d.ReadHeader(); err != nil {
		t.Fatal(err)
	}
	m1, _ := d.Next()
	m2, _ := d.Next()
	m1.SetAttr("z", "3") // must not write into m2's attributes
	m1.Append(stanza.New("", "c"))
	if dump(m2) != `{jabber:client}m a="2" [{jabber:client}b "y"]` {
		t.Fatalf("second element changed: %s", dump(m2))
	}
	if m1.Children[0].El.Attrs != nil || cap(m1.Attrs) < 2 {
		t.Fatalf("unexpected slices: %s", dump(m1))
	}
}

// linearPatterns are hostile inputs whose cost must grow in proportion to
// their size (a rescan of the buffer per byte would make it quadratic).
var linearPatterns = map[string]func(n int) string{
	"empty elements":  func(n int) string { return strings.Repeat("<a/>", n/4) },
	"keepalives":      func(n int) string { return strings.Repeat(" ", n) },
	"attributes":      func(n int) string { return strings.Repeat("<a a='1' b='2' c='3'/>", n/22) },
	"text and CDATA":  func(n int) string { return strings.Repeat("<m>x<![CDATA[y]]>&amp;z</m>", n/29) },
	"unclosed value":  func(n int) string { return "<m a='" + strings.Repeat("x", n) },
	"unclosed CDATA":  func(n int) string { return "<m><![CDATA[" + strings.Repeat("]>", n/2) },
	"small stanzas":   func(n int) string { return strings.Repeat(benchStanzas[0].xml, n/len(benchStanzas[0].xml)) },
	"namespace scope": func(n int) string { return strings.Repeat("<a xmlns:p='urn:x'><p:b/><c xmlns='urn:y'/></a>", n/46) },
}

// decodeToEnd reads in to its end, in reads of 1 to 64 bytes.
func decodeToEnd(t testing.TB, in string) {
	d := NewDecoder(newChunkReader(in, 1, 64), Limits{MaxElementBytes: 64 << 10})
	if _, err := d.ReadHeader(); err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := d.Next(); err != nil {
			return
		}
	}
}

// TestLinearWork checks that hostile inputs cost work in proportion to
// their size: the bytes the decoder allocates for 1 MiB of each pattern are
// at most 16 times (plus a constant) those for 64 KiB, a count that does
// not depend on the machine's speed. BenchmarkDecodeScaling reports the
// time per byte at both sizes.
func TestLinearWork(t *testing.T) {
	allocated := func(in string) uint64 {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		decodeToEnd(t, in)
		runtime.ReadMemStats(&after)
		return after.TotalAlloc - before.TotalAlloc
	}
	for name, gen := range linearPatterns {
		small, large := allocated(hdr+gen(64<<10)), allocated(hdr+gen(1<<20))
		t.Logf("%s: 64 KiB allocated %d bytes, 1 MiB %d", name, small, large)
		if large > 16*small+1<<20 {
			t.Errorf("%s: 64 KiB allocated %d bytes, 1 MiB %d: not linear", name, small, large)
		}
	}
}

// BenchmarkDecodeScaling decodes each hostile pattern at 64 KiB and 1 MiB:
// the ns per byte (b.SetBytes) of both sizes should be about equal.
func BenchmarkDecodeScaling(b *testing.B) {
	for name, gen := range linearPatterns {
		for _, size := range []int{64 << 10, 1 << 20} {
			in := hdr + gen(size)
			b.Run(fmt.Sprintf("%s/%dKiB", name, size>>10), func(b *testing.B) {
				b.SetBytes(int64(len(in)))
				for b.Loop() {
					decodeToEnd(b, in)
				}
			})
		}
	}
}

// sharedReader reads a string shared by all readers, so that measuring
// decoders does not count their input.
type sharedReader struct {
	s   *string
	off int
}

func (r *sharedReader) Read(p []byte) (int, error) {
	if r.off >= len(*r.s) {
		return 0, timeoutError{} // like an idle connection's read deadline
	}
	n := copy(p, (*r.s)[r.off:])
	r.off += n
	return n, nil
}

// TestIdleMemory checks what a decoder keeps while its connection is idle,
// after a session that included a big stanza.
func TestIdleMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("measures the heap")
	}
	session := hdr + benchStanzas[0].xml + benchStanzas[2].xml +
		"<message><body>" + strings.Repeat("z", 100<<10) + "</body></message>" + benchStanzas[1].xml
	const n = 200
	decoders := make([]*Decoder, n)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range decoders {
		d := NewDecoder(&sharedReader{s: &session}, Limits{})
		if _, err := d.ReadHeader(); err != nil {
			t.Fatal(err)
		}
		for {
			if _, err := d.Next(); err != nil {
				if err != (timeoutError{}) {
					t.Fatal(err)
				}
				break
			}
		}
		decoders[i] = d
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	per := (int64(after.HeapAlloc) - int64(before.HeapAlloc)) / n
	t.Logf("idle decoder: %d bytes", per)
	if per > 3<<10 {
		t.Errorf("an idle decoder keeps %d bytes, want at most 3 KiB", per)
	}
	runtime.KeepAlive(decoders)
}

// TestRelease: a decoder gives its buffer back only when nothing is
// buffered, keeps a partial element across a release attempt, and reads on
// after a release as if nothing happened.
func TestRelease(t *testing.T) {
	pr, pw := io.Pipe()
	d := NewDecoder(pr, Limits{})
	if !d.Release() {
		t.Fatal("a new decoder has nothing buffered: Release must succeed")
	}
	go pw.Write([]byte(hdr + "<message><body>one</body></message>"))
	if _, err := d.ReadHeader(); err != nil {
		t.Fatal(err)
	}
	el, err := d.Next()
	if err != nil || el.ChildText("", "body") != "one" {
		t.Fatalf("first element: %v %v", el, err)
	}
	if !d.Release() || d.buf != nil {
		t.Fatal("nothing buffered after the element: Release must drop the buffer")
	}
	// Two elements in one read: the second stays buffered, so no release.
	go pw.Write([]byte("<message><body>two</body></message><message><body>three</body>"))
	if el, err = d.Next(); err != nil || el.ChildText("", "body") != "two" {
		t.Fatalf("second element: %v %v", el, err)
	}
	if d.Release() {
		t.Fatal("Release dropped buffered bytes of the next element")
	}
	go pw.Write([]byte("</message>"))
	if el, err = d.Next(); err != nil || el.ChildText("", "body") != "three" {
		t.Fatalf("third element across the failed release: %v %v", el, err)
	}
	pw.Close()
	if _, err := d.Next(); err != io.EOF {
		t.Fatalf("after the end: %v, want io.EOF", err)
	}
}

// TestBufferedSpace: what is left in the buffer after <starttls/> is
// reported as white space only when it is.
func TestBufferedSpace(t *testing.T) {
	for _, c := range []struct {
		tail string
		want bool
	}{
		{"", true},
		{"\n", true},
		{" \r\n\t", true},
		{"\n<message/>", false},
		{"x", false},
		{"\n\x00", false},
		{"\u00a0", false}, // not XML white space
	} {
		d := NewDecoder(strings.NewReader(hdr+`<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>`+c.tail), Limits{})
		if _, err := d.ReadHeader(); err != nil {
			t.Fatal(err)
		}
		if _, err := d.Next(); err != nil {
			t.Fatal(err)
		}
		if got := d.BufferedSpace(); got != c.want {
			t.Errorf("tail %q: BufferedSpace = %v, want %v (buffered %d)", c.tail, got, c.want, d.Buffered())
		}
	}
}
