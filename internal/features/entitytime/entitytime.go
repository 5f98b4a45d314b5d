// Package entitytime implements XEP-0202: Entity Time, for the server.
package entitytime

import (
	"context"
	"time"

	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/stanza"
)

// NS is the XML namespace of XEP-0202.
const NS = "urn:xmpp:time"

// Module answers time queries addressed to the server.
type Module struct {
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Register declares the handler and the disco feature.
func (m *Module) Register(reg *module.Registry) {
	reg.Feature(NS)
	reg.IQ(module.Server, stanza.Get, NS, "time", m.handle)
}

func (m *Module) handle(context.Context, stanza.IQ) (*stanza.Element, error) {
	now := time.Now
	if m.Now != nil {
		now = m.Now
	}
	t := now()
	return Element(t), nil
}

// Element renders t as a XEP-0202 <time/> payload.
func Element(t time.Time) *stanza.Element {
	return stanza.New(NS, "time").Append(
		stanza.New(NS, "tzo").AppendText(t.Format("-07:00")),
		stanza.New(NS, "utc").AppendText(t.UTC().Format("2006-01-02T15:04:05.000Z")),
	)
}

var _ module.Registrar = (*Module)(nil)
