package c2s_test

import (
	"context"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/metrics"
	"github.com/parleyim/parley/internal/xmpptest"
)

const nsSASL = "urn:ietf:params:xml:ns:xmpp-sasl"

// logRecorder keeps the server's log records as flat attribute maps.
type logRecorder struct {
	mu   sync.Mutex
	recs []map[string]string
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logRecorder) WithGroup(string) slog.Handler            { return l }

func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	m := map[string]string{"msg": r.Message, "level": r.Level.String()}
	r.Attrs(func(a slog.Attr) bool { m[a.Key] = a.Value.String(); return true })
	l.mu.Lock()
	l.recs = append(l.recs, m)
	l.mu.Unlock()
	return nil
}

// messages returns the records with message msg.
func (l *logRecorder) messages(msg string) []map[string]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]string
	for _, r := range l.recs {
		if r["msg"] == msg {
			out = append(out, r)
		}
	}
	return out
}

// saslFailures reads parley_sasl_failures_total for reason and mechanism.
func saslFailures(t *testing.T, reason, mech string) float64 {
	t.Helper()
	mfs, err := metrics.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "parley_sasl_failures_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			got := map[string]string{}
			for _, lp := range m.GetLabel() {
				got[lp.GetName()] = lp.GetValue()
			}
			if got["reason"] == reason && got["mechanism"] == mech {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

// tls13 opens a stream, runs STARTTLS (TLS 1.3) and returns the features.
func tls13(t *testing.T, srv *xmpptest.Server) (*xmpptest.Raw, string) {
	t.Helper()
	r := srv.Raw(t)
	r.Open("localhost")
	cfg := srv.TLSConfig(t, "localhost")
	cfg.MinVersion = tls.VersionTLS13
	return r, r.StartTLS(cfg, "localhost")
}

// saslAnswer reads the server's next <challenge/>, <success/> or <failure/>,
// or a stream error.
func saslAnswer(t *testing.T, r *xmpptest.Raw) string {
	t.Helper()
	out, err := r.ReadUntilAny([]string{"</challenge>", "</success>", "<success xmlns='" + nsSASL + "'/>", "</failure>", "</stream:stream>"}, wait)
	if err != nil {
		t.Fatalf("no SASL answer: %v; got %q", err, out)
	}
	return out
}

func auth(mech, payload string) string {
	return "<auth xmlns='" + nsSASL + "' mechanism='" + mech + "'>" + payload + "</auth>"
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// scramSHA256 runs SCRAM-SHA-256 (RFC 5802, RFC 7677) on r with the gs2
// flag (n or y) and returns the server's last answer.
func scramSHA256(t *testing.T, r *xmpptest.Raw, flag, user, password string) string {
	t.Helper()
	header := flag + ",,"
	bare := "n=" + user + ",r=clientnonce0123"
	r.Write(auth("SCRAM-SHA-256", b64(header+bare)))
	out := saslAnswer(t, r)
	if !strings.Contains(out, "<challenge") {
		return out
	}
	text := out[strings.Index(out, ">")+1 : strings.LastIndex(out, "</challenge>")]
	sf, err := base64.StdEncoding.DecodeString(text)
	if err != nil {
		t.Fatalf("challenge %q: %v", out, err)
	}
	var nonce, salt string
	var iter int
	for _, kv := range strings.Split(string(sf), ",") {
		switch kv[:2] {
		case "r=":
			nonce = kv[2:]
		case "s=":
			salt = kv[2:]
		case "i=":
			iter, _ = strconv.Atoi(kv[2:])
		}
	}
	rawSalt, _ := base64.StdEncoding.DecodeString(salt)
	salted, err := pbkdf2.Key(sha256.New, password, rawSalt, iter, sha256.Size)
	if err != nil {
		t.Fatal(err)
	}
	mac := func(key []byte, msg string) []byte {
		h := hmac.New(sha256.New, key)
		h.Write([]byte(msg))
		return h.Sum(nil)
	}
	clientKey := mac(salted, "Client Key")
	stored := sha256.Sum256(clientKey)
	withoutProof := "c=" + b64(header) + ",r=" + nonce
	sig := mac(stored[:], bare+","+string(sf)+","+withoutProof)
	for i := range clientKey {
		clientKey[i] ^= sig[i]
	}
	r.Write("<response xmlns='" + nsSASL + "'>" + b64(withoutProof+",p="+base64.StdEncoding.EncodeToString(clientKey)) + "</response>")
	return saslAnswer(t, r)
}

// TestEmptyPLAINResponse: an empty PLAIN response ("=") is malformed (RFC
// 4616 §2, RFC 6120 §6.4.2), whether in <auth/> or in the <response/> to
// the empty challenge that an <auth/> without text gets; none of it ends
// the stream, and the client then logs in.
func TestEmptyPLAINResponse(t *testing.T) {
	srv := xmpptest.Start(t)
	srv.AddUser(t, "alice@localhost", "pw")
	r, _ := tls13(t, srv)
	r.Write(auth("PLAIN", "="))
	if out := saslAnswer(t, r); !strings.Contains(out, "<failure xmlns='"+nsSASL+"'><malformed-request/>") {
		t.Fatalf("<auth>=</auth>: %q; want a malformed-request failure", out)
	}
	for _, resp := range []string{"<response xmlns='" + nsSASL + "'/>", "<response xmlns='" + nsSASL + "'>=</response>"} {
		r.Write("<auth xmlns='" + nsSASL + "' mechanism='PLAIN'/>")
		if out := saslAnswer(t, r); out != "<challenge xmlns='"+nsSASL+"'>=</challenge>" {
			t.Fatalf("<auth/> without initial response: %q; want an empty challenge", out)
		}
		r.Write(resp)
		if out := saslAnswer(t, r); !strings.Contains(out, "<malformed-request/>") {
			t.Fatalf("%s: %q; want a malformed-request failure", resp, out)
		}
	}
	if out := r.Plain("", "alice", "pw"); !strings.Contains(out, "success") {
		t.Fatalf("login after the empty responses: %q", out)
	}
}

// TestSASLFallsThroughToPLAIN: a client that walks down the offered
// mechanisms, failing each (an unsupported binding type for -PLUS, a wrong
// password for the rest, as slixmpp does with a mistyped password), reaches
// PLAIN on the same stream; each failure is logged once with its reason,
// peer and stream id, and counted by reason.
func TestSASLFallsThroughToPLAIN(t *testing.T) {
	rec := &logRecorder{}
	srv := xmpptest.StartLogged(t, rec)
	srv.AddUser(t, "alice@localhost", "pw")
	r, features := tls13(t, srv)
	for _, want := range []string{"SCRAM-SHA-512-PLUS", `<sasl-channel-binding xmlns="urn:xmpp:sasl-cb:0"><channel-binding type="tls-exporter"/><channel-binding type="tls-server-end-point"/></sasl-channel-binding>`} {
		if !strings.Contains(features, want) {
			t.Fatalf("features lack %q: %s", want, features)
		}
	}
	before := map[string]float64{
		"binding-unsupported": saslFailures(t, "binding-unsupported", "SCRAM-SHA-512-PLUS"),
		"wrong-password":      saslFailures(t, "wrong-password", "SCRAM-SHA-256"),
		"plain":               saslFailures(t, "wrong-password", "PLAIN"),
	}
	var wantReasons []string
	for _, h := range []string{"512", "256", "1"} {
		r.Write(auth("SCRAM-SHA-"+h+"-PLUS", b64("p=tls-unique,,n=alice,r=abcdefgh")))
		if out := saslAnswer(t, r); !strings.Contains(out, "<not-authorized/>") {
			t.Fatalf("tls-unique on TLS 1.3: %q", out)
		}
		wantReasons = append(wantReasons, "binding-unsupported")
	}
	for range 3 {
		if out := scramSHA256(t, r, "n", "alice", "wrong"); !strings.Contains(out, "<not-authorized/>") {
			t.Fatalf("wrong password: %q", out)
		}
		wantReasons = append(wantReasons, "wrong-password")
	}
	if out := r.Plain("", "alice", "wrong"); !strings.Contains(out, "<not-authorized/>") {
		t.Fatalf("PLAIN, wrong password: %q", out)
	}
	wantReasons = append(wantReasons, "wrong-password")
	if out := r.Plain("", "alice", "pw"); !strings.Contains(out, "success") {
		t.Fatalf("PLAIN after %d failures: %q", len(wantReasons), out)
	}

	logged := rec.messages("sasl failure")
	if len(logged) != len(wantReasons) {
		t.Fatalf("%d failures logged, want %d: %v", len(logged), len(wantReasons), logged)
	}
	for i, l := range logged {
		level := "INFO"
		if wantReasons[i] == "binding-unsupported" {
			level = "DEBUG"
		}
		if l["reason"] != wantReasons[i] || l["peer"] != "127.0.0.1" || l["stream_id"] == "" || l["level"] != level {
			t.Errorf("failure %d logged as %v; want reason %s with peer and stream_id at %s", i, l, wantReasons[i], level)
		}
	}
	if d := saslFailures(t, "binding-unsupported", "SCRAM-SHA-512-PLUS") - before["binding-unsupported"]; d != 1 {
		t.Errorf("binding-unsupported/SCRAM-SHA-512-PLUS counted %v times, want 1", d)
	}
	if d := saslFailures(t, "wrong-password", "SCRAM-SHA-256") - before["wrong-password"]; d != 3 {
		t.Errorf("wrong-password/SCRAM-SHA-256 counted %v times, want 3", d)
	}
	if d := saslFailures(t, "wrong-password", "PLAIN") - before["plain"]; d != 1 {
		t.Errorf("wrong-password/PLAIN counted %v times, want 1", d)
	}
}

// TestFailedLoginsEndStream: failed logins are still bounded per stream:
// one per offered mechanism (seven on TLS 1.3), then policy-violation.
func TestFailedLoginsEndStream(t *testing.T) {
	srv := xmpptest.Start(t, func(c *config.Config) { c.Limits.AuthFailuresPerIP = 100 })
	srv.AddUser(t, "alice@localhost", "pw")
	r, _ := tls13(t, srv)
	for i := 1; i < 7; i++ {
		if out := r.Plain("", "alice", "wrong"); !strings.Contains(out, "<not-authorized/>") || strings.Contains(out, "stream:error") {
			t.Fatalf("failure %d: %q", i, out)
		}
	}
	r.Write(auth("PLAIN", b64("\x00alice\x00wrong")))
	out, closed := r.ReadToEOF(wait)
	if !closed || !strings.Contains(out, "<not-authorized/>") || !strings.Contains(out, "<policy-violation") {
		t.Fatalf("7th failed login: closed=%v %q; want a failure, then policy-violation", closed, out)
	}
}

// TestYFlag: SCRAM with the gs2 flag "y" over TLS 1.3 logs in by default
// (the client may know only tls-unique, which TLS 1.3 lacks), and is
// refused as a downgrade with auth.channel_binding_downgrade = "strict";
// the refusal does not end the stream, so PLAIN still works.
func TestYFlag(t *testing.T) {
	for _, mode := range []string{config.ChannelBindingCompatible, config.ChannelBindingStrict} {
		t.Run(mode, func(t *testing.T) {
			rec := &logRecorder{}
			srv := xmpptest.StartLogged(t, rec, func(c *config.Config) { c.Auth.ChannelBindingDowngrade = mode })
			srv.AddUser(t, "alice@localhost", "pw")
			r, _ := tls13(t, srv)
			out := scramSHA256(t, r, "y", "alice", "pw")
			if mode == config.ChannelBindingCompatible {
				if !strings.Contains(out, "<success") {
					t.Fatalf("y over TLS 1.3: %q; want success", out)
				}
				if l := rec.messages("authenticated"); len(l) != 1 || l[0]["channel_binding"] != "y" || l[0]["mechanism"] != "SCRAM-SHA-256" {
					t.Errorf("logged %v; want one login with SCRAM-SHA-256 and channel_binding=y", l)
				}
				return
			}
			if !strings.Contains(out, "<not-authorized/>") || !strings.Contains(out, "downgrade") {
				t.Fatalf("strict y over TLS 1.3: %q; want a downgrade failure", out)
			}
			if l := rec.messages("sasl failure"); len(l) != 1 || l[0]["reason"] != "downgrade" || l[0]["user"] != "alice" || l[0]["level"] != "INFO" {
				t.Errorf("logged %v; want one downgrade failure for alice", l)
			}
			if out := scramSHA256(t, r, "n", "alice", "pw"); !strings.Contains(out, "<success") {
				t.Fatalf("n after a refused y: %q", out)
			}
		})
	}
}

// TestStartTLSWhitespace: white space sent with <starttls/> in the same
// write (go-sendxmpp sends a newline) is ignored; anything else before
// <proceed/> is still refused.
func TestStartTLSWhitespace(t *testing.T) {
	srv := xmpptest.Start(t)
	srv.AddUser(t, "alice@localhost", "pw")
	for _, tail := range []string{"\n", " \r\n\t "} {
		r := srv.Raw(t)
		r.Open("localhost")
		r.Write("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>" + tail)
		r.ReadUntil("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>", wait)
		tc := tls.Client(r.Conn, srv.TLSConfig(t, "localhost"))
		if err := tc.Handshake(); err != nil {
			t.Fatalf("handshake after <starttls/>%q: %v", tail, err)
		}
		r.Conn = tc
		r.Open("localhost")
		if out := r.Plain("", "alice", "pw"); !strings.Contains(out, "success") {
			t.Fatalf("login after <starttls/>%q: %q", tail, out)
		}
	}
	for _, tail := range []string{"\n<iq type='get' id='x'/>", "x", "\n\x00"} {
		r := srv.Raw(t)
		r.Open("localhost")
		r.Write("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>" + tail)
		out, _ := r.ReadToEOF(wait)
		if strings.Contains(out, "<proceed") || !strings.Contains(out, "policy-violation") && !strings.Contains(out, "not-well-formed") {
			t.Errorf("<starttls/>%q: %q; want a stream error and no <proceed/>", tail, out)
		}
	}
}
