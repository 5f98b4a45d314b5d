package sasl

import (
	"context"
	"crypto/tls"
	"errors"
	"strings"
	"testing"
)

var fuzzMechs = []string{ScramSHA1, ScramSHA256, ScramSHA512, ScramSHA1Plus, ScramSHA256Plus, ScramSHA512Plus}

// fuzzOptions is a TLS 1.3 connection with a certificate, so that every
// mechanism and both binding types are available, and a cheap Lookup
// (1 iteration) so that PLAIN runs fast.
func fuzzOptions(tb testing.TB) Options {
	e := newTLSEnv(tb, tls.VersionTLS13, certP256)
	cheap := map[string]Credentials{}
	for _, h := range Hashes {
		c, err := DeriveCredentials(h, "pencil", []byte("0123456789abcdef"), 1)
		if err != nil {
			tb.Fatal(err)
		}
		cheap[string(h)] = c
	}
	return Options{
		TLS: &e.server, ServerCert: e.cert, UnknownUserIterations: 1,
		Lookup: func(_ context.Context, u string, h Hash) (Credentials, error) {
			switch u {
			case "romeo":
				return cheap[string(h)], nil
			case "error":
				return Credentials{}, errors.New("boom")
			}
			return Credentials{}, ErrUnknownUser
		},
	}
}

// checkResult asserts the fuzz property: no panic (implicit), and every
// error is a *Failure with a known condition.
func checkResult(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var f *Failure
	if !errors.As(err, &f) {
		t.Fatalf("error %v (%T) is not a *Failure", err, err)
	}
	switch f.Condition {
	case MalformedRequest, NotAuthorized, TemporaryAuthFailure:
	default:
		t.Fatalf("unexpected condition %q", f.Condition)
	}
}

func FuzzSCRAMClientFirst(f *testing.F) {
	o := fuzzOptions(f)
	for i := range fuzzMechs {
		f.Add(uint8(i), []byte("n,,n=romeo,r=fyko+d2lbbFgONRv9qkxdawL"))
		f.Add(uint8(i), []byte("y,a=romeo@example.net,n=romeo,r=abc,x=ext"))
		f.Add(uint8(i), []byte("p=tls-exporter,,n=romeo,r=abc"))
		f.Add(uint8(i), []byte("p=tls-server-end-point,a=a=2Cb=3Dc,n=nobody,r=abc"))
	}
	f.Fuzz(func(t *testing.T, mech uint8, msg []byte) {
		s, err := NewServer(fuzzMechs[int(mech)%len(fuzzMechs)], o)
		if err != nil {
			t.Fatal(err)
		}
		out, done, err := s.Step(context.Background(), msg)
		checkResult(t, err)
		if done {
			t.Fatal("done after one SCRAM message")
		}
		if err != nil || len(msg) == 0 {
			return
		}
		if !strings.HasPrefix(string(out), "r=") {
			t.Fatalf("server-first %q", out)
		}
		// Whatever was accepted, a forged final message must not be.
		_, done, err = s.Step(context.Background(), []byte("c=biws,r=x,p=AAAA"))
		if done || err == nil {
			t.Fatal("forged client-final accepted")
		}
		checkResult(t, err)
	})
}

// fuzzFinalSetup starts a negotiation with a fixed server nonce, so the
// fuzzer can reach the proof check, and returns the valid final message.
func fuzzFinalSetup(tb testing.TB, o Options, plus bool) (*Server, []byte) {
	mech, flag, cb := ScramSHA256, "n", []byte(nil)
	if plus {
		mech, flag = ScramSHA256Plus, "p=tls-exporter"
		var err error
		if cb, err = exportKeyingMaterial(o.TLS); err != nil {
			tb.Fatal(err)
		}
	}
	s, err := NewServer(mech, o)
	if err != nil {
		tb.Fatal(err)
	}
	s.scram.rand = fixedRand(7)
	c := &testClient{hashName: "SHA-256", user: "romeo", password: "pencil", flag: flag, cbData: cb}
	out, _, err := s.Step(context.Background(), c.first())
	if err != nil {
		tb.Fatal(err)
	}
	final, err := c.final(out)
	if err != nil {
		tb.Fatal(err)
	}
	return s, final
}

func FuzzSCRAMClientFinal(f *testing.F) {
	o := fuzzOptions(f)
	for _, plus := range []bool{false, true} {
		_, valid := fuzzFinalSetup(f, o, plus)
		f.Add(plus, valid)
		f.Add(plus, []byte(strings.Replace(string(valid), ",p=", ",x=y,p=", 1)))
		f.Add(plus, []byte(strings.Replace(string(valid), "c=", "c=A", 1)))
	}
	f.Fuzz(func(t *testing.T, plus bool, msg []byte) {
		s, valid := fuzzFinalSetup(t, o, plus)
		out, done, err := s.Step(context.Background(), msg)
		checkResult(t, err)
		if done {
			// Only the one valid message (or an equivalent with ignored
			// extensions) can succeed.
			if !strings.HasPrefix(string(out), "v=") {
				t.Fatalf("success data %q", out)
			}
			i := strings.LastIndex(string(msg), ",p=")
			j := strings.LastIndex(string(valid), ",p=")
			if string(msg[i:]) != string(valid[j:]) {
				t.Fatalf("accepted a proof other than the valid one: %q", msg)
			}
		}
	})
}

func FuzzPLAIN(f *testing.F) {
	o := fuzzOptions(f)
	f.Add([]byte("\x00romeo\x00pencil"))
	f.Add([]byte("romeo@example.net\x00romeo\x00pencil"))
	f.Add([]byte("\x00nobody\x00pencil"))
	f.Add([]byte("\x00error\x00pencil"))
	f.Add([]byte("\x00romeo\x00pen\u00a0cil"))
	f.Fuzz(func(t *testing.T, msg []byte) {
		s, err := NewServer(Plain, o)
		if err != nil {
			t.Fatal(err)
		}
		out, done, err := s.Step(context.Background(), msg)
		checkResult(t, err)
		if msg == nil {
			if err != nil || done || out == nil {
				t.Fatalf("no initial response: %q %v %v; want an empty challenge", out, done, err)
			}
			return
		}
		if len(msg) == 0 {
			if err == nil {
				t.Fatalf("empty initial response got %q, not a failure", out)
			}
			return
		}
		if done {
			if out != nil || s.Username() != "romeo" {
				t.Fatalf("accepted %q as %q", msg, s.Username())
			}
			i := strings.LastIndexByte(string(msg), 0)
			if p, _ := PreparePassword(string(msg[i+1:])); p != "pencil" {
				t.Fatalf("accepted password %q", msg[i+1:])
			}
		}
	})
}
