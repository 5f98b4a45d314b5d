package pushapp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/parleyim/parley/internal/storage"
)

// Summary is what a notification tells the phone (XEP-0357 §7's summary
// form, as far as the configuration lets it through; never a body).
type Summary struct {
	MessageCount      string // "" when not included
	LastMessageSender string // "" when not included
}

// outcome is what became of one request to a provider.
type outcome string

const (
	delivered outcome = "delivered"
	dead      outcome = "unregistered" // the token is dead: disable the registration
	transient outcome = "retry"        // 429, 5xx or no answer: try again later
	failed    outcome = "failed"       // refused for another reason: give up, keep the registration
)

// provider delivers to one push service. send makes one request (and,
// when the provider says its credential expired, one more with a fresh
// one) and reports the outcome with the provider's reason.
type provider interface {
	send(ctx context.Context, d storage.PushDevice, s Summary) (outcome, string)
}

// maxBody bounds what is read of a provider's answer.
const maxBody = 64 << 10

// post sends body to url with the given headers and returns the status
// and the (bounded) answer; err is a failure to get an answer at all.
func post(ctx context.Context, c *http.Client, url string, header http.Header, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, fmt.Errorf("request to %s: %w", url, err)
	}
	req.Header = header
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("post %s: %w", url, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return resp.StatusCode, nil, fmt.Errorf("read answer of %s: %w", url, err)
	}
	return resp.StatusCode, data, nil
}

// retryable reports whether an HTTP status asks to try again later.
func retryable(status int) bool {
	return status == http.StatusTooManyRequests || status >= 500
}

// jsonBytes marshals v, which cannot fail for the types used here.
func jsonBytes(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("pushapp: marshal: " + err.Error())
	}
	return b
}
