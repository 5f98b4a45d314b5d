// Package lastactivity implements XEP-0012: Last Activity. Addressed to the
// server it answers the server's uptime in seconds; the per-user form
// (time since a contact's last logout) comes with the presence work.
package lastactivity

import (
	"context"
	"strconv"
	"time"

	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/stanza"
)

// NS is the XML namespace of XEP-0012.
const NS = "jabber:iq:last"

// Module answers last-activity queries addressed to the server.
type Module struct {
	Started time.Time
}

// Register declares the handler and the disco feature.
func (m *Module) Register(reg *module.Registry) {
	reg.Feature(NS)
	reg.IQ(module.Server, stanza.Get, NS, "query", m.uptime)
}

func (m *Module) uptime(context.Context, stanza.IQ) (*stanza.Element, error) {
	secs := int64(time.Since(m.Started) / time.Second)
	return stanza.New(NS, "query").SetAttr("seconds", strconv.FormatInt(secs, 10)), nil
}

var _ module.Registrar = (*Module)(nil)
