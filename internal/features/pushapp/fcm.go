package pushapp

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/parleyim/parley/internal/storage"
)

// FCMScope is the OAuth2 scope of the FCM HTTP v1 API.
const FCMScope = "https://www.googleapis.com/auth/firebase.messaging"

// ServiceAccount is what is read of a Google service account's JSON key.
type ServiceAccount struct {
	ProjectID    string `json:"project_id"`
	PrivateKeyID string `json:"private_key_id"`
	PrivateKey   string `json:"private_key"`
	ClientEmail  string `json:"client_email"`
	TokenURI     string `json:"token_uri"`
}

// ParseServiceAccount reads a service account's JSON key and its RSA
// private key.
func ParseServiceAccount(data []byte) (ServiceAccount, *rsa.PrivateKey, error) {
	var sa ServiceAccount
	if err := json.Unmarshal(data, &sa); err != nil {
		return sa, nil, fmt.Errorf("fcm service account: %w", err)
	}
	if sa.ProjectID == "" || sa.ClientEmail == "" || sa.PrivateKey == "" {
		return sa, nil, errors.New("fcm service account: project_id, client_email and private_key are required")
	}
	k, err := parsePKCS8([]byte(sa.PrivateKey))
	if err != nil {
		return sa, nil, fmt.Errorf("fcm service account: %w", err)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return sa, nil, errors.New("fcm service account: private_key is not an RSA key")
	}
	return sa, rk, nil
}

// fcm sends with the Firebase Cloud Messaging HTTP v1 API, with an OAuth2
// access token obtained by the JWT bearer grant (RFC 7523) and cached
// until shortly before it expires.
type fcm struct {
	sa       ServiceAccount
	key      *rsa.PrivateKey
	url      string // API base
	tokenURI string
	client   *http.Client
	now      func() time.Time

	mu      sync.Mutex
	access  string
	expires time.Time
}

// accessToken returns the cached access token or obtains a new one; stale
// is one the API refused (obtain anew if it is still the cached one).
func (f *fcm) accessToken(ctx context.Context, stale string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.access != "" && f.access != stale && f.now().Before(f.expires) {
		return f.access, nil
	}
	now := f.now()
	assertion, err := SignRS256(f.key, map[string]string{"alg": "RS256", "typ": "JWT", "kid": f.sa.PrivateKeyID},
		map[string]any{"iss": f.sa.ClientEmail, "scope": FCMScope, "aud": f.tokenURI, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()})
	if err != nil {
		return "", fmt.Errorf("fcm: assertion: %w", err)
	}
	form := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {assertion}}
	status, answer, err := post(ctx, f.client, f.tokenURI,
		http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, []byte(form.Encode()))
	if err != nil {
		return "", fmt.Errorf("fcm: token: %w", err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	if status != http.StatusOK || json.Unmarshal(answer, &tok) != nil || tok.AccessToken == "" {
		return "", fmt.Errorf("fcm: token endpoint answered %d: %.200s", status, answer)
	}
	f.access = tok.AccessToken
	// Renew a minute early; a token without a lifetime is used once.
	f.expires = now.Add(time.Duration(tok.ExpiresIn)*time.Second - time.Minute)
	return f.access, nil
}

// message is the HTTP v1 request body: data-only, high priority on
// Android so the app wakes up and fetches its messages itself.
func (f *fcm) message(token string, s Summary) []byte {
	data := map[string]string{}
	if s.MessageCount != "" {
		data["message-count"] = s.MessageCount
	}
	if s.LastMessageSender != "" {
		data["last-message-sender"] = s.LastMessageSender
	}
	return jsonBytes(map[string]any{"message": map[string]any{
		"token": token, "data": data, "android": map[string]string{"priority": "high"},
	}})
}

func (f *fcm) send(ctx context.Context, d storage.PushDevice, s Summary) (outcome, string) {
	u := f.url + "/v1/projects/" + url.PathEscape(f.sa.ProjectID) + "/messages:send"
	body := f.message(d.Token, s)
	stale := ""
	for try := 0; try < 2; try++ {
		tok, err := f.accessToken(ctx, stale)
		if err != nil {
			return transient, err.Error()
		}
		status, answer, err := post(ctx, f.client, u, http.Header{
			"Authorization": {"Bearer " + tok}, "Content-Type": {"application/json"},
		}, body)
		if err != nil {
			return transient, err.Error()
		}
		if status != http.StatusUnauthorized || try > 0 {
			return fcmOutcome(status, answer)
		}
		stale = tok // obtain a new access token and try once more
	}
	return failed, "UNAUTHENTICATED"
}

// fcmOutcome classifies an FCM answer: the error's status, or the
// FcmError detail's errorCode when there is one.
func fcmOutcome(status int, answer []byte) (outcome, string) {
	if status == http.StatusOK {
		return delivered, ""
	}
	var e struct {
		Error struct {
			Status  string `json:"status"`
			Details []struct {
				ErrorCode string `json:"errorCode"`
			} `json:"details"`
		} `json:"error"`
	}
	json.Unmarshal(answer, &e) // an unreadable answer classifies by status
	reason := e.Error.Status
	for _, d := range e.Error.Details {
		if d.ErrorCode != "" {
			reason = d.ErrorCode
		}
	}
	if reason == "" {
		reason = http.StatusText(status)
	}
	switch {
	case status == http.StatusNotFound || reason == "UNREGISTERED",
		status == http.StatusBadRequest && reason == "INVALID_ARGUMENT":
		return dead, reason
	case retryable(status):
		return transient, reason
	}
	return failed, reason
}
