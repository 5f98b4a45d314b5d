package upload_test

import (
	"bytes"
	"encoding/xml"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/xmpptest"
)

// start runs a server with users alice and bob (password "pw").
func start(t *testing.T, f func(u *config.Upload)) *xmpptest.Server {
	t.Helper()
	srv := xmpptest.Start(t, func(c *config.Config) {
		if f != nil {
			f(&c.Upload)
		}
	})
	for _, u := range []string{"alice", "bob"} {
		srv.AddUser(t, u+"@localhost", "pw")
	}
	return srv
}

// slot is a granted slot's URLs.
type slot struct{ Put, Get string }

type slotIQ struct {
	Type string `xml:"type,attr"`
	Slot struct {
		Put struct {
			URL string `xml:"url,attr"`
		} `xml:"put"`
		Get struct {
			URL string `xml:"url,attr"`
		} `xml:"get"`
	} `xml:"urn:xmpp:http:upload:0 slot"`
}

// request asks for a slot and returns the iq answer.
func request(t testing.TB, c *xmpptest.Client, filename string, size int64, ctype string) xmpptest.Stanza {
	t.Helper()
	var b strings.Builder
	b.WriteString(`<iq type='get' id='slot' to='upload.localhost'><request xmlns='urn:xmpp:http:upload:0' filename='`)
	xml.EscapeText(&b, []byte(filename))
	b.WriteString(`' size='` + itoa(size) + `'`)
	if ctype != "" {
		b.WriteString(` content-type='` + ctype + `'`)
	}
	b.WriteString(`/></iq>`)
	return c.IQ(t, b.String())
}

// grant requests a slot that must be granted.
func grant(t testing.TB, c *xmpptest.Client, filename string, size int64, ctype string) slot {
	t.Helper()
	st := request(t, c, filename, size, ctype)
	var iq slotIQ
	if err := xml.Unmarshal([]byte(st.Inner), &iq); err != nil || iq.Type != "result" || iq.Slot.Put.URL == "" || iq.Slot.Get.URL == "" {
		t.Fatalf("slot request for %q: %v\n%s", filename, err, st.Inner)
	}
	return slot{Put: iq.Slot.Put.URL, Get: iq.Slot.Get.URL}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// httpClient trusts the test server's certificates.
func httpClient(t *testing.T, srv *xmpptest.Server) *http.Client {
	return &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{TLSClientConfig: srv.TLSConfig(t, "localhost")}}
}

// do sends a request and returns the status, headers and body.
func do(t *testing.T, hc *http.Client, method, url string, body []byte, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: body: %v", method, url, err)
	}
	return resp, b
}

// put uploads body with content type ct and returns the status.
func put(t *testing.T, hc *http.Client, url string, body []byte, ct string) int {
	t.Helper()
	h := map[string]string{}
	if ct != "" {
		h["Content-Type"] = ct
	}
	resp, msg := do(t, hc, http.MethodPut, url, body, h)
	if resp.StatusCode != http.StatusCreated {
		t.Logf("PUT %s: %d %s", url, resp.StatusCode, msg)
	}
	return resp.StatusCode
}

// errorCond reports whether the iq answer is an error with condition cond.
func errorCond(st xmpptest.Stanza, cond string) bool {
	return st.Attr("type") == "error" && strings.Contains(st.Inner, "<"+cond+" xmlns=\"urn:ietf:params:xml:ns:xmpp-stanzas\"")
}

// between returns what s holds between from and to ("" if not found).
func between(s, from, to string) string {
	_, rest, ok := strings.Cut(s, from)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, to)
	return v
}
