package upload

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
)

// ServeHTTP serves /upload/<slot>/<filename>: PUT (with the signature),
// GET and HEAD, and CORS preflights. The URLs are capabilities (no
// cookies), so any origin may use them.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := &statusRecorder{ResponseWriter: w}
	defer func() { countRequest(r.Method, rec.code) }()
	s.serve(rec, r)
}

func (s *Service) serve(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	if r.Method == http.MethodOptions {
		h.Set("Access-Control-Allow-Methods", "GET, HEAD, PUT, OPTIONS")
		h.Set("Access-Control-Allow-Headers", "Content-Type")
		if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
			h.Set("Access-Control-Allow-Headers", req)
		}
		h.Set("Access-Control-Max-Age", "86400")
		h.Set("Allow", "GET, HEAD, PUT, OPTIONS")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	h.Set("Access-Control-Expose-Headers", "Content-Length, Content-Type, Content-Disposition")
	sl, ok := s.lookup(w, r)
	if !ok {
		return
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		s.get(w, r, sl)
	case http.MethodPut:
		s.put(w, r, sl)
	default:
		h.Set("Allow", "GET, HEAD, PUT, OPTIONS")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// lookup finds the slot a URL names; a URL that names no slot, or names
// it with another filename, is 404.
func (s *Service) lookup(w http.ResponseWriter, r *http.Request) (Slot, bool) {
	id, name, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, PathPrefix), "/")
	if !ok || !validID(id) {
		http.NotFound(w, r)
		return Slot{}, false
	}
	sl, err := s.store.Get(r.Context(), id)
	if errors.Is(err, ErrNoSlot) || err == nil && sl.Filename != name {
		http.NotFound(w, r)
		return Slot{}, false
	}
	if err != nil {
		s.log.Error("looking up slot failed", "slot", id, "err", err)
		http.Error(w, "the upload store is unavailable", http.StatusServiceUnavailable)
		return Slot{}, false
	}
	return sl, true
}

// validID: 32 lower-case hex digits.
func validID(id string) bool {
	if len(id) != 32 {
		return false
	}
	for _, c := range id {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// diskPath is where a slot's file is kept (its id only).
func (s *Service) diskPath(id string) string { return filepath.Join(s.files, id) }

func (s *Service) get(w http.ResponseWriter, r *http.Request, sl Slot) {
	if sl.Uploaded.IsZero() || !s.now().Before(sl.Expires) {
		http.NotFound(w, r)
		return
	}
	f, err := os.Open(s.diskPath(sl.ID))
	if err != nil {
		s.log.Error("opening uploaded file failed", "slot", sl.ID, "err", err)
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	ct := servedType(sl)
	h := w.Header()
	h.Set("Content-Type", ct)
	h.Set("Content-Disposition", disposition(ct, sl.Filename))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cache-Control", "private, max-age=86400")
	http.ServeContent(w, r, "", sl.Uploaded, f)
}

// put takes the one upload of a slot.
func (s *Service) put(w http.ResponseWriter, r *http.Request, sl Slot) {
	if code, msg := s.checkPut(r, sl); code != 0 {
		http.Error(w, msg, code)
		return
	}
	err := s.receive(r.Context(), r.Body, sl)
	var he httpError
	switch {
	case errors.As(err, &he):
		http.Error(w, he.msg, he.code)
	case err != nil:
		s.log.Error("storing upload failed", "slot", sl.ID, "err", err)
		http.Error(w, "the file could not be stored", http.StatusInternalServerError)
	default:
		s.log.Info("file uploaded", "owner", sl.Owner, "slot", sl.ID, "bytes", sl.Size)
		mBytesIn.Add(float64(sl.Size))
		w.WriteHeader(http.StatusCreated)
	}
}

// checkPut checks a PUT against its slot before reading the body: the
// signature, that the slot is unused and open, the exact length and the
// content type.
func (s *Service) checkPut(r *http.Request, sl Slot) (int, string) {
	switch {
	case !s.validSignature(sl, r.URL.Query().Get("sig")):
		return http.StatusForbidden, "the upload URL's signature is not valid for this slot"
	case !sl.Uploaded.IsZero():
		return http.StatusConflict, "this slot has been used already"
	case !s.now().Before(sl.PutBefore):
		return http.StatusGone, "this slot expired; request a new one"
	case r.ContentLength < 0:
		return http.StatusLengthRequired, "Content-Length is required"
	case r.ContentLength != sl.Size:
		return http.StatusBadRequest, fmt.Sprintf("Content-Length is %d; the slot is for %d bytes", r.ContentLength, sl.Size)
	case sl.ContentType != "" && !sameContentType(sl.ContentType, r.Header.Get("Content-Type")):
		return http.StatusUnsupportedMediaType, fmt.Sprintf("Content-Type %q is not the slot's %q", r.Header.Get("Content-Type"), sl.ContentType)
	}
	return 0, ""
}

type httpError struct {
	code int
	msg  string
}

func (e httpError) Error() string { return e.msg }

// receive streams body to the slot's file: into <id>.part (created
// exclusively, so concurrent PUTs of one slot cannot share it), then
// linked to <id> (which fails if it exists) and recorded as uploaded.
func (s *Service) receive(ctx context.Context, body io.Reader, sl Slot) error {
	final := s.diskPath(sl.ID)
	part := final + ".part"
	f, err := os.OpenFile(part, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return httpError{http.StatusConflict, "an upload to this slot is in progress"}
	}
	if err != nil {
		return fmt.Errorf("create %s: %w", part, err)
	}
	defer os.Remove(part)
	n, err := io.Copy(f, io.LimitReader(body, sl.Size+1))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	switch {
	case err != nil:
		return httpError{http.StatusBadRequest, "the upload did not complete: " + err.Error()}
	case n != sl.Size:
		return httpError{http.StatusBadRequest, fmt.Sprintf("got %d bytes; the slot is for %d", n, sl.Size)}
	}
	if err := os.Link(part, final); errors.Is(err, fs.ErrExist) {
		return httpError{http.StatusConflict, "this slot has been used already"}
	} else if err != nil {
		return fmt.Errorf("link %s: %w", final, err)
	}
	ok, err := s.store.MarkUploaded(ctx, sl.ID, s.now())
	if err != nil || !ok {
		os.Remove(final)
	}
	if err != nil {
		return err
	}
	if !ok {
		return httpError{http.StatusConflict, "this slot expired or was used during the upload"}
	}
	return nil
}
