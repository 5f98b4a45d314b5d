package httpd

import (
	"encoding/json"
	"encoding/xml"
	"net/http"
	"strings"
)

// Link relations of XEP-0156 §3.
const (
	RelWebSocket = "urn:xmpp:alt-connections:websocket"
	RelBOSH      = "urn:xmpp:alt-connections:xbosh"
)

type link struct {
	Rel  string `json:"rel" xml:"rel,attr"`
	Href string `json:"href" xml:"href,attr"`
}

// links are the connection methods host-meta lists: the configured public
// URLs, or URLs on the host and scheme the request came by.
func (s *Server) links(r *http.Request) []link {
	ws, bosh := s.cfg.WebSocketURL, s.cfg.BOSHURL
	secure := s.secureRequest(r)
	if ws == "" {
		ws = scheme("ws", secure) + "://" + r.Host + PathWebSocket
	}
	if bosh == "" {
		bosh = scheme("http", secure) + "://" + r.Host + PathBOSH
	}
	return []link{{RelWebSocket, ws}, {RelBOSH, bosh}}
}

func scheme(s string, secure bool) string {
	if secure {
		return s + "s"
	}
	return s
}

// hostMeta serves the XRD document (RFC 6415 §3, XEP-0156 §3.2.1).
func (s *Server) hostMeta(w http.ResponseWriter, r *http.Request) {
	if !getOnly(w, r) {
		return
	}
	var b strings.Builder
	b.WriteString("<?xml version='1.0' encoding='utf-8'?>\n<XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'>\n")
	for _, l := range s.links(r) {
		b.WriteString("  <Link rel='")
		xml.EscapeText(&b, []byte(l.Rel))
		b.WriteString("' href='")
		xml.EscapeText(&b, []byte(l.Href))
		b.WriteString("'/>\n")
	}
	b.WriteString("</XRD>\n")
	w.Header().Set("Content-Type", "application/xrd+xml; charset=utf-8")
	w.Write([]byte(b.String()))
}

// hostMetaJSON serves the JRD document (RFC 6415 appendix A, XEP-0156
// §3.2.2).
func (s *Server) hostMetaJSON(w http.ResponseWriter, r *http.Request) {
	if !getOnly(w, r) {
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(struct {
		Links []link `json:"links"`
	}{s.links(r)})
}

func getOnly(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	w.Header().Set("Allow", "GET, HEAD, OPTIONS")
	http.Error(w, "only GET", http.StatusMethodNotAllowed)
	return false
}
