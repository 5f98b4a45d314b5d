package httpd_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/xmpptest"
)

// TestShutdownWebSessions: on shutdown a WebSocket session gets
// <system-shutdown/> and <close/>, and a BOSH session's held request a
// terminal body carrying it; the server's shutdown does not wait on them.
func TestShutdownWebSessions(t *testing.T) {
	srv := xmpptest.Start(t)
	srv.AddUser(t, "alice@localhost", "pw-alice")
	srv.AddUser(t, "bob@localhost", "pw-bob")
	w := dialRaw(t, "ws://"+srv.Addr("http")+"/xmpp-websocket", nil)
	alice := loginRaw(w)
	b := newBOSHClient(t, boshURL(srv), srv.TLSConfig(t, "localhost"))
	b.loginWith("bob", "pw-bob", 60, 1)
	// A request that stays held (nothing answers it for 'wait'); alice
	// receiving its message shows it arrived.
	type answer struct {
		r   boshResp
		err error
	}
	held := make(chan answer, 1)
	go func() {
		r, err := b.tryPost(b.body(b.nextRid(), "", "<message xmlns='jabber:client' to='"+alice+"' type='chat'><body>held</body></message>"))
		held <- answer{r, err}
	}()
	w.until("held")

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if e := w.until("stream:error"); !strings.Contains(e, "system-shutdown") {
		t.Errorf("WebSocket got %q", e)
	}
	w.until("<close")
	var r boshResp
	select {
	case a := <-held:
		if a.err != nil {
			t.Fatalf("held BOSH request: %v", a.err)
		}
		r = a.r
	case <-time.After(wait):
		t.Fatal("the held BOSH request was not answered")
	}
	if r.attrs["type"] != "terminate" || r.attrs["condition"] != "remote-stream-error" || !strings.Contains(r.inner, "system-shutdown") {
		t.Errorf("held BOSH request answered %s", r.raw)
	}
}
