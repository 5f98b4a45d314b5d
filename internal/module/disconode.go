package module

import (
	"context"

	"github.com/parleyim/parley/internal/jid"
)

// DiscoNode is what disco#info and disco#items answer for a node of the
// server (XEP-0030 §3.2, §4.2), such as the ad-hoc command list
// (XEP-0050 §2.2) or one command.
type DiscoNode struct {
	Identities []Identity
	Features   []string
	Items      []DiscoItem
}

// NodeFunc describes node of the served domain to the requester from, or
// reports false for a node it does not own. It may answer differently per
// requester (commands are listed only to those who may run them).
type NodeFunc func(ctx context.Context, from jid.JID, domain, node string) (DiscoNode, bool)

// ServerNodes declares disco nodes of the server.
func (r *Registry) ServerNodes(f NodeFunc) {
	r.update(func(t *tables) { t.serverNodes = append(t.serverNodes, f) })
}

// Node returns the description of a node of the server, asking the
// declared NodeFuncs in registration order; false when none owns it.
func (r *Registry) Node(ctx context.Context, from jid.JID, domain, node string) (DiscoNode, bool) {
	for _, f := range r.tables().serverNodes {
		if n, ok := f(ctx, from, domain, node); ok {
			return n, true
		}
	}
	return DiscoNode{}, false
}
