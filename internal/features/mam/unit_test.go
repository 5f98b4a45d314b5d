package mam

import (
	"fmt"
	"slices"
	"testing"

	"github.com/parleyim/parley/internal/storage"
)

func TestTrimPage(t *testing.T) {
	mk := func(sizes ...int) storage.ArchivePage {
		var p storage.ArchivePage
		for i, n := range sizes {
			p.Messages = append(p.Messages, storage.ArchivedMessage{ID: fmt.Sprint(i), Data: make([]byte, n)})
		}
		p.Complete = true
		return p
	}
	ids := func(p storage.ArchivePage) []string {
		var out []string
		for _, m := range p.Messages {
			out = append(out, m.ID)
		}
		return out
	}
	for _, c := range []struct {
		name     string
		sizes    []int
		backward bool
		want     []string
		complete bool
	}{
		{"fits", []int{3, 3, 3}, false, []string{"0", "1", "2"}, true},
		{"forward keeps the oldest", []int{4, 4, 4}, false, []string{"0", "1"}, false},
		{"backward keeps the newest", []int{4, 4, 4}, true, []string{"1", "2"}, false},
		{"one message bigger than the limit still goes", []int{20, 1}, false, []string{"0"}, false},
		{"backward, big newest", []int{1, 20}, true, []string{"1"}, false},
	} {
		p := mk(c.sizes...)
		trimPage(&p, c.backward, 10)
		if got := ids(p); !slices.Equal(got, c.want) || p.Complete != c.complete {
			t.Errorf("%s: %q complete=%v, want %q %v", c.name, got, p.Complete, c.want, c.complete)
		}
	}
}

func TestArchivable(t *testing.T) {
	// Archivable is also covered end to end (TestWhatIsArchived); these
	// pin the namespaces' edges.
	for _, c := range []struct {
		xml  string
		want bool
	}{
		{`<message xmlns='jabber:client'><body>x</body></message>`, true},
		{`<message xmlns='jabber:server' type='chat'><body xmlns='jabber:server'>x</body></message>`, true},
		{`<message xmlns='jabber:client' type='groupchat'><body>x</body></message>`, false},
		{`<message xmlns='jabber:client' type='error'><body>x</body></message>`, false},
		{`<message xmlns='jabber:client'><body xmlns='urn:other'>x</body></message>`, false},
		{`<message xmlns='jabber:client'><acknowledged xmlns='urn:xmpp:chat-markers:0' id='a'/></message>`, true},
		{`<message xmlns='jabber:client'><store xmlns='urn:xmpp:hints'/><no-store xmlns='urn:xmpp:hints'/></message>`, false},
		{`<message xmlns='jabber:client'><request xmlns='urn:xmpp:receipts'/></message>`, false},
	} {
		var dec storage.ElementDecoder
		els, err := dec.Decode([]byte(c.xml))
		if err != nil {
			t.Fatal(err)
		}
		if got := Archivable(els[0]); got != c.want {
			t.Errorf("Archivable(%s) = %v", c.xml, got)
		}
	}
}
