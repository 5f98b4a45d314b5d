package module

import (
	"context"
	"fmt"
	"slices"

	"github.com/parleyim/parley/internal/stanza"
)

// Bind2Handler enables a feature inline in an XEP-0386 Bind 2 request, for
// the session c that the request has just bound: el is the request's
// child in the feature's namespace (carbons' <enable/>, CSI's
// <inactive/>). It returns an element for the <bound/> of the login's
// <success/> (nil for none). It runs on the session's goroutine once the
// session has its full JID, before its <success/> is queued and before the
// router can reach it: it must not deliver to c itself (the client must
// see <success/> first); what the feature delivers to c later goes out
// after the <success/>. An error is logged and the feature left off; the
// login still succeeds (the client can enable the feature the ordinary
// way). (Stream management, which lives in c2s, is handled there.)
type Bind2Handler func(ctx context.Context, c Conn, el *stanza.Element) (*stanza.Element, error)

// Bind2Inline registers h for Bind 2 requests' children in namespace ns,
// and advertises ns as an inline feature of Bind 2 (<feature var=ns/>). A
// duplicate registration panics (a wiring bug).
func (r *Registry) Bind2Inline(ns string, h Bind2Handler) {
	r.update(func(t *tables) {
		if _, dup := t.bind2[ns]; dup {
			panic(fmt.Sprintf("module: duplicate Bind 2 inline handler for %s", ns))
		}
		if t.bind2 == nil {
			t.bind2 = map[string]Bind2Handler{}
		}
		t.bind2[ns] = h
	})
}

// LookupBind2Inline returns the Bind 2 inline handler of namespace ns, or
// nil.
func (r *Registry) LookupBind2Inline(ns string) Bind2Handler {
	return r.tables().bind2[ns]
}

// Bind2Features returns the namespaces of the Bind 2 inline features,
// sorted.
func (r *Registry) Bind2Features() []string {
	t := r.tables()
	out := make([]string, 0, len(t.bind2))
	for ns := range t.bind2 {
		out = append(out, ns)
	}
	slices.Sort(out)
	return out
}
