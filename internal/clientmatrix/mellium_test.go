package clientmatrix

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"mellium.im/sasl"
	"mellium.im/xmlstream"
	"mellium.im/xmpp"
	"mellium.im/xmpp/jid"
)

// melliumMechanisms is every mechanism mellium.im/sasl provides, in the
// order the package declares them: mellium has no default list, so its
// client case offers all it knows.
var melliumMechanisms = []sasl.Mechanism{sasl.ScramSha256Plus, sasl.ScramSha256, sasl.ScramSha1Plus, sasl.ScramSha1, sasl.Plain}

// message is a chat message as a mellium session received it.
type message struct {
	From string `xml:"from,attr"`
	Type string `xml:"type,attr"`
	Body string `xml:"body"`
}

// mclient is a mellium.im/xmpp session: the peer every client talks to,
// the checker that reads a client's roster, and the mellium client case.
type mclient struct {
	s    *xmpp.Session
	msgs chan message
	sent *syncBuffer // every byte the session wrote (its own XML log)
}

// dialMellium logs account in over STARTTLS at addr, trusting cafile, and
// sends initial presence, so messages to the bare JID reach it.
func dialMellium(t *testing.T, addr, account, password, cafile string) (*mclient, error) {
	t.Helper()
	pem, err := os.ReadFile(cafile)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	origin, err := jid.Parse(account)
	if err != nil {
		return nil, err
	}
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	c := &mclient{msgs: make(chan message, 16), sent: &syncBuffer{}}
	tlsConfig := &tls.Config{ServerName: origin.Domainpart(), RootCAs: pool}
	features := []xmpp.StreamFeature{xmpp.StartTLS(tlsConfig), xmpp.SASL("", password, melliumMechanisms...), xmpp.BindResource()}
	// A context that never ends: mellium arms a goroutine per call that
	// can break the TLS connection once a call's context ends, so the
	// timeout closes the socket instead.
	stop := time.AfterFunc(20*time.Second, func() { conn.Close() })
	c.s, err = xmpp.NewSession(context.Background(), origin.Domain(), origin, conn, 0,
		xmpp.NewNegotiator(func(*xmpp.Session, *xmpp.StreamConfig) xmpp.StreamConfig {
			return xmpp.StreamConfig{Features: features, TeeOut: c.sent}
		}))
	stop.Stop()
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("mellium login as %s: %w", account, err)
	}
	t.Cleanup(func() { c.s.Close(); conn.Close() })
	go c.s.Serve(xmpp.HandlerFunc(c.handle))
	if err := c.send(`<presence/>`); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *mclient) handle(r xmlstream.TokenReadEncoder, start *xml.StartElement) error {
	if start.Name.Local != "message" {
		return nil
	}
	var m message
	if err := xml.NewTokenDecoder(xmlstream.MultiReader(xmlstream.Token(*start), r)).Decode(&m); err != nil {
		return err
	}
	select {
	case c.msgs <- m:
	default:
	}
	return nil
}

// send writes one raw stanza.
func (c *mclient) send(raw string) error {
	return within(10*time.Second, func() error {
		return c.s.Send(context.Background(), xml.NewDecoder(strings.NewReader(raw)))
	})
}

// chat sends a chat message.
func (c *mclient) chat(to, body string) error {
	var b strings.Builder
	xml.EscapeText(&b, []byte(body))
	return c.send(fmt.Sprintf(`<message to='%s' type='chat'><body>%s</body></message>`, to, b.String()))
}

// expect waits for a message with the given body and returns it.
func (c *mclient) expect(d time.Duration, body string) (message, error) {
	deadline := time.After(d)
	for {
		select {
		case m := <-c.msgs:
			if m.Body == body {
				return m, nil
			}
		case <-deadline:
			return message{}, fmt.Errorf("no message %q within %v", body, d)
		}
	}
}

// roster returns the JIDs on the session's roster (RFC 6121 §2.2).
func (c *mclient) roster() ([]string, error) {
	var items struct {
		Items []struct {
			JID string `xml:"jid,attr"`
		} `xml:"query>item"`
	}
	err := within(10*time.Second, func() error {
		resp, err := c.s.SendIQ(context.Background(), xml.NewDecoder(strings.NewReader(
			`<iq type='get' id='roster1'><query xmlns='jabber:iq:roster'/></iq>`)))
		if err != nil {
			return err
		}
		defer resp.Close()
		return xml.NewTokenDecoder(resp).Decode(&items)
	})
	var jids []string
	for _, it := range items.Items {
		jids = append(jids, it.JID)
	}
	return jids, err
}

// within runs f and gives up waiting after d (see dialMellium on contexts).
func within(d time.Duration, f func() error) error {
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		if err == io.EOF {
			return nil
		}
		return err
	case <-time.After(d):
		return fmt.Errorf("timed out after %v", d)
	}
}
