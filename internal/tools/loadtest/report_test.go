package loadtest

import (
	"bytes"
	"strings"
	"testing"
)

func TestReportRoundTripAndRatios(t *testing.T) {
	mk := func(label string, rate, p99 float64) Result {
		r := Result{Scenario: "chat", Label: label, Params: map[string]string{"pairs": "10"}}
		r.add("throughput", rate, "/s")
		r.addDur("p99", 0)
		r.Metrics[1].Value = p99
		return r
	}
	var buf bytes.Buffer
	for _, r := range []Result{mk("parley", 200, 1), mk("prosody", 100, 4), mk("ejabberd", 400, 0.5)} {
		if err := r.WriteJSON(&buf); err != nil {
			t.Fatal(err)
		}
	}
	rs, err := ReadJSON(&buf)
	if err != nil || len(rs) != 3 {
		t.Fatalf("read back %d results: %v", len(rs), err)
	}
	if v, ok := rs[1].Get("throughput_per_s"); !ok || v != 100 {
		t.Fatalf("metric lost in the round trip: %+v", rs[1].Metrics)
	}
	var md bytes.Buffer
	if err := WriteMarkdown(&md, rs, "parley"); err != nil {
		t.Fatal(err)
	}
	out := md.String()
	for _, want := range []string{
		"#### chat, pairs=10",
		"| metric | parley | prosody | ejabberd | parley vs prosody | parley vs ejabberd |",
		"| throughput_per_s | 200 | 100 | 400 | 2.00× (better) | 0.50× (worse) |",
		"| p99_ms | 1 | 4 | 0.50 | 0.25× (better) | 2.00× (worse) |",
	} {
		if !strings.Contains(out, want) {
			t.Fatalf("report lacks %q:\n%s", want, out)
		}
	}
}
