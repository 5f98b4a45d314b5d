package stream

import "github.com/parleyim/parley/internal/stanza"

// Features are what a receiving entity offers after its header (§4.3.2):
// the stream layer's own (STARTTLS, SASL mechanisms, binding) and those
// feature modules declare. An empty list tells the peer negotiation is
// over.
type Features []*stanza.Element

// AppendXML appends <stream:features/> with every feature to b, in the
// order they were listed (a mandatory-to-negotiate feature first), for a
// stream whose content namespace is contentNS.
func (fs Features) AppendXML(b []byte, contentNS string) []byte {
	b = append(b, "<stream:features>"...)
	for _, f := range fs {
		b = f.AppendXML(b, contentNS)
	}
	return append(b, "</stream:features>"...)
}
