package module

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/parleyim/parley/internal/stanza"
)

// PreAuth describes a client stream that has not authenticated yet.
type PreAuth struct {
	Domain string     // the served domain the stream is for
	Addr   netip.Addr // the client's IP address
	TLS    bool       // the stream is encrypted
}

// PreAuthIQHandler answers an iq get or set that a client sends before
// authenticating (XEP-0077 registration is the only use). Like an
// IQHandler it returns the result payload or an error (a *stanza.Error
// becomes the error reply) and never writes the reply itself. iq.From and
// iq.To are zero: the client has no address yet.
type PreAuthIQHandler func(ctx context.Context, p PreAuth, iq stanza.IQ) (*stanza.Element, error)

// PreAuthIQ registers h for iqs of type typ (stanza.Get or stanza.Set)
// with payload {space}local sent before authentication. c2s accepts no
// other stanza before authentication. A duplicate registration panics.
func (r *Registry) PreAuthIQ(typ, space, local string, h PreAuthIQHandler) {
	k := iqKey{typ, space, local}
	r.update(func(t *tables) {
		if _, dup := t.preAuthIQ[k]; dup {
			panic(fmt.Sprintf("module: duplicate pre-auth iq handler for %s {%s}%s", typ, space, local))
		}
		t.preAuthIQ[k] = h
	})
}

// LookupPreAuthIQ returns the pre-authentication handler for an iq, or nil.
func (r *Registry) LookupPreAuthIQ(typ, space, local string) PreAuthIQHandler {
	return r.tables().preAuthIQ[iqKey{typ, space, local}]
}

// PreAuthFeature declares an element offered in <stream:features/> before
// authentication, once TLS is established or not required. f may return
// nil to offer nothing on that stream.
func (r *Registry) PreAuthFeature(f func(p PreAuth) *stanza.Element) {
	r.update(func(t *tables) { t.preAuthFeatures = append(t.preAuthFeatures, f) })
}

// PreAuthFeatures returns the pre-authentication stream features for p.
func (r *Registry) PreAuthFeatures(p PreAuth) []*stanza.Element {
	var out []*stanza.Element
	for _, f := range r.tables().preAuthFeatures {
		if el := f(p); el != nil {
			out = append(out, el)
		}
	}
	return out
}
