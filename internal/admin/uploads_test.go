package admin_test

import (
	"bytes"
	"encoding/xml"
	"net/http"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/xmpptest"
)

// TestUploadUsage: a real client's upload (slot over XMPP, PUT over
// HTTPS) and an open slot show in the console's Uploads page and in
// GET /api/v1/uploads; with the service off both say so.
func TestUploadUsage(t *testing.T) {
	e := start(t)
	e.srv.AddUser(t, "erin@localhost", "pw")
	c := e.srv.Dial(t, "erin@localhost", "pw", xmpptest.DialOptions{})
	var slot struct {
		Put struct {
			URL string `xml:"url,attr"`
		} `xml:"slot>put"`
	}
	st := c.IQ(t, `<iq type='get' id='s1' to='upload.localhost'><request xmlns='urn:xmpp:http:upload:0' filename='a.bin' size='1234'/></iq>`)
	if err := xml.Unmarshal([]byte(st.Inner), &slot); err != nil || slot.Put.URL == "" {
		t.Fatalf("slot: %v %s", err, st.Inner)
	}
	c.IQ(t, `<iq type='get' id='s2' to='upload.localhost'><request xmlns='urn:xmpp:http:upload:0' filename='b.bin' size='100'/></iq>`)
	hc := &http.Client{Timeout: time.Minute, Transport: &http.Transport{TLSClientConfig: e.srv.TLSConfig(t, "localhost")}}
	req, _ := http.NewRequest(http.MethodPut, slot.Put.URL, bytes.NewReader(make([]byte, 1234)))
	resp, err := hc.Do(req)
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT: %v %v", resp, err)
	}
	resp.Body.Close()
	_, tok := e.token(t, "uploads")
	e.api(t, tok, "GET", "/api/v1/uploads", nil).want(t, "uploads API", http.StatusOK,
		`{"jid":"erin@localhost","files":1,"open_slots":1,"bytes":1334}`, `"total":{"bytes":1334,"files":1,"open_slots":1,"users":1}`)
	e.loggedIn(t).get("/uploads").want(t, "uploads page", http.StatusOK, "erin@localhost", "1.3 KiB", "100.0 MiB each")

	off := start(t, func(c *config.Config) { c.Upload.Enabled = false })
	_, tok = off.token(t, "uploads")
	off.api(t, tok, "GET", "/api/v1/uploads", nil).want(t, "uploads API when off", http.StatusNotFound, "File upload is off")
	off.loggedIn(t).get("/uploads").want(t, "uploads page when off", http.StatusNotFound, "File upload is off")
}
