package upload_test

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/xmpptest"
)

// benchSize is the file of BenchmarkUpload100MB: 100 MB.
const benchSize = 100_000_000

// BenchmarkUpload100MB PUTs and GETs a 100 MB file over HTTPS on loopback
// (slot over XMPP each time) and reports MB/s of each and the process's
// peak RSS during the transfers (client and server share the process; the
// client streams too, so the peak shows the server does not hold the file).
//
//	go test -run '^$' -bench Upload100MB -benchtime 3x ./internal/features/upload
func BenchmarkUpload100MB(b *testing.B) {
	srv := xmpptest.Start(b, func(c *config.Config) { c.Upload.QuotaPerUser = 0 })
	srv.AddUser(b, "alice@localhost", "pw")
	alice := srv.Dial(b, "alice@localhost", "pw", xmpptest.DialOptions{})
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: srv.TLSConfig(b, "localhost")}}
	resetPeakRSS(b)
	base := rssKB(b, "VmRSS")
	var put, get time.Duration
	for i := 0; i < b.N; i++ {
		s := grant(b, alice, "big.bin", benchSize, "")
		t0 := time.Now()
		req, _ := http.NewRequest(http.MethodPut, s.Put, io.LimitReader(zeros{}, benchSize))
		req.ContentLength = benchSize
		resp, err := hc.Do(req)
		if err != nil || resp.StatusCode != http.StatusCreated {
			b.Fatalf("PUT: %v %v", resp, err)
		}
		resp.Body.Close()
		t1 := time.Now()
		resp, err = hc.Get(s.Get)
		if err != nil || resp.StatusCode != http.StatusOK {
			b.Fatalf("GET: %v %v", resp, err)
		}
		n, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil || n != benchSize {
			b.Fatalf("GET body: %d %v", n, err)
		}
		put += t1.Sub(t0)
		get += time.Since(t1)
	}
	mb := float64(benchSize) / 1e6 * float64(b.N)
	b.ReportMetric(mb/put.Seconds(), "PUT-MB/s")
	b.ReportMetric(mb/get.Seconds(), "GET-MB/s")
	b.ReportMetric(float64(rssKB(b, "VmHWM"))/1024, "peak-RSS-MiB")
	b.ReportMetric(float64(base)/1024, "RSS-before-MiB")
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// resetPeakRSS resets VmHWM (Linux: clear_refs 5).
func resetPeakRSS(b *testing.B) {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		b.Logf("cannot reset peak RSS: %v", err)
	}
}

// rssKB reads a field of /proc/self/status in kB.
func rssKB(b *testing.B, field string) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		b.Skip("no /proc/self/status")
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := bytes.CutPrefix(sc.Bytes(), []byte(field+":")); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(string(v)), " kB"), 10, 64)
			return n
		}
	}
	return 0
}
