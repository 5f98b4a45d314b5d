package muc

import (
	"context"

	"github.com/parleyim/parley/internal/stanza"
)

// keep records a groupchat message the room broadcast: in the history
// cache (r.mu held).
func (r *room) keep(_ context.Context, m *stanza.Element, _ *occupant) {
	r.hist.add(m, stampNow())
}

// history returns the messages a new occupant asked for (r.mu held).
func (r *room) history(_ context.Context, l limits) []entry {
	return r.hist.pick(l)
}
