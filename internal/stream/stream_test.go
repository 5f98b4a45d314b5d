package stream_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/stream"
	"github.com/parleyim/parley/internal/xmlstream"
)

// TestWrittenStreamParses: a header, features, an error with text that
// needs escaping and the close tag, as we write them, are read back by
// our own strict tokenizer with the same meaning.
func TestWrittenStreamParses(t *testing.T) {
	var b []byte
	b = stream.Header{ContentNS: stream.NSClient, ID: "abc", From: "example.org", To: "a@example.org/r'<"}.AppendXML(b)
	b = stream.Features{stanza.New("urn:ietf:params:xml:ns:xmpp-bind", "bind")}.AppendXML(b, stream.NSClient)
	b = stream.New(stream.PolicyViolation, "a <b> & 'c'").AppendXML(b)
	b = append(b, stream.Close...)
	dec := xmlstream.NewDecoder(strings.NewReader(string(b)), xmlstream.Limits{MaxElementBytes: 4096, MaxDepth: 8, MaxAttrs: 8})
	h, err := dec.ReadHeader()
	if err != nil {
		t.Fatalf("header: %v", err)
	}
	if h.Space != stream.NSClient || h.ID != "abc" || h.From != "example.org" || h.To != "a@example.org/r'<" || h.Version != "1.0" {
		t.Fatalf("header read back as %+v", h)
	}
	f, err := dec.Next()
	if err != nil || f.Space != stream.NSStream || f.Local != "features" || f.Child("urn:ietf:params:xml:ns:xmpp-bind", "bind") == nil {
		t.Fatalf("features: %v %+v", err, f)
	}
	e, err := dec.Next()
	if err != nil || e.Local != "error" || e.Child(stream.NSStreams, stream.PolicyViolation) == nil ||
		e.ChildText(stream.NSStreams, "text") != "a <b> & 'c'" {
		t.Fatalf("error: %v %+v", err, e)
	}
	if _, err := dec.Next(); !errors.Is(err, xmlstream.ErrStreamClosed) {
		t.Fatalf("after the error: %v, want the stream closed", err)
	}
}

func TestOpeningCheck(t *testing.T) {
	serves := func(d string) bool { return d == "example.org" }
	for _, tc := range []struct {
		name string
		o    stream.Opening
		cond string // "" for accepted
	}{
		{"good", stream.Opening{stream.NSClient, "example.org", "1.0"}, ""},
		{"minor version above ours", stream.Opening{stream.NSClient, "example.org", "1.5"}, ""},
		{"server namespace on a client stream", stream.Opening{stream.NSServer, "example.org", "1.0"}, stream.InvalidNamespace},
		{"no namespace", stream.Opening{"", "example.org", "1.0"}, stream.InvalidNamespace},
		{"no to", stream.Opening{stream.NSClient, "", "1.0"}, stream.HostUnknown},
		{"other domain", stream.Opening{stream.NSClient, "example.com", "1.0"}, stream.HostUnknown},
		{"to is a user", stream.Opening{stream.NSClient, "a@example.org", "1.0"}, stream.HostUnknown},
		{"no version", stream.Opening{stream.NSClient, "example.org", ""}, stream.UnsupportedVersion},
		{"version 2", stream.Opening{stream.NSClient, "example.org", "2.0"}, stream.UnsupportedVersion},
		{"version without a dot", stream.Opening{stream.NSClient, "example.org", "1"}, stream.UnsupportedVersion},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dom, err := tc.o.Check(stream.NSClient, serves)
			var se *stream.Error
			switch {
			case tc.cond == "" && (err != nil || dom != "example.org"):
				t.Fatalf("refused: %q %v", dom, err)
			case tc.cond != "" && (!errors.As(err, &se) || se.Condition != tc.cond):
				t.Fatalf("got %v, want %s", err, tc.cond)
			}
		})
	}
}
