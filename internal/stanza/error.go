package stanza

import "fmt"

// Error types (RFC 6120 §8.3.2).
const (
	Auth     = "auth"
	Cancel   = "cancel"
	Continue = "continue"
	Modify   = "modify"
	Wait     = "wait"
)

// Defined conditions (RFC 6120 §8.3.3).
const (
	BadRequest            = "bad-request"
	Conflict              = "conflict"
	FeatureNotImplemented = "feature-not-implemented"
	Forbidden             = "forbidden"
	Gone                  = "gone"
	InternalServerError   = "internal-server-error"
	ItemNotFound          = "item-not-found"
	JIDMalformed          = "jid-malformed"
	NotAcceptable         = "not-acceptable"
	NotAllowed            = "not-allowed"
	NotAuthorized         = "not-authorized"
	PolicyViolation       = "policy-violation"
	RecipientUnavailable  = "recipient-unavailable"
	Redirect              = "redirect"
	RegistrationRequired  = "registration-required"
	RemoteServerNotFound  = "remote-server-not-found"
	RemoteServerTimeout   = "remote-server-timeout"
	ResourceConstraint    = "resource-constraint"
	ServiceUnavailable    = "service-unavailable"
	SubscriptionRequired  = "subscription-required"
	UndefinedCondition    = "undefined-condition"
	UnexpectedRequest     = "unexpected-request"
)

// Error is a stanza error (RFC 6120 §8.3). It is an error value: handlers
// return it and the dispatcher turns it into an error reply.
type Error struct {
	Type      string // auth, cancel, continue, modify, wait
	Condition string // one of the defined conditions
	Text      string // optional human-readable text
	By        string // optional 'by' attribute
	// App is an optional application-specific condition element (RFC
	// 6120 §8.3.2), e.g. XEP-0191's <blocked/>.
	App *Element
}

// Errorf returns an Error with a formatted text.
func Errorf(typ, condition, format string, args ...any) *Error {
	return &Error{Type: typ, Condition: condition, Text: fmt.Sprintf(format, args...)}
}

// NewError returns an Error with the type RFC 6120 suggests for condition.
func NewError(condition string) *Error {
	return &Error{Type: DefaultType(condition), Condition: condition}
}

func (e *Error) Error() string {
	if e.Text != "" {
		return e.Condition + ": " + e.Text
	}
	return e.Condition
}

// Is matches another *Error with the same condition, so errors.Is works.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Condition == e.Condition
}

// Element returns the <error/> element in the jabber:client namespace (see
// ElementIn for server streams).
func (e *Error) Element() *Element { return e.ElementIn(NSClient) }

// ElementIn returns the <error/> element in the stanza namespace space.
func (e *Error) ElementIn(space string) *Element {
	el := New(space, "error").SetAttr("type", e.Type)
	if e.By != "" {
		el.SetAttr("by", e.By)
	}
	el.Append(New(NSStanza, e.Condition))
	if e.Text != "" {
		t := New(NSStanza, "text").AppendText(e.Text)
		t.Attrs = append(t.Attrs, Attr{Space: NSXML, Local: "lang", Value: "en"})
		el.Append(t)
	}
	if e.App != nil {
		el.Append(e.App)
	}
	return el
}

// DefaultType is the error type RFC 6120 §8.3.3 gives in its examples.
func DefaultType(condition string) string {
	switch condition {
	case BadRequest, JIDMalformed, NotAcceptable, PolicyViolation, Redirect:
		return Modify
	case Forbidden, NotAuthorized, RegistrationRequired, SubscriptionRequired:
		return Auth
	case InternalServerError, RecipientUnavailable, RemoteServerTimeout, ResourceConstraint, UnexpectedRequest:
		return Wait
	default:
		return Cancel
	}
}

// ParseError reads the <error/> child of a stanza, or returns nil.
func ParseError(st *Element) *Error {
	el := st.Child("", "error")
	if el == nil {
		return nil
	}
	e := &Error{Type: el.Attr("type"), By: el.Attr("by"), Condition: UndefinedCondition}
	for _, c := range el.ChildElements() {
		if c.Space != NSStanza {
			continue
		}
		if c.Local == "text" {
			e.Text = c.Text()
		} else {
			e.Condition = c.Local
		}
	}
	return e
}
