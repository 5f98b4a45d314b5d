package roster

import "strings"

var subNames = [...]string{"none", "to", "from", "both"}

func (s Sub) String() string {
	if int(s) < len(subNames) {
		return subNames[s]
	}
	return "invalid"
}

// ParseSub reads a stored or wire subscription value.
func ParseSub(s string) (Sub, bool) {
	for i, n := range subNames {
		if n == s {
			return Sub(i), true
		}
	}
	return SubNone, false
}

// HasTo reports whether the user is subscribed to the contact.
func (s Sub) HasTo() bool { return s == SubTo || s == SubBoth }

// HasFrom reports whether the contact is subscribed to the user.
func (s Sub) HasFrom() bool { return s == SubFrom || s == SubBoth }

func (s Sub) withTo(on bool) Sub   { return s.set(SubTo, on) }
func (s Sub) withFrom(on bool) Sub { return s.set(SubFrom, on) }

func (s Sub) set(bit Sub, on bool) Sub {
	if on {
		return s | bit
	}
	return s &^ bit
}

// State is the subscription state of one contact in one user's roster, in
// the terms of RFC 6121 Appendix A.1: a primary state plus the pending
// sub-states, and the pre-approval flag of §3.4.
type State struct {
	Sub        Sub
	PendingOut bool // the user asked the contact (ask='subscribe')
	PendingIn  bool // the contact asked the user, unanswered
	Approved   bool // the user pre-approved the contact's request
}

// String names the state as Appendix A does ("None + Pending Out/In"),
// with " (pre-approved)" when Approved.
func (s State) String() string {
	var b strings.Builder
	b.WriteString(strings.ToUpper(s.Sub.String()[:1]) + s.Sub.String()[1:])
	switch {
	case s.PendingOut && s.PendingIn:
		b.WriteString(" + Pending Out/In")
	case s.PendingOut:
		b.WriteString(" + Pending Out")
	case s.PendingIn:
		b.WriteString(" + Pending In")
	}
	if s.Approved {
		b.WriteString(" (pre-approved)")
	}
	return b.String()
}

// Outbound applies RFC 6121 Appendix A.2: the user's server processing a
// subscription stanza of type typ that the user sends to the contact. It
// returns the new state and whether the stanza is routed to the contact.
// Pre-approval (§3.4): 'subscribed' without a pending request marks the
// contact pre-approved; 'unsubscribed' cancels a pre-approval.
func Outbound(s State, typ string) (next State, route bool) {
	switch typ {
	case TypeSubscribe:
		// A.2.1: always routed; pending out unless already subscribed.
		if !s.Sub.HasTo() {
			s.PendingOut = true
		}
		return s, true
	case TypeUnsubscribe:
		// A.2.2: always routed; drops 'to' and any pending out.
		s.PendingOut = false
		s.Sub = s.Sub.withTo(false)
		return s, true
	case TypeSubscribed:
		// A.2.3: routed only to answer a pending request.
		if s.PendingIn {
			s.PendingIn, s.Approved = false, false
			s.Sub = s.Sub.withFrom(true)
			return s, true
		}
		if !s.Sub.HasFrom() {
			s.Approved = true
		}
		return s, false
	case TypeUnsubscribed:
		// A.2.4: routed to deny a request or cancel the contact's
		// subscription.
		route = s.PendingIn || s.Sub.HasFrom()
		s.PendingIn, s.Approved = false, false
		s.Sub = s.Sub.withFrom(false)
		return s, route
	}
	return s, false
}

// Inbound applies RFC 6121 Appendix A.3: the contact's server processing
// a subscription stanza of type typ that the user sent (here s is the
// contact's state for the user). It returns the new state, whether the
// stanza is delivered to the contact, and whether the server answers
// 'subscribed' on the contact's behalf (already subscribed, or
// pre-approved).
func Inbound(s State, typ string) (next State, deliver, autoReply bool) {
	switch typ {
	case TypeSubscribe:
		switch {
		case s.Sub.HasFrom():
			return s, false, true
		case s.Approved:
			s.Approved, s.PendingIn = false, false
			s.Sub = s.Sub.withFrom(true)
			return s, false, true
		case s.PendingIn:
			return s, false, false
		}
		s.PendingIn = true
		return s, true, false
	case TypeUnsubscribe:
		if !s.PendingIn && !s.Sub.HasFrom() {
			return s, false, false
		}
		s.PendingIn = false
		s.Sub = s.Sub.withFrom(false)
		return s, true, false
	case TypeSubscribed:
		if !s.PendingOut {
			return s, false, false
		}
		s.PendingOut = false
		s.Sub = s.Sub.withTo(true)
		return s, true, false
	case TypeUnsubscribed:
		if !s.PendingOut && !s.Sub.HasTo() {
			return s, false, false
		}
		s.PendingOut = false
		s.Sub = s.Sub.withTo(false)
		return s, true, false
	}
	return s, false, false
}
