package httpd_test

import (
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/xmpptest"
)

func get(t *testing.T, c *http.Client, url string, h http.Header) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// TestHostMeta: XEP-0156 §3 documents list the WebSocket and BOSH URLs on
// the scheme and host the request came by, or the configured ones; a page
// of another origin may read them (CORS).
func TestHostMeta(t *testing.T) {
	srv := xmpptest.Start(t)
	httpsClient := &http.Client{Transport: &http.Transport{TLSClientConfig: srv.TLSConfig(t, "localhost")}}
	host := srv.Addr("http-tls")
	resp, body := get(t, httpsClient, "https://"+host+"/.well-known/host-meta", http.Header{"Origin": {"https://app.example"}})
	var xrd struct {
		XMLName xml.Name
		Links   []struct {
			Rel  string `xml:"rel,attr"`
			Href string `xml:"href,attr"`
		} `xml:"Link"`
	}
	if err := xml.Unmarshal([]byte(body), &xrd); err != nil || xrd.XMLName.Space != "http://docs.oasis-open.org/ns/xri/xrd-1.0" {
		t.Fatalf("host-meta %q: %v", body, err)
	}
	links := map[string]string{}
	for _, l := range xrd.Links {
		links[l.Rel] = l.Href
	}
	if links["urn:xmpp:alt-connections:websocket"] != "wss://"+host+"/xmpp-websocket" || links["urn:xmpp:alt-connections:xbosh"] != "https://"+host+"/http-bind" {
		t.Errorf("host-meta links %v", links)
	}
	if resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("host-meta not readable from any origin: %v", resp.Header)
	}

	srv2 := xmpptest.Start(t, func(c *config.Config) {
		c.HTTP.WebSocketURL = "wss://chat.example.org/ws"
		c.HTTP.BOSHURL = "https://chat.example.org/bosh"
	})
	_, body = get(t, http.DefaultClient, "http://"+srv2.Addr("http")+"/.well-known/host-meta.json", nil)
	var jrd struct {
		Links []struct{ Rel, Href string } `json:"links"`
	}
	if err := json.Unmarshal([]byte(body), &jrd); err != nil || len(jrd.Links) != 2 {
		t.Fatalf("host-meta.json %q: %v", body, err)
	}
	for _, l := range jrd.Links {
		if !strings.HasPrefix(l.Href, "wss://chat.example.org/ws") && !strings.HasPrefix(l.Href, "https://chat.example.org/bosh") {
			t.Errorf("configured URL not used: %+v", l)
		}
	}
}

// TestCORSPreflight: a preflight for BOSH from an allowed origin is
// answered; from another origin it is refused and gets no CORS headers.
func TestCORSPreflight(t *testing.T) {
	srv := xmpptest.Start(t, func(c *config.Config) { c.HTTP.CORSOrigins = []string{"https://app.example"} })
	url := "http://" + srv.Addr("http") + "/http-bind"
	preflight := func(origin string) *http.Response {
		req, _ := http.NewRequest(http.MethodOptions, url, nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "content-type")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	ok := preflight("https://app.example")
	if ok.StatusCode != http.StatusNoContent || ok.Header.Get("Access-Control-Allow-Origin") != "https://app.example" ||
		!strings.Contains(ok.Header.Get("Access-Control-Allow-Methods"), "POST") || !strings.EqualFold(ok.Header.Get("Access-Control-Allow-Headers"), "content-type") {
		t.Errorf("allowed preflight: %d %v", ok.StatusCode, ok.Header)
	}
	no := preflight("https://evil.example")
	if no.StatusCode != http.StatusForbidden || no.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("refused preflight: %d %v", no.StatusCode, no.Header)
	}
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader("<body/>"))
	req.Header.Set("Origin", "https://evil.example")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("CORS header on BOSH for an origin not allowed: %v", resp.Header)
	}
}
