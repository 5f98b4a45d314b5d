package jid

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/text/secure/precis"
)

// ErrMalformed is returned (wrapped) for any address that is not a valid JID.
var ErrMalformed = errors.New("jid-malformed")

// MaxPartLen is the RFC 7622 limit on each part, in bytes after preparation.
const MaxPartLen = 1023

// maxInputLen bounds a part before preparation. PRECIS preparation shrinks
// a string by at most a factor of three (a fullwidth letter or the Kelvin
// sign becoming one ASCII byte, a Hangul jamo triple composing to one
// syllable), so longer localparts and resourceparts cannot be valid. For the
// domainpart, IDNA may drop ignored code points without bound; there the
// limit is a policy that keeps huge inputs away from PRECIS and IDNA, whose
// cost grows with the input (about a millisecond for 3 KiB of combining
// sequences).
const maxInputLen = 3 * MaxPartLen

// JID is a normalised XMPP address. The zero value is the empty address.
// JIDs are comparable: two JIDs for the same address are == after Parse.
type JID struct {
	local, domain, resource string
}

// Parse splits and normalises s (RFC 7622 §3). For input that is already in
// normal form and pure ASCII, the parts of the result share s's memory and
// Parse does not allocate.
func Parse(s string) (JID, error) {
	local, domain, resource, err := split(s)
	if err != nil {
		return JID{}, err
	}
	return New(local, domain, resource)
}

// MustParse is Parse that panics; for tests and constants only.
func MustParse(s string) JID {
	j, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return j
}

// split applies the rules of RFC 7622 §3.1: the first '/' separates the
// resourcepart (which may itself contain '/' and '@'), and in what remains
// the first '@' separates the localpart. A separator followed or preceded by
// an empty part is an error. (The localpart and domainpart cannot contain
// '@', so splitting at the last '@' instead would reject the same strings.)
func split(s string) (local, domain, resource string, err error) {
	rest := s
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		resource = rest[i+1:]
		rest = rest[:i]
		if resource == "" {
			return "", "", "", malformed("empty resourcepart", s)
		}
	}
	if i := strings.IndexByte(rest, '@'); i >= 0 {
		local = rest[:i]
		rest = rest[i+1:]
		if local == "" {
			return "", "", "", malformed("empty localpart", s)
		}
	}
	if rest == "" {
		return "", "", "", malformed("empty domainpart", s)
	}
	return local, rest, resource, nil
}

func malformed(what, s string) error {
	return fmt.Errorf("%w: %s in %.64q", ErrMalformed, what, s)
}

// New prepares and validates the three parts; an empty local or resource
// means the address has none.
func New(local, domain, resource string) (JID, error) {
	var j JID
	var err error
	if j.domain, err = prepDomain(domain); err != nil {
		return JID{}, err
	}
	if local != "" {
		if j.local, err = prepLocal(local); err != nil {
			return JID{}, err
		}
	}
	if resource != "" {
		if j.resource, err = prepResource(resource); err != nil {
			return JID{}, err
		}
	}
	return j, nil
}

// domainProfile is IDNA2008 (UTS #46 non-transitional mapping, which also
// folds case and width) with the STD3 ASCII rules, hyphen, joiner and Bidi
// checks.
var domainProfile = idna.New(idna.MapForLookup(), idna.Transitional(false), idna.BidiRule())

// prepDomain prepares a domainpart (RFC 7622 §3.2): an IPv4 address, an
// IPv6 address in brackets, or a domain name converted to U-labels.
func prepDomain(d string) (string, error) {
	if d == "" {
		return "", malformed("empty domainpart", d)
	}
	if len(d) > maxInputLen {
		return "", malformed("domainpart too long", d)
	}
	if d[0] == '[' {
		return prepIPv6(d)
	}
	// A final label separator is stripped before anything else (§3.2.1);
	// only one, so that "example.com.." stays invalid.
	stripped := false
	if d[len(d)-1] == '.' {
		d, stripped = d[:len(d)-1], true
	}
	if out, ok := fastDomain(d); ok {
		return out, nil
	}
	return slowDomain(d, stripped)
}

// fastDomain handles names made only of ASCII letters, digits, '-' and '.'
// whose labels are non-empty, do not begin or end with '-' and have no "--"
// in the third and fourth positions (so no A-labels). For those, IDNA2008
// does nothing but lower-case, which fastDomain does without allocating
// when there is nothing to lower. It reports false for everything else,
// valid or not, and leaves the verdict to slowDomain.
//
// IPv4 addresses (RFC 7622 §3.2: IPv4address of RFC 3986, dotted decimal)
// take this path too: they are valid ASCII names that preparation leaves
// as they are.
func fastDomain(d string) (string, bool) {
	if len(d) > MaxPartLen {
		return "", false
	}
	upper := false
	start := 0
	for i := 0; i <= len(d); i++ {
		if i == len(d) || d[i] == '.' {
			l := d[start:i]
			if l == "" || l[0] == '-' || l[len(l)-1] == '-' || len(l) >= 4 && l[2] == '-' && l[3] == '-' {
				return "", false
			}
			start = i + 1
			continue
		}
		switch c := d[i]; {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-':
		case 'A' <= c && c <= 'Z':
			upper = true
		default:
			return "", false
		}
	}
	if upper {
		return lowerASCII(d), true
	}
	return d, true
}

func slowDomain(d string, stripped bool) (string, error) {
	if !utf8.ValidString(d) {
		return "", malformed("invalid UTF-8", d)
	}
	out, err := domainProfile.ToUnicode(d)
	if err != nil {
		return "", fmt.Errorf("%w: domainpart %.64q: %v", ErrMalformed, d, err)
	}
	// Characters such as U+3002 IDEOGRAPHIC FULL STOP map to '.', so a
	// final separator may only show now.
	if !stripped && strings.HasSuffix(out, ".") {
		out = out[:len(out)-1]
	}
	if !validDomainOutput(out) {
		return "", malformed("invalid domainpart", d)
	}
	// Re-preparing must not change the result, or the JID would not
	// survive a round trip through its string form.
	if again, err := domainProfile.ToUnicode(out); err != nil || again != out {
		return "", malformed("unstable domainpart", d)
	}
	return out, nil
}

// validDomainOutput checks the result of IDNA processing: 1..MaxPartLen
// bytes, no empty label, and, of ASCII, only lower-case letters, digits,
// '-' and '.'.
func validDomainOutput(s string) bool {
	if s == "" || len(s) > MaxPartLen || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x80 && !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// prepIPv6 validates "[" IPv6address "]" and returns its canonical form
// (RFC 5952), so that equal addresses give equal JIDs. Zones and IPvFuture
// literals are rejected.
func prepIPv6(d string) (string, error) {
	if len(d) < 3 || d[len(d)-1] != ']' {
		return "", malformed("bad IP literal", d)
	}
	a, err := netip.ParseAddr(d[1 : len(d)-1])
	if err != nil || !a.Is6() || a.Zone() != "" {
		return "", malformed("bad IPv6 literal", d)
	}
	var buf [64]byte
	if c := a.AppendTo(buf[:0]); string(c) != d[1:len(d)-1] {
		return "[" + string(c) + "]", nil
	}
	return d, nil
}

// localDisallowed are the characters RFC 7622 §3.3.1 forbids in a localpart
// on top of the UsernameCaseMapped profile.
const localDisallowed = "\"&'/:<>@"

// prepLocal applies the UsernameCaseMapped profile (RFC 8265 §3.3) and the
// extra rules of RFC 7622 §3.3.
func prepLocal(l string) (string, error) {
	if out, ok := fastLocal(l); ok {
		return out, nil
	}
	return slowLocal(l)
}

func slowLocal(l string) (string, error) {
	if !utf8.ValidString(l) {
		return "", malformed("invalid UTF-8", l)
	}
	if len(l) > maxInputLen {
		return "", malformed("localpart too long", l)
	}
	out, err := precis.UsernameCaseMapped.String(l)
	if err != nil {
		return "", fmt.Errorf("%w: localpart %.64q: %v", ErrMalformed, l, err)
	}
	if out == "" || len(out) > MaxPartLen || strings.ContainsAny(out, localDisallowed) {
		return "", malformed("invalid localpart", l)
	}
	// The profile is not idempotent for every input (RFC 8265 leaves
	// repetition to the Nickname profile); insist on a stable result.
	if again, err := precis.UsernameCaseMapped.String(out); err != nil || again != out {
		return "", malformed("unstable localpart", l)
	}
	return out, nil
}

// fastLocal handles printable ASCII without space or the characters of
// localDisallowed: the profile only lower-cases it.
func fastLocal(l string) (string, bool) {
	if l == "" || len(l) > MaxPartLen {
		return "", false
	}
	upper := false
	for i := 0; i < len(l); i++ {
		c := l[i]
		switch {
		case c < 0x21 || c > 0x7e:
			return "", false
		case 'A' <= c && c <= 'Z':
			upper = true
		case c == '"' || c == '&' || c == '\'' || c == '/' || c == ':' || c == '<' || c == '>' || c == '@':
			return "", false
		}
	}
	if upper {
		return lowerASCII(l), true
	}
	return l, true
}

// prepResource applies the OpaqueString profile (RFC 8265 §4.2).
func prepResource(r string) (string, error) {
	if fastResource(r) {
		return r, nil
	}
	return slowResource(r)
}

func slowResource(r string) (string, error) {
	if !utf8.ValidString(r) {
		return "", malformed("invalid UTF-8", r)
	}
	if len(r) > maxInputLen {
		return "", malformed("resourcepart too long", r)
	}
	out, err := precis.OpaqueString.String(r)
	if err != nil {
		return "", fmt.Errorf("%w: resourcepart %.64q: %v", ErrMalformed, r, err)
	}
	if out == "" || len(out) > MaxPartLen {
		return "", malformed("invalid resourcepart", r)
	}
	if again, err := precis.OpaqueString.String(out); err != nil || again != out {
		return "", malformed("unstable resourcepart", r)
	}
	return out, nil
}

// fastResource reports whether r is printable ASCII (space included), which
// OpaqueString leaves unchanged.
func fastResource(r string) bool {
	if r == "" || len(r) > MaxPartLen {
		return false
	}
	for i := 0; i < len(r); i++ {
		if c := r[i]; c < 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}

func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// Local returns the localpart.
func (j JID) Local() string { return j.local }

// Domain returns the domainpart.
func (j JID) Domain() string { return j.domain }

// Resource returns the resourcepart.
func (j JID) Resource() string { return j.resource }

// Bare returns j without its resource.
func (j JID) Bare() JID { return JID{local: j.local, domain: j.domain} }

// DomainJID returns the JID of j's domain alone.
func (j JID) DomainJID() JID { return JID{domain: j.domain} }

// IsBare reports whether j has no resource.
func (j JID) IsBare() bool { return j.resource == "" }

// IsZero reports whether j is the empty address.
func (j JID) IsZero() bool { return j.domain == "" }

// IsDomain reports whether j is a bare domain (no localpart, no resource).
func (j JID) IsDomain() bool { return j.local == "" && j.resource == "" && j.domain != "" }

// Equal reports whether j and o are the same address; it is j == o.
func (j JID) Equal(o JID) bool { return j == o }

// Compare orders JIDs by domainpart, then localpart, then resourcepart,
// each compared bytewise; it returns -1, 0 or +1. A missing part sorts
// before any present one.
func (j JID) Compare(o JID) int {
	if c := strings.Compare(j.domain, o.domain); c != 0 {
		return c
	}
	if c := strings.Compare(j.local, o.local); c != 0 {
		return c
	}
	return strings.Compare(j.resource, o.resource)
}

// WithResource returns j with its resource replaced by a prepared r; an
// empty r gives the bare JID.
func (j JID) WithResource(r string) (JID, error) {
	if r == "" {
		return j.Bare(), nil
	}
	p, err := prepResource(r)
	if err != nil {
		return JID{}, err
	}
	return JID{local: j.local, domain: j.domain, resource: p}, nil
}

// String returns the textual form local@domain/resource.
func (j JID) String() string {
	n := len(j.domain)
	if j.local != "" {
		n += len(j.local) + 1
	}
	if j.resource != "" {
		n += len(j.resource) + 1
	}
	if n == len(j.domain) {
		return j.domain
	}
	var b strings.Builder
	b.Grow(n)
	if j.local != "" {
		b.WriteString(j.local)
		b.WriteByte('@')
	}
	b.WriteString(j.domain)
	if j.resource != "" {
		b.WriteByte('/')
		b.WriteString(j.resource)
	}
	return b.String()
}
