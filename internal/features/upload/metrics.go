package upload

import (
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/parleyim/parley/internal/metrics"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/prometheus/client_golang/prometheus"
)

var (
	mSlots = metrics.Register(prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "parley_upload_slots_total",
		Help: "XEP-0363 slot requests by outcome (granted, too_large, quota, rate, bad_request, not_allowed).",
	}, []string{"outcome"}))
	mTransfers = metrics.Register(prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "parley_upload_http_total", Help: "Upload HTTP requests by method and status code class (2xx, 4xx, 5xx).",
	}, []string{"method", "class"}))
	mBytes = metrics.Register(prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "parley_upload_bytes_total", Help: "Bytes of files stored (in) and served (out).",
	}, []string{"direction"}))
	mExpired = metrics.Register(prometheus.NewCounter(prometheus.CounterOpts{
		Name: "parley_upload_expired_total", Help: "Files and unused slots deleted by the expiry sweeper.",
	}))

	mBytesIn  = mBytes.WithLabelValues("in")
	mBytesOut = mBytes.WithLabelValues("out")
)

// slotOutcome is the metrics label of a slot request's result (err nil:
// granted).
func slotOutcome(err error) string {
	var se *stanza.Error
	switch {
	case err == nil:
		return "granted"
	case !errors.As(err, &se):
		return "error"
	}
	switch se.Condition {
	case stanza.NotAcceptable:
		return "too_large"
	case stanza.ResourceConstraint:
		if se.App != nil {
			return "rate"
		}
		return "quota"
	case stanza.BadRequest:
		return "bad_request"
	case stanza.NotAllowed:
		return "not_allowed"
	}
	return "error"
}

// statusRecorder remembers the status code a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	if r.code == http.StatusOK || r.code == http.StatusPartialContent {
		mBytesOut.Add(float64(n))
	}
	return n, err
}

// ReadFrom keeps the connection's io.ReaderFrom (sendfile on plain
// HTTP) for http.ServeContent.
func (r *statusRecorder) ReadFrom(src io.Reader) (int64, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	var n int64
	var err error
	if rf, ok := r.ResponseWriter.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(src)
	} else {
		n, err = io.Copy(struct{ io.Writer }{r.ResponseWriter}, src)
	}
	if r.code == http.StatusOK || r.code == http.StatusPartialContent {
		mBytesOut.Add(float64(n))
	}
	return n, err
}

// Unwrap is for http.ResponseController.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// countRequest counts a finished request by method and status class.
func countRequest(method string, code int) {
	if code == 0 {
		code = http.StatusOK
	}
	mTransfers.WithLabelValues(method, strconv.Itoa(code/100)+"xx").Inc()
}
