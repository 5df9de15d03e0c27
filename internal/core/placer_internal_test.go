package core

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/openlift/openlift/internal/model"
)

func TestLatencyCap(t *testing.T) {
	pol := []model.PlayerLatencyPolicy{
		{MaxLatencyMilliseconds: 200, DurationSeconds: 20},
		{MaxLatencyMilliseconds: 50, DurationSeconds: 5},
		{MaxLatencyMilliseconds: 100, DurationSeconds: 10},
	}
	forever := append(slices.Clone(pol), model.PlayerLatencyPolicy{MaxLatencyMilliseconds: 300})
	cases := []struct {
		policies []model.PlayerLatencyPolicy
		elapsed  time.Duration
		want     int32
		capped   bool
	}{
		{nil, 0, 0, false},
		{pol, 0, 50, true},
		{pol, 5*time.Second - 1, 50, true},
		{pol, 5 * time.Second, 100, true},
		{pol, 15*time.Second - 1, 100, true},
		{pol, 15 * time.Second, 200, true},
		{pol, 35*time.Second - 1, 200, true},
		{pol, 35 * time.Second, 0, false},
		{forever, 35 * time.Second, 300, true},
		{forever, time.Hour, 300, true},
	}
	for _, c := range cases {
		got, capped := latencyCap(c.policies, c.elapsed)
		if got != c.want || capped != c.capped {
			t.Errorf("latencyCap(%v, %v) = %d, %v; want %d, %v", c.policies, c.elapsed, got, capped, c.want, c.capped)
		}
	}
}

func TestCandidateOrder(t *testing.T) {
	inf := math.Inf(1)
	cands := []candidate{
		{location: "custom-b", dest: 0, cost: 2, latency: 40},
		{location: "custom-a", dest: 1, cost: 1, latency: 40},
		{location: "custom-c", dest: 0, cost: 1, latency: 10},
		{location: "custom-a", dest: 0, cost: 2, latency: inf},
	}
	order := func(q model.Queue, withLatency bool, override *model.PriorityConfigurationOverride) []string {
		cs := slices.Clone(cands)
		sortCandidates(cs, priorityOrder(q, withLatency), locationRank(q))
		if override != nil {
			cs = applyOverride(cs, override)
		}
		var out []string
		for _, c := range cs {
			out = append(out, c.location+"/"+string(rune('0'+c.dest)))
		}
		return out
	}
	check := func(name string, got, want []string) {
		t.Helper()
		if !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", name, got, want)
		}
	}
	// Default with latencies: latency, then cost, destination, location; no data sorts last.
	check("default with latency", order(model.Queue{}, true, nil), []string{"custom-c/0", "custom-a/1", "custom-b/0", "custom-a/0"})
	// Default without latencies: destination order, then location alphabetically.
	check("default", order(model.Queue{}, false, nil), []string{"custom-a/0", "custom-b/0", "custom-c/0", "custom-a/1"})
	// A custom order; unnamed types follow in the default order.
	q := model.Queue{PriorityConfiguration: &model.PriorityConfiguration{PriorityOrder: []string{"LOCATION"}, LocationOrder: []string{"custom-c", "custom-b"}}}
	check("location order", order(q, false, nil), []string{"custom-c/0", "custom-b/0", "custom-a/1", "custom-a/0"})
	check("override", order(q, false, &model.PriorityConfigurationOverride{LocationOrder: []string{"custom-a", "custom-b"}}),
		[]string{"custom-a/1", "custom-a/0", "custom-b/0", "custom-c/0"})
	check("override, NONE", order(q, false, &model.PriorityConfigurationOverride{LocationOrder: []string{"custom-b"}, PlacementFallbackStrategy: model.FallbackNone}),
		[]string{"custom-b/0"})
	q = model.Queue{PriorityConfiguration: &model.PriorityConfiguration{PriorityOrder: []string{"COST", "DESTINATION"}}}
	check("cost", order(q, true, nil), []string{"custom-c/0", "custom-a/1", "custom-b/0", "custom-a/0"})
}
