package clientmatrix

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"mellium.im/sasl"

	"github.com/parleyim/parley/internal/xmpptest"
)

// melliumMechanisms is every mechanism mellium.im/sasl provides, in the
// order the package declares them: mellium has no default list, so its
// client case offers all it knows.
var melliumMechanisms = []sasl.Mechanism{sasl.ScramSha256Plus, sasl.ScramSha256, sasl.ScramSha1Plus, sasl.ScramSha1, sasl.Plain}

// dialMellium logs account in over STARTTLS at addr with a mellium.im/xmpp
// session, trusting cafile, and sends initial presence so that messages to
// the bare JID reach it. tee, if not nil, gets a copy of what it writes.
// It is the peer every client talks to, the checker that reads a client's
// stored roster, and the mellium client case.
func dialMellium(t *testing.T, addr, account, password, cafile string, tee io.Writer) (*xmpptest.Client, error) {
	t.Helper()
	pem, err := os.ReadFile(cafile)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	domain := account[strings.IndexByte(account, '@')+1:]
	c, err := xmpptest.DialAddr(t, addr, account, password, xmpptest.DialOptions{
		Mechanisms: melliumMechanisms,
		TLS:        &tls.Config{ServerName: domain, RootCAs: pool},
		TeeOut:     tee,
	})
	if err != nil {
		return nil, fmt.Errorf("mellium login as %s: %w", account, err)
	}
	c.Send(t, `<presence/>`)
	return c, nil
}

// chat sends a chat message.
func chat(t *testing.T, c *xmpptest.Client, to, body string) {
	t.Helper()
	c.Send(t, fmt.Sprintf(`<message to='%s' type='chat'><body>%s</body></message>`, to, body))
}

// expectChat waits for a message with the given body (hex tokens and
// words only: no escaping) and returns it.
func expectChat(c *xmpptest.Client, d time.Duration, body string) (xmpptest.Stanza, error) {
	deadline := time.After(d)
	for {
		select {
		case st := <-c.In:
			if st.XMLName.Local == "message" && strings.Contains(st.Inner, ">"+body+"</body>") {
				return st, nil
			}
		case <-deadline:
			return xmpptest.Stanza{}, fmt.Errorf("no message %q within %v", body, d)
		}
	}
}

// rosterHas reports whether the stored roster (RFC 6121 §2.1.3) lists
// jid, and the roster result it read.
func rosterHas(t *testing.T, c *xmpptest.Client, jid string) (bool, string) {
	res := c.IQ(t, `<iq type='get' id='roster1'><query xmlns='jabber:iq:roster'/></iq>`)
	return strings.Contains(res.Inner, `jid="`+jid+`"`), res.Inner
}
