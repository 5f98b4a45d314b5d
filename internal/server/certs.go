package server

import (
	"context"
	"os"
	"time"
)

// certWatchInterval is how often the certificate files are checked for a
// change (a renewal written by certbot or an ACME client).
const certWatchInterval = 10 * time.Second

// ReloadCertificates reads the certificates again (SIGHUP, or their files
// changed): new TLS handshakes on every listener get the new ones;
// established connections and sessions are not touched. On an error the
// old certificates stay and the error is returned (and logged).
func (s *Server) ReloadCertificates() error {
	if err := s.certs.Reload(); err != nil {
		s.log.Error("certificates not reloaded; the ones in use stay", "err", err)
		return err
	}
	s.log.Info("certificates reloaded", "files", len(s.certs.Files()))
	return nil
}

// watchCertificates reloads the certificates when one of their files
// changes (modification time or size) from last (certStamp), until ctx
// ends.
func (s *Server) watchCertificates(ctx context.Context, every time.Duration, last string) {
	tick(ctx, every, func() {
		if now := s.certStamp(); now != last {
			last = now
			s.ReloadCertificates()
		}
	})
}

// tick calls f every interval until ctx ends.
func tick(ctx context.Context, every time.Duration, f func()) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			f()
		}
	}
}

// certStamp sums what identifies the files' current contents.
func (s *Server) certStamp() string {
	var b []byte
	for _, f := range s.certs.Files() {
		if fi, err := os.Stat(f); err == nil {
			b = fi.ModTime().AppendFormat(b, time.RFC3339Nano)
			b = append(b, byte(fi.Size()), byte(fi.Size()>>8), byte(fi.Size()>>16))
		}
		b = append(b, 0)
	}
	return string(b)
}
