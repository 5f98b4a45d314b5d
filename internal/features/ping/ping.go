// Package ping implements XEP-0199: XMPP Ping.
//
// It answers pings addressed to the server or to an account's bare JID.
// Client-to-client pings to a full JID are routed like any other iq and
// never reach this package; the server's own pings to idle clients are sent
// by c2s.
package ping

import (
	"context"

	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/stanza"
)

// NS is the XML namespace of XEP-0199.
const NS = "urn:xmpp:ping"

// Module answers ping requests.
type Module struct{}

// Register declares the ping handler and disco feature.
func (Module) Register(reg *module.Registry) {
	reg.Feature(NS)
	reg.IQ(module.Server|module.Account, stanza.Get, NS, "ping", handlePing)
}

func handlePing(context.Context, stanza.IQ) (*stanza.Element, error) {
	return nil, nil // an empty result; the router writes the single reply
}

var _ module.Registrar = Module{}
