// Package version implements XEP-0092: Software Version, for the server.
package version

import (
	"context"
	"runtime"

	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/stanza"
)

// NS is the XML namespace of XEP-0092.
const NS = "jabber:iq:version"

// Module answers software version queries addressed to the server.
type Module struct {
	Name, Version string
	// HideOS leaves the operating system out of the answer.
	HideOS bool
}

// Register declares the handler and the disco feature.
func (m *Module) Register(reg *module.Registry) {
	reg.Feature(NS)
	reg.IQ(module.Server, stanza.Get, NS, "query", m.handle)
}

func (m *Module) handle(context.Context, stanza.IQ) (*stanza.Element, error) {
	q := stanza.New(NS, "query")
	q.Append(stanza.New(NS, "name").AppendText(m.Name), stanza.New(NS, "version").AppendText(m.Version))
	if !m.HideOS {
		q.Append(stanza.New(NS, "os").AppendText(runtime.GOOS + "/" + runtime.GOARCH))
	}
	return q, nil
}

var _ module.Registrar = (*Module)(nil)
