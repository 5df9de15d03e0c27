package load

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
)

// Result is one measured run. Latencies are in microseconds.
type Result struct {
	Name       string           `json:"name"`
	Requests   int64            `json:"requests"`
	Successes  int64            `json:"successes"`
	Errors     map[string]int64 `json:"errors"`
	Seconds    float64          `json:"seconds"`
	Throughput float64          `json:"ops_per_second"`
	P50        float64          `json:"p50_us"`
	P90        float64          `json:"p90_us"`
	P99        float64          `json:"p99_us"`
	Max        float64          `json:"max_us"`
	Memory     *memoryReport    `json:"server_memory,omitempty"`
	// Removed and SessionWaitSeconds describe recycling (target run only):
	// player sessions removed, and the worker-seconds spent finding no free slot.
	Removed            int64   `json:"removed_player_sessions,omitempty"`
	SessionWaitSeconds float64 `json:"session_wait_seconds,omitempty"`
}

type memoryReport struct {
	Before memory `json:"before"`
	After  memory `json:"after"`
}

// Validation is the end-of-run consistency check.
type Validation struct {
	OK                    bool     `json:"ok"`
	Reservations          int64    `json:"reservations"`
	Removed               int64    `json:"removed"`
	TransportErrors       int64    `json:"transport_errors"`
	GameSessions          int      `json:"game_sessions"`
	CurrentPlayerSessions int64    `json:"current_player_sessions"`
	MaxCurrent            int64    `json:"max_current_player_sessions"`
	Problems              []string `json:"problems,omitempty"`
}

// Report is everything one `openlift load` measured.
type Report struct {
	Endpoint        string  `json:"endpoint"`
	Client          string  `json:"client"`
	Concurrency     int     `json:"concurrency"`
	DurationSeconds float64 `json:"duration_seconds"`
	Processes       int     `json:"processes"`
	Sessions        int     `json:"game_sessions"`
	CPUs            int     `json:"cpus"`
	LoadAverage     string  `json:"load_average"`
	CPUProfile      string  `json:"cpu_profile,omitempty"`

	Target     Result      `json:"target"`
	Baseline   *Result     `json:"baseline,omitempty"`
	Validation *Validation `json:"validation"`
	// Ratios are target over baseline: throughput below 1 is the share of
	// the HTTP floor openlift reaches, latency above 1 what it adds.
	ThroughputRatio float64 `json:"throughput_ratio,omitempty"`
	P50Ratio        float64 `json:"p50_ratio,omitempty"`
	P99Ratio        float64 `json:"p99_ratio,omitempty"`
}

func (r *Report) compare() {
	b := r.Baseline
	if b.Throughput > 0 {
		r.ThroughputRatio = r.Target.Throughput / b.Throughput
	}
	if b.P50 > 0 {
		r.P50Ratio = r.Target.P50 / b.P50
	}
	if b.P99 > 0 {
		r.P99Ratio = r.Target.P99 / b.P99
	}
}

// WriteJSON writes the report as one indented JSON document.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteTable writes the report for a person.
func (r *Report) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "endpoint %s, client %s, concurrency %d, %gs, %d processes, %d game sessions x %d slots\n",
		r.Endpoint, r.Client, r.Concurrency, r.DurationSeconds, r.Processes, r.Sessions, Slots)
	fmt.Fprintf(w, "%d CPUs, load average %s\n\n", r.CPUs, r.LoadAverage)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "run\trequests\tok\terrors\tops/s\tp50 µs\tp90 µs\tp99 µs\tmax µs\tRSS before\tRSS after\tpeak RSS\t")
	row := func(x *Result) {
		before, after, peak := "-", "-", "-"
		if x.Memory != nil {
			before, after, peak = kib(x.Memory.Before.RSS), kib(x.Memory.After.RSS), kib(x.Memory.After.HWM)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t%s\t%s\t%s\t\n", x.Name, x.Requests, x.Successes,
			x.Requests-x.Successes, x.Throughput, x.P50, x.P90, x.P99, x.Max, before, after, peak)
	}
	row(&r.Target)
	if r.Baseline != nil {
		row(r.Baseline)
	}
	tw.Flush()
	if r.Baseline != nil {
		fmt.Fprintf(w, "\nvs HTTP floor: %.2fx throughput, %.2fx p50, %.2fx p99\n", r.ThroughputRatio, r.P50Ratio, r.P99Ratio)
	}
	for _, x := range []*Result{&r.Target, r.Baseline} {
		if x == nil || len(x.Errors) == 0 {
			continue
		}
		codes := make([]string, 0, len(x.Errors))
		for c := range x.Errors {
			codes = append(codes, c)
		}
		slices.Sort(codes)
		parts := make([]string, len(codes))
		for i, c := range codes {
			parts[i] = fmt.Sprintf("%s %d", c, x.Errors[c])
		}
		fmt.Fprintf(w, "errors (%s): %s\n", x.Name, strings.Join(parts, ", "))
	}
	if r.Target.Removed > 0 || r.Target.SessionWaitSeconds > 0 {
		fmt.Fprintf(w, "recycling: %d player sessions removed, workers waited %.2f worker-seconds for a free game session\n", r.Target.Removed, r.Target.SessionWaitSeconds)
	}
	if v := r.Validation; v != nil {
		status := "OK"
		if !v.OK {
			status = "FAILED"
		}
		fmt.Fprintf(w, "validation %s: %d reservations - %d removed = %d; %d game sessions hold %d (max %d of %d)\n",
			status, v.Reservations, v.Removed, v.Reservations-v.Removed, v.GameSessions, v.CurrentPlayerSessions, v.MaxCurrent, Slots)
		for _, p := range v.Problems {
			fmt.Fprintf(w, "  %s\n", p)
		}
	}
	if r.CPUProfile != "" {
		fmt.Fprintf(w, "server CPU profile: %s (go tool pprof %s)\n", r.CPUProfile, r.CPUProfile)
	}
	return nil
}

func kib(n int64) string {
	if n == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/1024)
}
