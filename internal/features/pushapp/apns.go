package pushapp

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/storage"
)

// APNsTokenLifetime is how long a provider token (JWT) is reused: APNs
// refuses one older than an hour and one refreshed more often than every
// 20 minutes (TooManyProviderTokenUpdates).
const APNsTokenLifetime = 40 * time.Minute

// apns sends to Apple Push Notification service over HTTP/2 with
// token-based authentication.
type apns struct {
	cfg    config.APNs
	key    *ecdsa.PrivateKey
	client *http.Client
	now    func() time.Time

	mu     sync.Mutex
	token  string
	issued time.Time
}

// bearer returns the provider token, signing a new one when there is none
// or it is older than APNsTokenLifetime, or when stale (the token APNs
// said had expired) is still the current one.
func (a *apns) bearer(stale string) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now()
	if a.token != "" && a.token != stale && now.Sub(a.issued) < APNsTokenLifetime {
		return a.token, nil
	}
	tok, err := SignES256(a.key, map[string]string{"alg": "ES256", "kid": a.cfg.KeyID},
		map[string]any{"iss": a.cfg.TeamID, "iat": now.Unix()})
	if err != nil {
		return "", fmt.Errorf("apns: provider token: %w", err)
	}
	a.token, a.issued = tok, now
	return tok, nil
}

// apnsPayload is the JSON body: the alert (or, for background pushes,
// content-available) and the summary's fields beside aps.
func (a *apns) payload(s Summary) []byte {
	aps := map[string]any{}
	if a.cfg.PushType == "background" {
		aps["content-available"] = 1
	} else {
		alert := map[string]string{"body": a.cfg.AlertBody}
		if a.cfg.AlertTitle != "" {
			alert["title"] = a.cfg.AlertTitle
		}
		aps["alert"] = alert
		aps["sound"] = "default"
	}
	p := map[string]any{"aps": aps}
	if s.MessageCount != "" {
		p["message-count"] = s.MessageCount
	}
	if s.LastMessageSender != "" {
		p["last-message-sender"] = s.LastMessageSender
	}
	return jsonBytes(p)
}

func (a *apns) headers(tok, topic string) http.Header {
	prio := strconv.Itoa(a.cfg.Priority)
	if a.cfg.PushType == "background" {
		prio = "5" // APNs refuses priority 10 for background pushes
	}
	exp := "0"
	if a.cfg.Expiration > 0 {
		exp = strconv.FormatInt(a.now().Add(a.cfg.Expiration.D()).Unix(), 10)
	}
	h := http.Header{
		"Authorization":   {"bearer " + tok},
		"Apns-Topic":      {topic},
		"Apns-Push-Type":  {a.cfg.PushType},
		"Apns-Priority":   {prio},
		"Apns-Expiration": {exp},
		"Content-Type":    {"application/json"},
	}
	if a.cfg.CollapseID != "" {
		h.Set("Apns-Collapse-Id", a.cfg.CollapseID)
	}
	return h
}

func (a *apns) send(ctx context.Context, d storage.PushDevice, s Summary) (outcome, string) {
	base := a.cfg.URL
	if d.Sandbox {
		base = a.cfg.SandboxURL
	}
	u := base + "/3/device/" + url.PathEscape(d.Token)
	body := a.payload(s)
	stale := ""
	for try := 0; try < 2; try++ {
		tok, err := a.bearer(stale)
		if err != nil {
			return failed, err.Error()
		}
		status, answer, err := post(ctx, a.client, u, a.headers(tok, d.Topic), body)
		if err != nil {
			return transient, err.Error()
		}
		out, reason := apnsOutcome(status, answer)
		if reason != "ExpiredProviderToken" || try > 0 {
			return out, reason
		}
		stale = tok // sign a new token and try once more
	}
	return failed, "ExpiredProviderToken"
}

// apnsOutcome classifies an APNs answer by status and reason.
func apnsOutcome(status int, answer []byte) (outcome, string) {
	var e struct {
		Reason string `json:"reason"`
	}
	json.Unmarshal(answer, &e) // no reason is "" below
	reason := e.Reason
	if reason == "" {
		reason = http.StatusText(status)
	}
	switch {
	case status == http.StatusOK:
		return delivered, ""
	case status == http.StatusGone, status == http.StatusBadRequest && (reason == "BadDeviceToken" || reason == "DeviceTokenNotForTopic"):
		return dead, reason
	case retryable(status):
		return transient, reason
	}
	return failed, reason
}
