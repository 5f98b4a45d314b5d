package stream

import (
	"crypto/rand"
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/stanza"
)

// Header is the opening <stream:stream> tag a server writes (RFC 6120
// §4.7). Empty attributes are left out.
type Header struct {
	ContentNS string // jabber:client or jabber:server
	ID        string // the stream id, fresh for every stream (§4.7.3)
	From      string // our domain
	To        string // the peer's address, when it gave a valid one
	// Dialback declares the db prefix for Server Dialback (XEP-0220
	// §2.1.1) on a server-to-server stream.
	Dialback bool
}

// Close is the closing tag of a stream (§4.4).
const Close = "</stream:stream>"

// AppendXML appends the XML declaration and the opening tag to b.
func (h Header) AppendXML(b []byte) []byte {
	b = append(b, "<?xml version='1.0'?><stream:stream xmlns='"...)
	b = append(b, h.ContentNS...)
	b = append(b, "' xmlns:stream='"+NSStream+"'"...)
	if h.Dialback {
		b = append(b, " xmlns:db='"+NSDialback+"'"...)
	}
	b = stanza.AppendAttr(b, "id", h.ID)
	b = stanza.AppendAttr(b, "from", h.From)
	b = stanza.AppendAttr(b, "to", h.To)
	return append(b, " version='1.0' xml:lang='en'>"...)
}

// NewID returns a fresh, unguessable stream id (§4.7.3).
func NewID() string {
	var b [12]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// Opening is what a peer's stream header asks for: the fields of it the
// stream layer checks.
type Opening struct {
	ContentNS string // the default namespace declared on the header
	To        string
	Version   string
}

// Check checks an opening against the content namespace a receiving
// entity serves and the domains it serves (§4.7.1, §4.7.5, §4.8.2), and
// returns the requested domain.
func (o Opening) Check(contentNS string, serves func(domain string) bool) (string, error) {
	if o.ContentNS != contentNS {
		return "", New(InvalidNamespace, "the content namespace must be "+contentNS)
	}
	if o.To == "" {
		// No 'to' and an empty one alike name no host (RFC 6120 §4.9.1.3).
		return "", New(HostUnknown, "the stream header's 'to' is missing or empty: name the domain to connect to")
	}
	domain := ""
	if d, err := jid.Parse(o.To); err == nil && d.IsDomain() {
		domain = d.Domain()
	}
	if domain == "" || !serves(domain) {
		return "", New(HostUnknown, "this server does not serve "+strconv.Quote(o.To))
	}
	return domain, checkVersion(o.Version)
}

// checkVersion accepts major version 1 (§4.7.5): a peer that sends no
// version speaks pre-RFC 3920 XMPP, which we do not.
func checkVersion(v string) error {
	major, _, ok := strings.Cut(v, ".")
	if v == "" || !ok {
		return New(UnsupportedVersion, "XMPP version 1.0 is required")
	}
	if n, err := strconv.Atoi(major); err != nil || n != 1 {
		return New(UnsupportedVersion, "XMPP version 1.0 is required")
	}
	return nil
}
