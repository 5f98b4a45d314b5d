package xmlstream

import (
	"encoding/xml"
	"io"
	"strings"
	"testing"

	"github.com/parleyim/parley/internal/stanza"
)

// stdTrees decodes the top-level children of a stream with encoding/xml
// (strict mode) and builds stanza trees from its tokens, as an independent
// reference.
func stdTrees(in string) ([]*stanza.Element, error) {
	d := xml.NewDecoder(strings.NewReader(in))
	d.Strict = true
	var out []*stanza.Element
	var stack []*stanza.Element // open elements below the stream
	depth := 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth == 1 {
				continue // the stream header
			}
			el := stdElement(t)
			if len(stack) > 0 {
				stack[len(stack)-1].Append(el)
			}
			stack = append(stack, el)
		case xml.EndElement:
			depth--
			if depth == 0 {
				continue
			}
			if len(stack) == 1 {
				out = append(out, stack[0])
			}
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				appendMerged(stack[len(stack)-1], string(t))
			}
		}
	}
}

func stdElement(t xml.StartElement) *stanza.Element {
	el := stanza.New(t.Name.Space, t.Name.Local)
	for _, a := range t.Attr {
		if a.Name.Space == "xmlns" || a.Name.Space == "" && a.Name.Local == "xmlns" {
			continue // declarations are not attributes in stanza trees
		}
		el.Attrs = append(el.Attrs, stanza.Attr{Space: a.Name.Space, Local: a.Name.Local, Value: a.Value})
	}
	return el
}

// appendMerged adds text, merging it with a preceding text node.
func appendMerged(el *stanza.Element, s string) {
	if n := len(el.Children); n > 0 && el.Children[n-1].El == nil {
		el.Children[n-1].Text += s
		return
	}
	el.AppendText(s)
}

// A stream header without XML declaration: encoding/xml reports the
// declaration as a ProcInst, which is harmless, but keep it simple.
const stdHdr = `<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>`

func TestAgreesWithEncodingXML(t *testing.T) {
	valid := []string{
		`<message to='bob@localhost/res' type='chat' id='abc123'><body>hello world</body></message>`,
		`<presence><show>away</show><status>out &amp; about</status><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='n' ver='v'/></presence>`,
		`<iq type='result' id='d1'><query xmlns='http://jabber.org/protocol/disco#info'><identity category='server' type='im'/><feature var='urn:xmpp:ping'/></query></iq>`,
		`<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>`,
		`<foo:x xmlns:foo='urn:a' xmlns:b='urn:b' b:k='1' k='2'><foo:y foo:z='3'/><z/></foo:x>`,
		`<a xmlns:p='urn:1'><p:b xmlns:p='urn:2'><p:c/></p:b><p:d/></a>`,
		`<m xml:lang='en'>&lt;&gt;&amp;&quot;&apos;&#65;&#x42;&#x1F600;</m>`,
		`<m>a<![CDATA[<b>&amp;]]>c</m>`,
		"<p>one<b>two</b>three<i/> four\r\nfive\rsix</p>",
		`<m a="it's" b='say "hi"' c='a>b' d='&lt;&#65;'>x > y</m>`,
		`<café xmlns='urn:ü' ñ='ö'>日本語</café>`,
		`<m><b xmlns=''><c/></b></m>`,
		"<m id = '1'\n type\t=\"x\" ></m\n>",
	}
	for _, s := range valid {
		in := stdHdr + s + "</stream:stream>"
		want, err := stdTrees(in)
		if err != nil || len(want) != 1 {
			t.Fatalf("encoding/xml on %q: %v (%d elements)", s, err, len(want))
		}
		got := decodeAll(strings.NewReader(in), Limits{})
		if got.err != ErrStreamClosed || len(got.els) != 1 {
			t.Fatalf("%q: %v (%d elements)", s, got.err, len(got.els))
		}
		if !equalEl(want[0], got.els[0]) {
			t.Errorf("disagreement on %q\nencoding/xml %s\nxmlstream    %s", s, dump(want[0]), dump(got.els[0]))
		}
	}
}

// Both decoders must refuse these. (xmlstream is stricter than encoding/xml
// in many more ways: DTDs, comments, namespace rules, duplicate
// attributes...)
func TestAgreesWithEncodingXMLOnErrors(t *testing.T) {
	invalid := []string{
		`<message><body></message></body>`,
		`<message id=1/>`,
		`<message><body>&foo;</body></message>`,
		`<message to='a<b'/>`,
		"<message>\xff</message>",
		"<message>\x01</message>",
		`<message>&#0;</message>`,
		`<1m/>`,
		// encoding/xml accepts duplicate attributes and attributes not
		// separated by white space; TestHostileInput covers them.
	}
	for _, s := range invalid {
		in := stdHdr + s + "</stream:stream>"
		if _, err := stdTrees(in); err == nil {
			t.Errorf("encoding/xml accepts %q", s)
		}
		if got := decodeAll(strings.NewReader(in), Limits{}); got.err == ErrStreamClosed {
			t.Errorf("xmlstream accepts %q", s)
		}
	}
}
