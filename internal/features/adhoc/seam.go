package adhoc

import (
	"context"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/stanza"
)

// Command is one ad-hoc command another feature adds with Module.Add.
type Command struct {
	// Node is the command's node (a URI); Name is shown to users.
	Node, Name string
	// AdminOnly commands are listed to, and run by, admins only.
	AdminOnly bool
	// Form returns the form of the command's one stage (a jabber:x:data
	// form of type "form"), or nil to run Submit at once without one.
	Form func(ctx context.Context, from jid.JID) *stanza.Element
	// Submit runs the command with the submitted fields (var → values) on
	// the served domain it was addressed to. A *stanza.Error is answered
	// as such (the session stays open for another submission).
	Submit func(ctx context.Context, from jid.JID, domain string, fields map[string][]string) (Result, error)
}

// Result is what a completed command answers: a note (type info,
// warn or error) and/or a result form.
type Result struct {
	Note     string
	NoteType string // "" is info
	Form     *stanza.Element
}

// Commands is what a feature adding commands needs of this package.
type Commands interface {
	Add(c Command)
}
