package jid

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/net/idna"
	"golang.org/x/text/secure/precis"
)

// ErrMalformed is returned (wrapped) for any address that is not a valid JID.
var ErrMalformed = errors.New("jid-malformed")

// MaxPartLen is the RFC 7622 limit on each part, in bytes after preparation.
const MaxPartLen = 1023

// JID is a normalised XMPP address. The zero value is the empty address.
type JID struct {
	local, domain, resource string
}

// Parse splits and normalises s.
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

func split(s string) (local, domain, resource string, err error) {
	rest := s
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		resource = rest[i+1:]
		rest = rest[:i]
		if resource == "" {
			return "", "", "", fmt.Errorf("%w: empty resourcepart in %q", ErrMalformed, s)
		}
	}
	if i := strings.IndexByte(rest, '@'); i >= 0 {
		local = rest[:i]
		rest = rest[i+1:]
		if local == "" {
			return "", "", "", fmt.Errorf("%w: empty localpart in %q", ErrMalformed, s)
		}
	}
	return local, rest, resource, nil
}

// New prepares and validates the three parts.
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

var domainProfile = idna.New(idna.MapForLookup(), idna.Transitional(false), idna.StrictDomainName(false))

func prepDomain(d string) (string, error) {
	d = strings.TrimSuffix(d, ".")
	if d == "" {
		return "", fmt.Errorf("%w: empty domainpart", ErrMalformed)
	}
	if d[0] == '[' {
		if d[len(d)-1] != ']' {
			return "", fmt.Errorf("%w: bad IP literal %q", ErrMalformed, d)
		}
		return d, nil
	}
	out, err := domainProfile.ToUnicode(d)
	if err != nil {
		return "", fmt.Errorf("%w: domainpart %q: %v", ErrMalformed, d, err)
	}
	out = strings.ToLower(out)
	if len(out) > MaxPartLen || out == "" || strings.ContainsAny(out, "@/ ") {
		return "", fmt.Errorf("%w: domainpart %q", ErrMalformed, d)
	}
	return out, nil
}

func prepLocal(l string) (string, error) {
	out, err := precis.UsernameCaseMapped.String(l)
	if err != nil {
		return "", fmt.Errorf("%w: localpart %q: %v", ErrMalformed, l, err)
	}
	if len(out) > MaxPartLen || strings.ContainsAny(out, "\"&'/:<>@") {
		return "", fmt.Errorf("%w: localpart %q", ErrMalformed, l)
	}
	return out, nil
}

func prepResource(r string) (string, error) {
	out, err := precis.OpaqueString.String(r)
	if err != nil {
		return "", fmt.Errorf("%w: resourcepart %q: %v", ErrMalformed, r, err)
	}
	if len(out) > MaxPartLen {
		return "", fmt.Errorf("%w: resourcepart too long", ErrMalformed)
	}
	return out, nil
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

// WithResource returns j with its resource replaced by a prepared r.
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
