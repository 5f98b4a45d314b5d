package server

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/parleyim/parley/internal/admin"
	"github.com/parleyim/parley/internal/features/upload"
	"github.com/parleyim/parley/internal/module"
)

// newUpload builds the XEP-0363 upload service when it is active
// (upload.enabled and an HTTP listener or public URL); s.upload stays nil
// otherwise.
func (s *Server) newUpload() error {
	if !s.cfg.UploadActive() {
		return nil
	}
	u := s.cfg.Upload
	svc, err := upload.New(upload.Config{
		Host: s.router, DB: s.db, Log: s.log, Domains: s.cfg.Domains, Subdomain: u.Subdomain,
		MaxFileSize: u.MaxFileSize, Quota: u.QuotaPerUser, SlotsPerMinute: u.SlotsPerMinute, ExpireAfter: u.ExpireAfter.D(), SlotTimeout: u.SlotTimeout.D(),
		Dir: s.cfg.UploadDir(), BaseURL: s.uploadBaseURL,
	})
	if err != nil {
		return fmt.Errorf("server: %w", err)
	}
	s.upload = svc
	return nil
}

// uploadModules is the upload service, if any.
func (s *Server) uploadModules() []module.Registrar {
	if s.upload == nil {
		return nil
	}
	return []module.Registrar{s.upload}
}

// uploadHandler is the upload service's HTTP handler (nil without one).
func (s *Server) uploadHandler() http.Handler {
	if s.upload == nil {
		return nil
	}
	return s.upload
}

// startUpload runs the sweeper of expired uploads.
func (s *Server) startUpload(ctx context.Context) {
	if s.upload != nil {
		s.goTracked(func() { s.upload.Run(ctx) })
	}
}

// uploadBaseURL is upload.public_url, or https://<domain>:<bound TLS
// port> (http:// and the plain port without TLS).
func (s *Server) uploadBaseURL(domain string) string {
	if u := s.cfg.Upload.PublicURL; u != "" {
		return strings.TrimSuffix(u, "/")
	}
	scheme, addr := "https", s.web.Addr("http-tls")
	if addr == "" {
		scheme, addr = "http", s.web.Addr("http")
	}
	_, port, _ := net.SplitHostPort(addr)
	return scheme + "://" + net.JoinHostPort(domain, port)
}

// uploadUsage gives the admin surface the upload store's usage.
type uploadUsage struct{ s *upload.Store }

func (u uploadUsage) Usage(ctx context.Context) ([]admin.UploadUsage, error) {
	us, err := u.s.AllUsage(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]admin.UploadUsage, len(us))
	for i, x := range us {
		out[i] = admin.UploadUsage{User: x.Owner, Files: x.Files, Slots: x.Slots, Bytes: x.Bytes}
	}
	return out, nil
}
