package loadtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync/atomic"
	"text/tabwriter"
	"time"
)

// Metric is one measured figure.
type Metric struct {
	Name  string
	Value float64
	Unit  string // "", "/s", "ms", "us", "B", "KiB", "MiB", ...
}

// Result is what a scenario measured.
type Result struct {
	Scenario string            `json:"scenario"`
	Label    string            `json:"label,omitempty"`  // the server under test, set by the caller
	Params   map[string]string `json:"params,omitempty"` // the scenario's parameters
	Metrics  []Metric          `json:"-"`
	Time     time.Time         `json:"time"`
}

func (r *Result) add(name string, v float64, unit string) {
	r.Metrics = append(r.Metrics, Metric{Name: name, Value: v, Unit: unit})
}

func (r *Result) addDur(name string, d time.Duration) {
	r.add(name, float64(d)/float64(time.Millisecond), "ms")
}

func (r *Result) param(k string, v any) {
	if r.Params == nil {
		r.Params = map[string]string{}
	}
	r.Params[k] = fmt.Sprint(v)
}

// Get returns the value of the metric name and whether it exists.
func (r Result) Get(name string) (float64, bool) {
	for _, m := range r.Metrics {
		if m.Name == name {
			return m.Value, true
		}
	}
	return 0, false
}

// MarshalJSON writes the metrics as an object in measurement order, with
// the unit in the name where there is one ("p99_ms").
func (r Result) MarshalJSON() ([]byte, error) {
	type plain Result
	base, err := json.Marshal(plain(r))
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.Write(base[:len(base)-1])
	b.WriteString(`,"metrics":{`)
	for i, m := range r.Metrics {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(MetricKey(m.Name, m.Unit))
		b.Write(k)
		b.WriteByte(':')
		b.WriteString(strconv.FormatFloat(m.Value, 'g', -1, 64))
	}
	b.WriteString("}}")
	return b.Bytes(), nil
}

// UnmarshalJSON reads what MarshalJSON wrote (the units stay in the names).
func (r *Result) UnmarshalJSON(data []byte) error {
	type plain Result
	var p struct {
		plain
		Metrics json.RawMessage `json:"metrics"`
	}
	if err := json.Unmarshal(data, &p); err != nil {
		return err
	}
	*r = Result(p.plain)
	if len(p.Metrics) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(p.Metrics))
	if _, err := dec.Token(); err != nil {
		return err
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		var v float64
		if err := dec.Decode(&v); err != nil {
			return err
		}
		r.Metrics = append(r.Metrics, Metric{Name: tok.(string), Value: v})
	}
	return nil
}

// MetricKey is the JSON name of a metric: its name with its unit.
func MetricKey(name, unit string) string {
	switch unit {
	case "":
		return name
	case "/s":
		return name + "_per_s"
	}
	return name + "_" + strings.ToLower(unit)
}

// WriteJSON writes r as one JSON line.
func (r Result) WriteJSON(w io.Writer) error {
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("result: encode: %w", err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// WriteTable writes r as an aligned human-readable table.
func (r Result) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	title := r.Scenario
	if r.Label != "" {
		title += " on " + r.Label
	}
	fmt.Fprintf(tw, "%s\t\t\n", title)
	for _, k := range sortedKeys(r.Params) {
		fmt.Fprintf(tw, "  %s\t%s\t\n", k, r.Params[k])
	}
	for _, m := range r.Metrics {
		fmt.Fprintf(tw, "  %s\t%s %s\t\n", m.Name, FormatValue(m.Value), m.Unit)
	}
	return tw.Flush()
}

// FormatValue prints v with a precision that suits its size.
func FormatValue(v float64) string {
	switch a := max(v, -v); {
	case a == 0:
		return "0"
	case a >= 1000 || v == float64(int64(v)):
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case a >= 0.1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
}

// Progress prints a status line (overwritten in place) every interval
// while a scenario runs. A nil Progress prints nothing.
type Progress struct {
	W        io.Writer
	Interval time.Duration
}

// progressState is what a running scenario reports.
type progressState struct {
	name    string
	start   time.Time
	a, b    atomic.Int64 // scenario-defined counters
	aName   string
	bName   string
	stopped chan struct{}
	done    chan struct{}
}

func (p *Progress) start(name, aName, bName string) *progressState {
	st := &progressState{name: name, start: time.Now(), aName: aName, bName: bName,
		stopped: make(chan struct{}), done: make(chan struct{})}
	if p == nil || p.W == nil {
		close(st.done)
		return st
	}
	iv := p.Interval
	if iv <= 0 {
		iv = time.Second
	}
	go func() {
		defer close(st.done)
		t := time.NewTicker(iv)
		defer t.Stop()
		for {
			select {
			case <-st.stopped:
				fmt.Fprintf(p.W, "\r%s\n", st.line())
				return
			case <-t.C:
				fmt.Fprintf(p.W, "\r%s", st.line())
			}
		}
	}()
	return st
}

func (st *progressState) line() string {
	el := time.Since(st.start).Seconds()
	a := st.a.Load()
	s := fmt.Sprintf("%s %6.1fs  %s %d (%.0f/s)", st.name, el, st.aName, a, float64(a)/max(el, 1e-9))
	if st.bName != "" {
		s += fmt.Sprintf("  %s %d", st.bName, st.b.Load())
	}
	return s + "   "
}

func (st *progressState) stop() {
	select {
	case <-st.stopped:
	default:
		close(st.stopped)
	}
	<-st.done
}

// transport records how the scenario reached the server: starttls, and
// direct_tls only when it was used (so results of runs without it keep
// their old variant).
func (r *Result) transport(t *Target) {
	if t.DirectTLS {
		r.param("direct_tls", true)
		r.param("starttls", false)
		return
	}
	r.param("starttls", t.StartTLS)
}
