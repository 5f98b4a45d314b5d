package xmpptest

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/sasl/scramtest"
)

// This file is a small raw-XML client for XEP-0388 (SASL2), XEP-0386
// (Bind 2) and XEP-0484 (FAST), written from the XEPs: mellium.im/xmpp
// v0.22.0 speaks none of them. Its SCRAM is scramtest's, its HT-SHA-256 is
// computed here from the draft (HMAC(token, "Initiator" || cb-data)), and
// its channel binding data come from the client's own TLS state.

// SASL2Login describes one <authenticate/>.
type SASL2Login struct {
	Mechanism      string // SCRAM-SHA-*, SCRAM-SHA-*-PLUS, PLAIN, HT-SHA-256-*
	User, Password string // Password unused for HT
	CBType         string // for -PLUS: tls-exporter (default) or tls-server-end-point
	Agent          string // <user-agent id=''/>; none when ""
	Software       string
	Device         string

	// Salted caches the client's SCRAM salted passwords (benchmarks).
	Salted map[string][]byte

	Bind       bool   // send a Bind 2 <bind/>
	Tag        string // its <tag/>
	BindInline string // raw XML children of <bind/> (inline features)

	RequestToken string // <request-token mechanism=''/>
	Extra        string // raw XML children of <authenticate/> (an XEP-0198 <resume/>)
	Token        string // HT: the token
	Count        int64  // HT: <fast count=''/>; < 0 sends none
	Invalidate   bool   // HT: <fast invalidate='true'/>
	// WrongCB makes the client bind to other data than its connection's
	// (a relayed exchange).
	WrongCB bool
}

// SASL2Result is the server's answer to a login.
type SASL2Result struct {
	Success   bool
	Raw       string // the <success/> or <failure/> as received
	Condition string // the failure's RFC 6120 condition
	Text      string // the failure's text
	AuthzID   string // <authorization-identifier/>
	Bound     string // the <bound/> element as received, "" without one
	Token     string // a FAST <token/>'s token, "" without one
	Expiry    time.Time
	Features  string // the features after <success/>
	// ServerOK reports that the server proved the secret too (SCRAM's
	// server signature, HT's responder message).
	ServerOK bool
}

const (
	nsSASL2 = "urn:xmpp:sasl:2"
	nsFAST  = "urn:xmpp:fast:0"
)

// SASL2 runs one login on r, after TLS, and returns the outcome.
func (r *Raw) SASL2(l SASL2Login) SASL2Result {
	r.t.Helper()
	var first []byte
	var scram *scramtest.Client
	var cb []byte
	switch {
	case strings.HasPrefix(l.Mechanism, "SCRAM-"):
		h := strings.TrimSuffix(strings.TrimPrefix(l.Mechanism, "SCRAM-"), "-PLUS")
		scram = &scramtest.Client{Hash: h, User: l.User, Password: l.Password, Nonce: "sasl2nonce" + fmt.Sprint(time.Now().UnixNano()), Salted: l.Salted}
		if strings.HasSuffix(l.Mechanism, "-PLUS") {
			typ := l.CBType
			if typ == "" {
				typ = "tls-exporter"
			}
			scram.Flag, scram.CBData = "p="+typ, r.bindingData(typ, l.WrongCB)
		}
		first = scram.First()
	case strings.HasPrefix(l.Mechanism, "HT-"):
		cb = r.bindingData(htBinding(l.Mechanism), l.WrongCB)
		first = append([]byte(l.User+"\x00"), htMAC(l.Token, "Initiator", cb)...)
	default:
		first = []byte("\x00" + l.User + "\x00" + l.Password)
	}
	r.Write(l.xml(first))
	out := r.sasl2Answer()
	if scram != nil && strings.Contains(out, "<challenge") {
		final, err := scram.Final(payload(r.t, out, "challenge"))
		if err != nil {
			r.t.Fatalf("xmpptest: SASL2 SCRAM: %v", err)
		}
		r.Write("<response xmlns='" + nsSASL2 + "'>" + base64.StdEncoding.EncodeToString(final) + "</response>")
		out = r.sasl2Answer()
	}
	res := parseSASL2(r.t, out)
	if res.Success {
		res.Features = r.ReadUntil("</stream:features>", 5*time.Second)
		add := payload(r.t, out, "additional-data")
		switch {
		case scram != nil:
			res.ServerOK = scram.Verify(add) == nil
		case strings.HasPrefix(l.Mechanism, "HT-"):
			res.ServerOK = hmac.Equal(add, htMAC(l.Token, "Responder", cb))
		}
	}
	return res
}

// xml is the <authenticate/> element with initial response first.
func (l SASL2Login) xml(first []byte) string {
	var b strings.Builder
	fmt.Fprintf(&b, "<authenticate xmlns='%s' mechanism='%s'><initial-response>%s</initial-response>",
		nsSASL2, l.Mechanism, base64.StdEncoding.EncodeToString(first))
	if l.Agent != "" {
		fmt.Fprintf(&b, "<user-agent id='%s'>", esc(l.Agent))
		if l.Software != "" {
			fmt.Fprintf(&b, "<software>%s</software>", esc(l.Software))
		}
		if l.Device != "" {
			fmt.Fprintf(&b, "<device>%s</device>", esc(l.Device))
		}
		b.WriteString("</user-agent>")
	}
	if l.Bind {
		b.WriteString("<bind xmlns='urn:xmpp:bind:0'>")
		if l.Tag != "" {
			fmt.Fprintf(&b, "<tag>%s</tag>", esc(l.Tag))
		}
		b.WriteString(l.BindInline + "</bind>")
	}
	b.WriteString(l.Extra)
	if l.RequestToken != "" {
		fmt.Fprintf(&b, "<request-token xmlns='%s' mechanism='%s'/>", nsFAST, l.RequestToken)
	}
	if strings.HasPrefix(l.Mechanism, "HT-") {
		fmt.Fprintf(&b, "<fast xmlns='%s'", nsFAST)
		if l.Count >= 0 {
			fmt.Fprintf(&b, " count='%d'", l.Count)
		}
		if l.Invalidate {
			b.WriteString(" invalidate='true'")
		}
		b.WriteString("/>")
	}
	b.WriteString("</authenticate>")
	return b.String()
}

func esc(s string) string {
	var b bytes.Buffer
	xml.EscapeText(&b, []byte(s))
	return strings.ReplaceAll(b.String(), "'", "&apos;")
}

func (r *Raw) sasl2Answer() string {
	r.t.Helper()
	out, err := r.ReadUntilAny([]string{"</challenge>", "</success>", "</failure>", "</stream:stream>"}, 10*time.Second)
	if err != nil {
		r.t.Fatalf("xmpptest: no SASL2 answer: %v; got %q", err, out)
	}
	return out
}

// payload decodes the base64 text of the first <name> in out (nil if none).
func payload(t testing.TB, out, name string) []byte {
	t.Helper()
	i := strings.Index(out, "<"+name)
	if i < 0 {
		return nil
	}
	rest := out[i:]
	start := strings.Index(rest, ">") + 1
	end := strings.Index(rest, "</"+name+">")
	if end < start {
		return nil
	}
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(rest[start:end]))
	if err != nil {
		t.Fatalf("xmpptest: <%s> payload %q: %v", name, rest[start:end], err)
	}
	return b
}

// sasl2Outcome is the <success/> or <failure/> as XML.
type sasl2Outcome struct {
	XMLName xml.Name
	AuthzID string `xml:"authorization-identifier"`
	Text    string `xml:"text"`
	Bound   *struct {
		Inner string `xml:",innerxml"`
	} `xml:"urn:xmpp:bind:0 bound"`
	Token *struct {
		Token  string `xml:"token,attr"`
		Expiry string `xml:"expiry,attr"`
	} `xml:"urn:xmpp:fast:0 token"`
	Any []struct {
		XMLName xml.Name
	} `xml:",any"`
}

func parseSASL2(t testing.TB, out string) SASL2Result {
	t.Helper()
	i := strings.LastIndex(out, "<success")
	if j := strings.LastIndex(out, "<failure"); j > i {
		i = j
	}
	if i < 0 {
		return SASL2Result{Raw: out, Condition: "stream-closed"}
	}
	res := SASL2Result{Raw: out[i:]}
	var o sasl2Outcome
	if err := xml.Unmarshal([]byte(res.Raw), &o); err != nil {
		t.Fatalf("xmpptest: SASL2 outcome %q: %v", res.Raw, err)
	}
	if o.XMLName.Space != nsSASL2 {
		t.Fatalf("xmpptest: SASL2 outcome in namespace %q: %q", o.XMLName.Space, res.Raw)
	}
	res.Success = o.XMLName.Local == "success"
	res.AuthzID, res.Text = o.AuthzID, o.Text
	for _, a := range o.Any {
		if a.XMLName.Space == "urn:ietf:params:xml:ns:xmpp-sasl" {
			res.Condition = a.XMLName.Local
		}
	}
	if o.Bound != nil {
		res.Bound = "<bound>" + o.Bound.Inner + "</bound>"
	}
	if o.Token != nil {
		res.Token = o.Token.Token
		exp, err := time.Parse(time.RFC3339, o.Token.Expiry)
		if err != nil {
			t.Fatalf("xmpptest: token expiry %q: %v", o.Token.Expiry, err)
		}
		res.Expiry = exp
	}
	return res
}

// htBinding is the channel binding type of an HT mechanism ("" for NONE).
func htBinding(mech string) string {
	switch {
	case strings.HasSuffix(mech, "-EXPR"):
		return "tls-exporter"
	case strings.HasSuffix(mech, "-ENDP"):
		return "tls-server-end-point"
	case strings.HasSuffix(mech, "-UNIQ"):
		return "tls-unique"
	}
	return ""
}

// htMAC is HMAC-SHA-256(token, label || cb).
func htMAC(token, label string, cb []byte) []byte {
	m := hmac.New(sha256.New, []byte(token))
	m.Write([]byte(label))
	m.Write(cb)
	return m.Sum(nil)
}

// bindingData returns the client's channel binding data of type typ (RFC
// 9266, RFC 5929); wrong changes it, as a relay's connection would.
func (r *Raw) bindingData(typ string, wrong bool) []byte {
	r.t.Helper()
	if typ == "" {
		return nil
	}
	tc, ok := r.Conn.(*tls.Conn)
	if !ok {
		r.t.Fatal("xmpptest: channel binding needs TLS")
	}
	cs := tc.ConnectionState()
	var data []byte
	switch typ {
	case "tls-exporter":
		b, err := cs.ExportKeyingMaterial("EXPORTER-Channel-Binding", nil, 32)
		if err != nil {
			r.t.Fatalf("xmpptest: exporter: %v", err)
		}
		data = b
	case "tls-server-end-point":
		data = endPoint(cs.PeerCertificates[0])
	case "tls-unique":
		data = cs.TLSUnique
	}
	if wrong {
		data = bytes.Clone(data)
		data[0] ^= 0xff
	}
	return data
}

// endPoint is RFC 5929 §4.1's hash of the server certificate.
func endPoint(c *x509.Certificate) []byte {
	switch c.SignatureAlgorithm {
	case x509.SHA384WithRSA, x509.ECDSAWithSHA384, x509.SHA384WithRSAPSS:
		s := sha512.Sum384(c.Raw)
		return s[:]
	case x509.SHA512WithRSA, x509.ECDSAWithSHA512, x509.SHA512WithRSAPSS:
		s := sha512.Sum512(c.Raw)
		return s[:]
	}
	s := sha256.Sum256(c.Raw)
	return s[:]
}

// OpenTLS connects to the STARTTLS port, negotiates TLS (version 0 for
// the default) and returns the connection and the features after it. The
// stream header names user's bare JID in 'from' (XEP-0388).
func (s *Server) OpenTLS(t testing.TB, from string, version uint16) (*Raw, string) {
	t.Helper()
	return s.OpenTLSAt(t, s.Addr("c2s"), from, version)
}

// OpenTLSAt is OpenTLS through addr (a proxy in front of the STARTTLS
// port, say).
func (s *Server) OpenTLSAt(t testing.TB, addr, from string, version uint16) (*Raw, string) {
	t.Helper()
	r := s.RawAt(t, addr)
	r.Open("localhost")
	cfg := s.TLSConfig(t, "localhost")
	if version != 0 {
		cfg.MinVersion, cfg.MaxVersion = version, version
	}
	r.Write("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
	r.ReadUntil("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>", 5*time.Second)
	tc := tls.Client(r.Conn, cfg)
	tc.SetDeadline(time.Now().Add(5 * time.Second))
	if err := tc.Handshake(); err != nil {
		t.Fatalf("xmpptest: TLS handshake: %v", err)
	}
	tc.SetDeadline(time.Time{})
	r.Conn = tc
	r.got.Reset()
	hdr := strings.Replace(Header("localhost"), "<stream:stream ", "<stream:stream from='"+esc(from)+"' ", 1)
	r.Write(hdr)
	return r, r.ReadUntil("</stream:features>", 5*time.Second)
}
