package stanza

import (
	"encoding/xml"
	"strings"
	"testing"

	"github.com/parleyim/parley/internal/jid"
)

func TestAppendXML(t *testing.T) {
	cases := []struct {
		name   string
		el     *Element
		parent string
		want   string
	}{
		{"empty in parent ns", New(NSClient, "presence"), NSClient, `<presence/>`},
		{"namespace declared when it changes", New("urn:a", "x"), NSClient, `<x xmlns="urn:a"/>`},
		{"text escaped", New(NSClient, "body").AppendText(`a<b>&"c'`), NSClient, `<body>a&lt;b&gt;&amp;"c'</body>`},
		{"attribute escaped", New(NSClient, "m").SetAttr("id", `a"b'<&`+"\t\n"), NSClient, `<m id="a&quot;b&apos;&lt;&amp;&#9;&#10;"/>`},
		{"xml:lang", &Element{Space: NSClient, Local: "m", Attrs: []Attr{{Space: NSXML, Local: "lang", Value: "en"}}}, NSClient, `<m xml:lang="en"/>`},
		{"foreign attribute namespace", &Element{Space: NSClient, Local: "m", Attrs: []Attr{{Space: "urn:p", Local: "a", Value: "v"}}}, NSClient, `<m xmlns:a1="urn:p" a1:a="v"/>`},
		{"children inherit", New(NSClient, "iq").Append(New("urn:q", "q").Append(New("urn:q", "item"))), NSClient, `<iq><q xmlns="urn:q"><item/></q></iq>`},
		{"invalid UTF-8 replaced", New(NSClient, "b").AppendText("a\xffb"), NSClient, "<b>a\uFFFDb</b>"},
		{"control character replaced", New(NSClient, "b").AppendText("a\x01b"), NSClient, "<b>a\uFFFDb</b>"},
		{"CR preserved as reference", New(NSClient, "b").AppendText("a\rb"), NSClient, "<b>a&#13;b</b>"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := string(tc.el.AppendXML(nil, tc.parent))
			if got != tc.want {
				t.Fatalf("got  %s\nwant %s", got, tc.want)
			}
			// Whatever we write must be well-formed XML.
			d := xml.NewDecoder(strings.NewReader(got))
			for {
				if _, err := d.Token(); err != nil {
					if err.Error() == "EOF" {
						break
					}
					t.Fatalf("not well-formed: %v", err)
				}
			}
		})
	}
}

func TestElementHelpers(t *testing.T) {
	el := New(NSClient, "message").SetAttr("to", "a@b").SetAttr("to", "c@d")
	if el.Attr("to") != "c@d" || len(el.Attrs) != 1 {
		t.Fatalf("SetAttr did not replace: %v", el.Attrs)
	}
	el.Append(New("urn:x", "a"), New("urn:y", "b"), New("urn:x", "c"))
	cp := el.Copy()
	if n := el.RemoveChildren(func(c *Element) bool { return c.Space == "urn:x" }); n != 2 {
		t.Fatalf("removed %d", n)
	}
	if el.Child("urn:y", "b") == nil || el.Child("urn:x", "a") != nil {
		t.Fatal("wrong children left")
	}
	if len(cp.ChildElements()) != 3 {
		t.Fatal("Copy shares children with the original")
	}
	el.RemoveAttr("to")
	if el.HasAttr("to") {
		t.Fatal("RemoveAttr")
	}
}

func TestErrorReply(t *testing.T) {
	req := New(NSClient, "iq").SetAttr("type", "get").SetAttr("id", "x1").Append(New("urn:q", "query"))
	e := NewError(ItemNotFound)
	e.Text = "no such node"
	r := ErrorReply(req, e, jid.MustParse("localhost"), jid.MustParse("a@localhost/r"))
	got := r.String()
	for _, want := range []string{`id="x1"`, `type="error"`, `from="localhost"`, `to="a@localhost/r"`, `<error type="cancel"><item-not-found xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/>`, `no such node`} {
		if !strings.Contains(got, want) {
			t.Errorf("reply lacks %s: %s", want, got)
		}
	}
	parsed := ParseError(r)
	if parsed == nil || parsed.Condition != ItemNotFound || parsed.Type != Cancel || parsed.Text != "no such node" {
		t.Fatalf("ParseError = %+v", parsed)
	}
	if DefaultType(BadRequest) != Modify || DefaultType(NotAuthorized) != Auth || DefaultType(ResourceConstraint) != Wait {
		t.Fatal("DefaultType")
	}
}

func BenchmarkAppendXMLChat(b *testing.B) {
	el := New(NSClient, "message").SetAttr("to", "bob@localhost/laptop").SetAttr("type", "chat").
		SetAttr("id", "a1b2c3d4").SetAttr("from", "alice@localhost/phone").
		Append(New(NSClient, "body").AppendText("Hello Bob, how are you today?"))
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		buf = el.AppendXML(buf[:0], NSClient)
	}
}

// AppendAttr writes an attribute in single quotes with its value escaped,
// and nothing for an empty value.
func TestAppendAttr(t *testing.T) {
	b := AppendAttr([]byte("<open"), "id", `a'b<c&"d`)
	b = AppendAttr(b, "to", "")
	if got, want := string(b), `<open id='a&apos;b&lt;c&amp;&quot;d'`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

// NumChildElements counts child elements, not text.
func TestNumChildElements(t *testing.T) {
	e := New("ns", "p").AppendText("a").Append(New("ns", "x")).AppendText("b").Append(New("ns", "y"))
	if n := e.NumChildElements(); n != 2 || n != len(e.ChildElements()) {
		t.Errorf("NumChildElements = %d, want 2", n)
	}
	if n := New("ns", "empty").AppendText("only text").NumChildElements(); n != 0 {
		t.Errorf("text only: %d, want 0", n)
	}
}
