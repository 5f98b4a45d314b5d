package jid

import "testing"

var sinkJID JID
var sinkString string

func BenchmarkParse(b *testing.B) {
	for _, c := range []struct{ name, in string }{
		{"ascii-normalised", "bob@localhost/phone"},
		{"ascii-upper", "Bob@LocalHost/phone"},
		{"non-ascii", "Ĵuliet@bücher.example/Bälcony"},
		{"idna-a-label", "juliet@xn--bcher-kva.example/balcony"},
		{"ipv6", "bob@[2001:db8::1]/phone"},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				j, err := Parse(c.in)
				if err != nil {
					b.Fatal(err)
				}
				sinkJID = j
			}
		})
	}
}

func BenchmarkString(b *testing.B) {
	for _, c := range []struct{ name, in string }{
		{"full", "bob@localhost/phone"},
		{"bare", "bob@localhost"},
		{"domain", "localhost"},
	} {
		j := MustParse(c.in)
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sinkString = j.String()
			}
		})
	}
}
