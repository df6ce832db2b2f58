package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// metric is one figure measured once per run.
type metric struct {
	Unit    string    `json:"unit"`
	Samples []float64 `json:"samples"`
	Median  float64   `json:"median"`
	Min     float64   `json:"min"`
	Max     float64   `json:"max"`
}

// results collects every figure of every run, in the order first measured.
type results struct {
	Metrics map[string]*metric `json:"metrics"`
	order   []string
}

func newResults() *results { return &results{Metrics: map[string]*metric{}} }

func (r *results) add(key, unit string, value float64) {
	m, ok := r.Metrics[key]
	if !ok {
		m = &metric{Unit: unit}
		r.Metrics[key] = m
		r.order = append(r.order, key)
	}
	m.Samples = append(m.Samples, value)
	m.Median = median(m.Samples)
	m.Min, m.Max = slices.Min(m.Samples), slices.Max(m.Samples)
}

func (r *results) median(key string) (float64, bool) {
	m, ok := r.Metrics[key]
	if !ok || len(m.Samples) == 0 {
		return 0, false
	}
	return m.Median, true
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// percentile is the nearest-rank percentile of durations (p in 0..100).
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	return s[min(max(rank, 1), len(s))-1]
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// row is one line of the summary table: a gateway figure beside its baseline.
type row struct {
	Figure   string `json:"figure"`
	Key      string `json:"key"`
	Baseline string `json:"baseline"`
	BaseKey  string `json:"baseline_key"`
	Goal     string `json:"goal"`
}

// rowResult is a row with its numbers, as written to JSON.
type rowResult struct {
	row
	Unit     string  `json:"unit"`
	Median   float64 `json:"median"`
	Min      float64 `json:"min"`
	Max      float64 `json:"max"`
	Runs     int     `json:"runs"`
	BaseLine float64 `json:"baseline_median"`
	BaseUnit string  `json:"baseline_unit"`
	Ratio    float64 `json:"ratio"`
}

// pairedRatio is the median of the per-run ratios when both figures were measured in
// every run (each run's figure over the baseline measured beside it, which cancels the
// shared machine's drift between runs), else the ratio of the medians.
func pairedRatio(xs, bases []float64) float64 {
	if len(xs) == len(bases) {
		var ratios []float64
		for i := range xs {
			if bases[i] != 0 {
				ratios = append(ratios, xs[i]/bases[i])
			}
		}
		if len(ratios) == len(xs) {
			return median(ratios)
		}
	}
	if b := median(bases); b != 0 {
		return median(xs) / b
	}
	return math.NaN()
}

func format(v float64, unit string) string {
	if math.IsNaN(v) {
		return "-"
	}
	switch {
	case math.Abs(v) >= 100:
		return fmt.Sprintf("%.0f %s", v, unit)
	case math.Abs(v) >= 10:
		return fmt.Sprintf("%.1f %s", v, unit)
	default:
		return fmt.Sprintf("%.2f %s", v, unit)
	}
}

func (r *results) rowResults(rows []row) []rowResult {
	var out []rowResult
	for _, rw := range rows {
		m, ok := r.Metrics[rw.Key]
		if !ok {
			continue
		}
		rr := rowResult{row: rw, Unit: m.Unit, Median: m.Median, Min: m.Min, Max: m.Max,
			Runs: len(m.Samples), BaseLine: math.NaN(), Ratio: math.NaN()}
		if base, ok := r.Metrics[rw.BaseKey]; ok && len(base.Samples) > 0 {
			rr.BaseLine, rr.BaseUnit = base.Median, base.Unit
			rr.Ratio = pairedRatio(m.Samples, base.Samples)
		}
		out = append(out, rr)
	}
	return out
}

// printTable writes the summary: figure, gateway median (min–max), baseline, ratio, goal.
func printTable(w io.Writer, rows []rowResult) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "figure\tgateway median (min–max)\tbaseline\tbaseline median\tratio\tgoal")
	fmt.Fprintln(tw, "------\t------------------------\t--------\t---------------\t-----\t----")
	for _, r := range rows {
		spread := ""
		if r.Runs > 1 {
			spread = fmt.Sprintf(" (%s–%s)", trimUnit(format(r.Min, r.Unit)), trimUnit(format(r.Max, r.Unit)))
		}
		ratio := "-"
		if !math.IsNaN(r.Ratio) {
			ratio = fmt.Sprintf("%.2f×", r.Ratio)
		}
		fmt.Fprintf(tw, "%s\t%s%s\t%s\t%s\t%s\t%s\n", r.Figure, format(r.Median, r.Unit), spread,
			r.Baseline, format(r.BaseLine, r.BaseUnit), ratio, r.Goal)
	}
	tw.Flush()
	fmt.Fprintln(w, "\nratio: the median over runs of each run's figure ÷ the baseline measured in the same run;")
	fmt.Fprintln(w, "spread: the lowest and highest run. No figure is checked against its goal.")
}

func trimUnit(s string) string {
	v, _, _ := strings.Cut(s, " ")
	return v
}

// writeJSON writes v as indented JSON, replacing NaN (not JSON) with null via a pass
// through a generic map.
func writeJSON(path string, v any) error {
	raw, err := json.Marshal(sanitize(v))
	if err != nil {
		return err
	}
	var pretty any
	if err := json.Unmarshal(raw, &pretty); err != nil {
		return err
	}
	out, err := json.MarshalIndent(pretty, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(out, '\n'), 0o644)
}

// sanitize turns NaN floats into nil, recursively, for the types the report uses.
func sanitize(v any) any {
	switch t := v.(type) {
	case float64:
		if math.IsNaN(t) || math.IsInf(t, 0) {
			return nil
		}
		return t
	case []rowResult:
		out := make([]map[string]any, 0, len(t))
		for _, r := range t {
			out = append(out, map[string]any{
				"figure": r.Figure, "key": r.Key, "baseline": r.Baseline, "baseline_key": r.BaseKey,
				"goal": r.Goal, "unit": r.Unit, "median": sanitize(r.Median), "min": sanitize(r.Min),
				"max": sanitize(r.Max), "runs": r.Runs, "baseline_median": sanitize(r.BaseLine),
				"baseline_unit": r.BaseUnit, "ratio": sanitize(r.Ratio),
			})
		}
		return out
	case map[string]any:
		out := map[string]any{}
		for k, x := range t {
			out[k] = sanitize(x)
		}
		return out
	default:
		return v
	}
}
