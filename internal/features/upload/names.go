package upload

import (
	"errors"
	"fmt"
	"mime"
	"net/url"
	"strings"
	"unicode/utf8"
)

// MaxFilenameBytes and MaxContentTypeBytes bound what a slot request may
// name.
const (
	MaxFilenameBytes    = 255
	MaxContentTypeBytes = 255
)

// checkFilename refuses names that are empty, too long, not UTF-8, carry
// a path separator or a control character, or are "." or "..". The name
// only ever appears in the URL and in Content-Disposition; on disk a file
// is named by its slot id.
func checkFilename(name string) error {
	switch {
	case name == "":
		return errors.New("filename is missing")
	case len(name) > MaxFilenameBytes:
		return fmt.Errorf("filename is longer than %d bytes", MaxFilenameBytes)
	case !utf8.ValidString(name):
		return errors.New("filename is not UTF-8")
	case name == "." || name == "..":
		return errors.New("filename may not be . or ..")
	case strings.ContainsAny(name, `/\`):
		return errors.New("filename may not contain / or \\")
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return errors.New("filename may not contain control characters")
		}
	}
	return nil
}

// checkContentType parses a MIME type and returns it in canonical form.
func checkContentType(ct string) (string, error) {
	if len(ct) > MaxContentTypeBytes {
		return "", fmt.Errorf("content-type is longer than %d bytes", MaxContentTypeBytes)
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || !strings.Contains(mt, "/") {
		return "", fmt.Errorf("content-type %q is not a MIME type", ct)
	}
	return mime.FormatMediaType(mt, params), nil
}

// sameContentType reports whether a PUT's Content-Type is the slot's.
func sameContentType(slot, header string) bool {
	h, err := checkContentType(header)
	return err == nil && strings.EqualFold(h, slot)
}

// filePath is the URL path of a slot: /upload/<id>/<escaped filename>.
func filePath(sl Slot) string {
	return PathPrefix + sl.ID + "/" + url.PathEscape(sl.Filename)
}

// servedType is the Content-Type a file is served with: the slot's, else
// one guessed from the filename's extension, else octet-stream.
func servedType(sl Slot) string {
	if sl.ContentType != "" {
		return sl.ContentType
	}
	if i := strings.LastIndexByte(sl.Filename, '.'); i >= 0 {
		if t := mime.TypeByExtension(sl.Filename[i:]); t != "" {
			return t
		}
	}
	return "application/octet-stream"
}

// disposition is the Content-Disposition of a file (RFC 6266): inline for
// images, audio and video, attachment otherwise; an ASCII filename for old
// clients and filename* (RFC 8187) with the exact name.
func disposition(contentType, name string) string {
	kind := "attachment"
	for _, p := range []string{"image/", "audio/", "video/"} {
		if strings.HasPrefix(strings.ToLower(contentType), p) {
			kind = "inline"
		}
	}
	ascii := strings.Map(func(r rune) rune {
		if r < 0x20 || r >= 0x7f || r == '"' || r == '\\' || r == '%' {
			return '_'
		}
		return r
	}, name)
	return kind + `; filename="` + ascii + `"; filename*=UTF-8''` + rfc8187(name)
}

// rfc8187 percent-encodes s except for attr-char (RFC 8187 §3.2.1).
func rfc8187(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$&+-.^_`|~", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}
