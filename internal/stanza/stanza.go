package stanza

import (
	"github.com/parleyim/parley/internal/jid"
)

// Stanza kinds: the local names of the three top-level stanzas.
const (
	KindMessage  = "message"
	KindPresence = "presence"
	KindIQ       = "iq"
)

// IQ types.
const (
	Get       = "get"
	Set       = "set"
	Result    = "result"
	TypeError = "error"
)

// Message types (RFC 6121 §5.2.2); an absent type means MsgNormal.
const (
	MsgNormal    = "normal"
	MsgChat      = "chat"
	MsgGroupchat = "groupchat"
	MsgHeadline  = "headline"
	MsgError     = "error"
)

// IsStanza reports whether el is a message, presence or iq in the given
// content namespace (jabber:client or jabber:server).
func IsStanza(el *Element) bool {
	if el.Space != NSClient && el.Space != NSServer {
		return false
	}
	switch el.Local {
	case KindMessage, KindPresence, KindIQ:
		return true
	}
	return false
}

// IQ is a parsed view of an iq stanza handed to handlers.
type IQ struct {
	El      *Element // the whole stanza
	ID      string
	Type    string // get, set, result, error
	From    jid.JID
	To      jid.JID
	Payload *Element // the single child of a get/set, nil for result/error
}

// ReplyTo builds the reply skeleton for st: from/to swapped, same id, and
// the given type. from is the address the reply comes from (st's to, or the
// server's domain when st had no to).
func ReplyTo(st *Element, typ string, from, to jid.JID) *Element {
	r := New(st.Space, st.Local)
	r.Attrs = make([]Attr, 0, 4)
	if id := st.Attr("id"); id != "" {
		r.Attrs = append(r.Attrs, Attr{Local: "id", Value: id})
	}
	r.Attrs = append(r.Attrs, Attr{Local: "type", Value: typ})
	if !from.IsZero() {
		r.Attrs = append(r.Attrs, Attr{Local: "from", Value: from.String()})
	}
	if !to.IsZero() {
		r.Attrs = append(r.Attrs, Attr{Local: "to", Value: to.String()})
	}
	return r
}

// ErrorReply builds the error reply to st (RFC 6120 §8.3.1): the original
// payload may be included; the reply swaps addresses and carries err.
func ErrorReply(st *Element, err *Error, from, to jid.JID) *Element {
	r := ReplyTo(st, TypeError, from, to)
	if st.Local == KindIQ {
		if p := st.FirstChild(); p != nil && st.Attr("type") != TypeError {
			r.Append(p)
		}
	}
	return r.Append(err.ElementIn(st.Space))
}

// IQResult builds the result reply to iq with an optional payload.
func IQResult(iq *Element, payload *Element, from, to jid.JID) *Element {
	r := ReplyTo(iq, Result, from, to)
	if payload != nil {
		r.Append(payload)
	}
	return r
}
