package httpd_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parleyim/parley/internal/xmpptest"
)

// The stream-management client of internal/xmpptest (SMClient) reads and
// writes a net.Conn of whole elements. These adapters give it one over
// XMPP over WebSocket (RFC 7395) and over BOSH (XEP-0124/0206), so the
// same XEP-0198 script runs on every transport.

// smOverWebSocket logs user in over WebSocket (plain HTTP from loopback)
// with PLAIN, binds resource (not when it is "-": the caller resumes) and
// returns the client. Kill drops the TCP connection under the WebSocket
// with no close frame and no <close/>.
func smOverWebSocket(t *testing.T, srv *xmpptest.Server, user, password, resource string) *xmpptest.SMClient {
	t.Helper()
	w := dialRaw(t, "ws://"+srv.Addr("http")+"/xmpp-websocket", nil)
	w.send(openLocalhost)
	w.until("mechanisms")
	w.send(plainAuth(user, password))
	w.until("<success")
	w.send(openLocalhost)
	w.until("urn:xmpp:sm:3")
	if resource != "-" {
		w.send("<iq xmlns='jabber:client' type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>" + resource + "</resource></bind></iq>")
		w.until("<jid>")
	}
	conn := websocket.NetConn(context.Background(), w.c, websocket.MessageText)
	return xmpptest.NewSMClient(t, conn, func() { w.c.CloseNow() })
}

// smOverBOSH logs user in over a new BOSH session (wait 1 s, hold 1) with
// PLAIN, binds resource (not when it is "-") and returns the client: a
// goroutine keeps a request held for what the server sends, each Write
// is a request of its own. Kill stops sending requests (the session then
// ends by inactivity, XEP-0124 §7.1).
func smOverBOSH(t *testing.T, srv *xmpptest.Server, user, password, resource string) *xmpptest.SMClient {
	t.Helper()
	b := newBOSHClient(t, boshURL(srv), srv.TLSConfig(t, "localhost"))
	b.expect(b.create("localhost", 1, 1, ""), "mechanisms")
	b.expect(b.send(plainAuth(user, password)), "<success")
	b.expect(b.post(b.body(b.nextRid(), " xmpp:restart='true' to='localhost'", "")), "urn:xmpp:sm:3")
	if resource != "-" {
		b.expect(b.send("<iq xmlns='jabber:client' type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>"+resource+"</resource></bind></iq>"), "<jid>")
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &boshConn{b: b, ctx: ctx, cancel: cancel, in: newPipe(), next: b.rid + 1, early: map[int64]string{}}
	t.Cleanup(c.kill)
	c.polling.Add(1)
	go c.poll()
	return xmpptest.NewSMClient(t, c, c.kill)
}

// boshConn is a BOSH session seen as a stream of elements.
type boshConn struct {
	b       *boshClient
	ctx     context.Context
	cancel  context.CancelFunc
	in      *pipe
	polling sync.WaitGroup
	once    sync.Once

	mu    sync.Mutex
	next  int64            // the rid whose response is read next
	early map[int64]string // responses that came before an earlier rid's
}

// poll keeps a request held until the session or the client ends.
func (c *boshConn) poll() {
	defer c.polling.Done()
	for c.ctx.Err() == nil {
		if err := c.exchange(""); err != nil {
			c.in.close(err)
			return
		}
	}
}

// exchange sends one request with payload and passes the response's
// payload to the reader.
func (c *boshConn) exchange(payload string) error {
	rid := c.b.nextRid()
	body := c.b.body(rid, "", payload)
	req, err := http.NewRequestWithContext(c.ctx, http.MethodPost, c.b.url, strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	resp, err := c.b.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	r, err := parseBody(raw)
	if err != nil {
		return err
	}
	c.deliver(rid, r.inner)
	if r.attrs["type"] == "terminate" {
		return errors.New("bosh: session terminated: " + r.attrs["condition"])
	}
	return nil
}

// deliver passes the responses' payloads to the reader in rid order, as
// a client must process them (XEP-0124 §9): two requests in flight may be
// answered in one order and arrive in the other.
func (c *boshConn) deliver(rid int64, payload string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.early[rid] = payload
	for {
		p, ok := c.early[c.next]
		if !ok {
			return
		}
		delete(c.early, c.next)
		c.next++
		c.in.write(p)
	}
}

func (c *boshConn) Read(p []byte) (int, error) { return c.in.read(p) }

func (c *boshConn) Write(p []byte) (int, error) {
	if err := c.exchange(string(p)); err != nil {
		return 0, err
	}
	return len(p), nil
}

// kill abandons the session: no request is sent any more, the held one
// is given up, and reading ends.
func (c *boshConn) kill() {
	c.once.Do(func() {
		c.cancel()
		c.polling.Wait()
		c.in.close(io.EOF)
	})
}

func (c *boshConn) Close() error                     { c.kill(); return nil }
func (c *boshConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c *boshConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (c *boshConn) SetDeadline(time.Time) error      { return nil }
func (c *boshConn) SetReadDeadline(time.Time) error  { return nil }
func (c *boshConn) SetWriteDeadline(time.Time) error { return nil }

// pipe is an unbounded in-memory pipe: writing never blocks (so a
// response is never held up by the reader, which may be waiting for a
// write of its own), reading waits for data or the end.
type pipe struct {
	mu   sync.Mutex
	cond *sync.Cond
	buf  []byte
	err  error
}

func newPipe() *pipe {
	p := &pipe{}
	p.cond = sync.NewCond(&p.mu)
	return p
}

func (p *pipe) write(s string) {
	p.mu.Lock()
	p.buf = append(p.buf, s...)
	p.mu.Unlock()
	p.cond.Broadcast()
}

func (p *pipe) close(err error) {
	p.mu.Lock()
	if p.err == nil {
		p.err = err
	}
	p.mu.Unlock()
	p.cond.Broadcast()
}

func (p *pipe) read(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for len(p.buf) == 0 && p.err == nil {
		p.cond.Wait()
	}
	if len(p.buf) == 0 {
		return 0, p.err
	}
	n := copy(b, p.buf)
	p.buf = p.buf[n:]
	return n, nil
}
