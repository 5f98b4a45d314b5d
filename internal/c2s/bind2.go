package c2s

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/sasl"
	"github.com/parleyim/parley/internal/stanza"
)

// maxBindTag bounds XEP-0386's <tag/>, which names the client software in
// the resource.
const maxBindTag = 64

// reasonTooManySessions is the failure reason (log, metrics) of a Bind 2
// request past limits.max_sessions_per_user.
const reasonTooManySessions = "too-many-sessions"

// bind2Feature is Bind 2's entry in SASL2's <inline/>: the features that
// can be enabled inside the bind request, as modules registered them
// (module.Registry.Bind2Inline).
func (s *Session) bind2Feature() *stanza.Element {
	inline := stanza.New(NSBind2, "inline")
	for _, ns := range s.srv.router.Registry().Bind2Features() {
		inline.Append(stanza.New(NSBind2, "feature").SetAttr("var", ns))
	}
	if s.srv.cfg.SM.Enabled {
		inline.Append(stanza.New(NSBind2, "feature").SetAttr("var", NSSM))
	}
	return stanza.New(NSBind2, "bind").Append(inline)
}

// bindTag returns the request's <tag/>, checked: short, printable, no
// '/' (so the resource is "tag.id").
func bindTag(bind *stanza.Element) (string, error) {
	tag := bind.ChildText(NSBind2, "tag")
	switch {
	case len(tag) > maxBindTag:
		return "", errors.New("the bind tag is limited to 64 bytes")
	case !utf8.ValidString(tag) || strings.ContainsAny(tag, "/\x00") || printable(tag) != tag:
		return "", errors.New("the bind tag must be printable text without '/'")
	}
	return tag, nil
}

// bind2Resource is the resource for a Bind 2 request (XEP-0386 §"Resource
// binding"): the client's tag, then an identifier derived from the account
// and the user-agent id, so that the same installation always gets the
// same resource (and replaces its own stale session) while the id itself
// stays secret; without a user-agent id it is random.
func (s *Session) bind2Resource(tag, agentID string) string {
	var suffix string
	if agentID == "" {
		suffix = strings.TrimPrefix(randomResource(), "parley-")
	} else {
		h := sha256.New()
		h.Write([]byte("parley bind2\x00"))
		h.Write([]byte(s.user.String()))
		h.Write([]byte{0})
		h.Write([]byte(agentID))
		suffix = hex.EncodeToString(h.Sum(nil)[:6])
	}
	if tag == "" {
		return suffix
	}
	return tag + "." + suffix
}

// bind2Target is the full JID a Bind 2 request binds, or the failure
// that keeps the login from succeeding.
func (s *Session) bind2Target(st *sasl2State) (jid.JID, *sasl.Failure) {
	if s.tooManySessions() {
		return jid.JID{}, clientFailure(sasl.TemporaryAuthFailure, "too many sessions for this account", reasonTooManySessions)
	}
	tag, _ := bindTag(st.bind) // checked in parseAuthenticate
	full, err := s.user.WithResource(s.bind2Resource(tag, st.agent.id))
	if err != nil {
		return jid.JID{}, clientFailure(sasl.MalformedRequest, "the bind tag makes no valid resource", sasl.ReasonMalformed)
	}
	return full, nil
}

// bind2Inline runs the inline features the request names, for the session
// bound (not yet routable), and returns the <bound/> for the <success/>.
func (s *Session) bind2Inline(ctx context.Context, st *sasl2State) *stanza.Element {
	bound := stanza.New(NSBind2, "bound")
	reg := s.srv.router.Registry()
	for _, c := range st.bind.ChildElements() {
		if c.Space == NSBind2 || c.Space == NSSM {
			continue // <tag/>; stream management is c2s's own (queueBound)
		}
		h := reg.LookupBind2Inline(c.Space)
		if h == nil {
			s.srv.log.Debug("bind 2: no inline feature", "jid", s.fullStr, "ns", c.Space, "element", c.Local)
			continue
		}
		out, err := h(ctx, s, c)
		if err != nil {
			s.srv.log.Warn("bind 2: inline feature failed", "jid", s.fullStr, "ns", c.Space, "element", c.Local, "err", err)
			continue
		}
		if out != nil {
			bound.Append(out)
		}
	}
	return bound
}
