package loadtest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// ReadJSON reads the JSON lines WriteJSON wrote; blank lines are skipped.
func ReadJSON(r io.Reader) ([]Result, error) {
	var out []Result
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	for line := 1; sc.Scan(); line++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var res Result
		if err := json.Unmarshal(sc.Bytes(), &res); err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		out = append(out, res)
	}
	return out, sc.Err()
}

// lowerIsBetter says, by metric name prefix, which direction wins.
func lowerIsBetter(name string) bool {
	for _, p := range []string{"p50", "p90", "p99", "max", "server_cpu", "rss", "bytes_per", "lost", "failed", "errors", "time_to_all", "tool_cpu"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// variant is the scenario with its parameters, except the label: the
// results of one variant are comparable across servers.
func variant(r Result) string {
	var b strings.Builder
	b.WriteString(r.Scenario)
	for _, k := range sortedKeys(r.Params) {
		fmt.Fprintf(&b, ", %s=%s", k, r.Params[k])
	}
	return b.String()
}

// WriteMarkdown writes one table per scenario variant: a row per metric,
// a column per server (label) with its absolute figure, and a column per
// other server with baseline's ratio to it, marked better or worse. When
// a label ran a variant more than once, its last result counts.
func WriteMarkdown(w io.Writer, rs []Result, baseline string) error {
	var order []string
	byVariant := map[string]map[string]Result{}
	labels := map[string][]string{}
	for _, r := range rs {
		v := variant(r)
		if byVariant[v] == nil {
			byVariant[v] = map[string]Result{}
			order = append(order, v)
		}
		if _, seen := byVariant[v][r.Label]; !seen {
			labels[v] = append(labels[v], r.Label)
		}
		byVariant[v][r.Label] = r
	}
	for _, v := range order {
		if err := writeVariant(w, v, labels[v], byVariant[v], baseline); err != nil {
			return err
		}
	}
	return nil
}

func writeVariant(w io.Writer, v string, labels []string, res map[string]Result, baseline string) error {
	var peers []string
	for _, l := range labels {
		if l != baseline {
			peers = append(peers, l)
		}
	}
	fmt.Fprintf(w, "#### %s\n\n| metric |", v)
	for _, l := range labels {
		fmt.Fprintf(w, " %s |", l)
	}
	base, hasBase := res[baseline]
	if hasBase {
		for _, p := range peers {
			fmt.Fprintf(w, " %s vs %s |", baseline, p)
		}
	}
	fmt.Fprint(w, "\n| --- |", strings.Repeat(" ---: |", len(labels)+len(peers)*boolInt(hasBase)), "\n")
	for _, m := range metricNames(labels, res) {
		fmt.Fprintf(w, "| %s |", m)
		for _, l := range labels {
			val, ok := res[l].Get(m)
			fmt.Fprintf(w, " %s |", cell(val, ok))
		}
		if hasBase {
			for _, p := range peers {
				fmt.Fprintf(w, " %s |", ratio(m, base, res[p]))
			}
		}
		fmt.Fprintln(w)
	}
	_, err := fmt.Fprintln(w)
	return err
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func metricNames(labels []string, res map[string]Result) []string {
	var names []string
	seen := map[string]bool{}
	for _, l := range labels {
		for _, m := range res[l].Metrics {
			if !seen[m.Name] {
				seen[m.Name] = true
				names = append(names, m.Name)
			}
		}
	}
	return names
}

func cell(v float64, ok bool) string {
	if !ok {
		return "–"
	}
	return FormatValue(v)
}

// ratio is base/peer with a word on which is better.
func ratio(name string, base, peer Result) string {
	b, ok1 := base.Get(name)
	p, ok2 := peer.Get(name)
	if !ok1 || !ok2 || p == 0 || b == 0 {
		return "–"
	}
	q := b / p
	better := q > 1
	if lowerIsBetter(name) {
		better = q < 1
	}
	switch {
	case q > 0.97 && q < 1.03:
		return fmt.Sprintf("%.2f× (same)", q)
	case better:
		return fmt.Sprintf("%.2f× (better)", q)
	}
	return fmt.Sprintf("%.2f× (worse)", q)
}
