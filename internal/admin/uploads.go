package admin

import (
	"context"
	"net/http"
)

// uploadTotals sums the usage of every account.
type uploadTotals struct {
	Users, Files, Slots, Bytes int64
}

// uploadUsage returns the usage per account and the totals, or a
// userError when the service is off.
func (c *Console) uploadUsage(ctx context.Context) ([]UploadUsage, uploadTotals, error) {
	if c.Uploads == nil {
		return nil, uploadTotals{}, userError{http.StatusNotFound, "File upload is off on this server (upload.enabled = false, or no [http] listener)."}
	}
	us, err := c.Uploads.Usage(ctx)
	if err != nil {
		return nil, uploadTotals{}, err
	}
	var tot uploadTotals
	for _, u := range us {
		tot.Users++
		tot.Files += u.Files
		tot.Slots += u.Slots
		tot.Bytes += u.Bytes
	}
	return us, tot, nil
}

// uploadsPage shows the upload usage per account and in total.
func (c *Console) uploadsPage(w http.ResponseWriter, r *http.Request, lg *login) {
	us, tot, err := c.uploadUsage(r.Context())
	if err != nil {
		c.failed(w, r, lg, err)
		return
	}
	c.render(w, r, http.StatusOK, "uploads", lg, map[string]any{"Usage": us, "Total": tot,
		"MaxFileSize": c.Config.Upload.MaxFileSize, "Quota": c.Config.Upload.QuotaPerUser, "ExpireAfter": c.Config.Upload.ExpireAfter.D().String()})
}

// apiUploads is GET /api/v1/uploads.
func (c *Console) apiUploads(w http.ResponseWriter, r *http.Request, _ string) error {
	us, tot, err := c.uploadUsage(r.Context())
	if err != nil {
		return err
	}
	type user struct {
		JID   string `json:"jid"`
		Files int64  `json:"files"`
		Slots int64  `json:"open_slots"`
		Bytes int64  `json:"bytes"`
	}
	out := make([]user, len(us))
	for i, u := range us {
		out[i] = user{JID: u.User.String(), Files: u.Files, Slots: u.Slots, Bytes: u.Bytes}
	}
	writeJSON(w, http.StatusOK, map[string]any{"users": out, "total": map[string]int64{
		"users": tot.Users, "files": tot.Files, "open_slots": tot.Slots, "bytes": tot.Bytes}})
	return nil
}
