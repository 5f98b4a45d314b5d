package c2s

import (
	"strings"
	"testing"
)

// TestEachElementQualified: our serialised output is cut into its
// top-level elements, each with its namespace declared where the session
// left it implied.
func TestEachElementQualified(t *testing.T) {
	in := "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>" +
		"<message to='a@b' type='chat'><body>x &gt; y &lt;z/&gt;</body><x xmlns='q' v='a>b'/></message>" +
		"<r xmlns='urn:xmpp:sm:3'/>" +
		"<presence from=\"a@b/c\"/>" +
		"<stream:error xmlns:stream='http://etherx.jabber.org/streams'><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>"
	want := []string{
		"<stream:features xmlns:stream='http://etherx.jabber.org/streams'><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>",
		"<message xmlns='jabber:client' to='a@b' type='chat'><body>x &gt; y &lt;z/&gt;</body><x xmlns='q' v='a>b'/></message>",
		"<r xmlns='urn:xmpp:sm:3'/>",
		"<presence xmlns='jabber:client' from=\"a@b/c\"/>",
		"<stream:error xmlns:stream='http://etherx.jabber.org/streams'><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>",
	}
	var got []string
	rest := eachElement([]byte(in), func(el []byte) { got = append(got, string(appendQualified(nil, el, false))) })
	if len(rest) != 0 {
		t.Errorf("left over: %q", rest)
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Inside a BOSH body the stream prefix is declared already.
	if q := string(appendQualified(nil, []byte("<stream:features/>"), true)); q != "<stream:features/>" {
		t.Errorf("BOSH: %q", q)
	}
}

func BenchmarkWebSocketFraming(b *testing.B) {
	msg := []byte(strings.Repeat("<message to='bob@localhost/r' from='alice@localhost/r' type='chat' id='abc'><body>hello there</body></message>", 8))
	out := make([]byte, 0, 4096)
	el := make([]byte, 0, 512)
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		out = out[:0]
		eachElement(msg, func(e []byte) {
			el = appendQualified(el[:0], e, false)
			out = appendFrame(out, wsText, el)
		})
	}
}
