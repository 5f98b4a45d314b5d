// Package version implements XEP-0092: Software Version: it answers
// queries addressed to the server, and (with AskClients) asks each client
// session once which software it runs, for the admin console's sessions
// page (clients.go).
package version

import (
	"context"
	"runtime"
	"time"

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
	// AskClients makes the server ask each client session that becomes
	// available, and has not named itself in a XEP-0388 <user-agent/>,
	// for its software version, recorded on the session
	// (module.ClientSoftware). AskTimeout (default DefaultAskTimeout) and
	// MaxPending (default DefaultMaxPending) bound the queries waiting for
	// an answer.
	AskClients bool
	AskTimeout time.Duration
	MaxPending int
}

// Register declares the handler and the disco feature.
func (m *Module) Register(reg *module.Registry) {
	reg.Feature(NS)
	reg.IQ(module.Server, stanza.Get, NS, "query", m.handle)
	if m.AskClients {
		a := newAsker(m.AskTimeout, m.MaxPending)
		reg.Hook(module.Available, 0, a.available)
		reg.Hook(module.InboundIQ, askHookPrio, a.inboundIQ)
	}
}

// askHookPrio runs the answer matching before other InboundIQ hooks
// (blocking): the answers are for the server.
const askHookPrio = 100

func (m *Module) handle(context.Context, stanza.IQ) (*stanza.Element, error) {
	q := stanza.New(NS, "query")
	q.Append(stanza.New(NS, "name").AppendText(m.Name), stanza.New(NS, "version").AppendText(m.Version))
	if !m.HideOS {
		q.Append(stanza.New(NS, "os").AppendText(runtime.GOOS + "/" + runtime.GOARCH))
	}
	return q, nil
}

var _ module.Registrar = (*Module)(nil)
