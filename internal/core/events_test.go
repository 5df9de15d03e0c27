package core

import (
	"testing"
	"time"

	"github.com/openlift/openlift/internal/apierr"
	"github.com/openlift/openlift/internal/model"
	"github.com/openlift/openlift/internal/shapes"
)

func TestDescribeFleetEvents(t *testing.T) {
	f := newFx(t)
	f.location("custom-a")
	fl := f.fleet("custom-a") // 2 events at t0
	policies := []string{model.FullProtection, model.NoProtection}
	for i := 1; i <= 6; i++ {
		f.clk.Advance(10 * time.Minute)
		fxMust(f.svc.UpdateFleetAttributes(f.ctx, &shapes.UpdateFleetAttributesInput{
			FleetId: ptr(fl.ID), NewGameSessionProtectionPolicy: policies[(i+1)%2],
		}))(t)
	}
	// Another fleet's events never show up.
	f.fleet("custom-a")

	all, pages := walkPages(t, func(next *string) ([]shapes.Event, *string, error) {
		out, err := f.svc.DescribeFleetEvents(f.ctx, &shapes.DescribeFleetEventsInput{FleetId: ptr(fl.Arn), Limit: ptr(int32(3)), NextToken: next})
		if err != nil {
			return nil, nil, err
		}
		return out.Events, out.NextToken, nil
	})
	if len(all) != 8 || pages != 3 {
		t.Fatalf("got %d events in %d pages; want 8 in 3", len(all), pages)
	}
	ids := map[string]bool{}
	for i, e := range all {
		if deref(e.ResourceId) != fl.ID {
			t.Fatalf("event %d belongs to %s", i, deref(e.ResourceId))
		}
		if ids[deref(e.EventId)] {
			t.Fatalf("event id %s repeated", deref(e.EventId))
		}
		ids[deref(e.EventId)] = true
		if i > 0 && e.EventTime.Time.After(all[i-1].EventTime.Time) {
			t.Fatalf("events not newest first at %d: %v after %v", i, e.EventTime.Time, all[i-1].EventTime.Time)
		}
	}
	if got := all[0].EventTime.Time; !got.Equal(fxT0.Add(60 * time.Minute)) {
		t.Fatalf("newest event at %v; want %v", got, fxT0.Add(60*time.Minute))
	}

	// The window is [StartTime, EndTime).
	window := fxMust(f.svc.DescribeFleetEvents(f.ctx, &shapes.DescribeFleetEventsInput{
		FleetId:   ptr(fl.ID),
		StartTime: shapes.NewTimestamp(fxT0.Add(20 * time.Minute)),
		EndTime:   shapes.NewTimestamp(fxT0.Add(50 * time.Minute)),
	}))(t)
	if len(window.Events) != 3 || window.NextToken != nil {
		t.Fatalf("window has %d events (token %v); want the 3 at 20, 30 and 40 min", len(window.Events), window.NextToken)
	}
	for _, e := range window.Events {
		if e.EventCode != "FLEET_NEW_GAME_SESSION_PROTECTION_POLICY_UPDATED" {
			t.Fatalf("unexpected %s in window", e.EventCode)
		}
	}
	since := fxMust(f.svc.DescribeFleetEvents(f.ctx, &shapes.DescribeFleetEventsInput{FleetId: ptr(fl.ID), StartTime: shapes.NewTimestamp(fxT0.Add(55 * time.Minute))}))(t)
	until := fxMust(f.svc.DescribeFleetEvents(f.ctx, &shapes.DescribeFleetEventsInput{FleetId: ptr(fl.ID), EndTime: shapes.NewTimestamp(fxT0.Add(time.Minute))}))(t)
	inverted := fxMust(f.svc.DescribeFleetEvents(f.ctx, &shapes.DescribeFleetEventsInput{
		FleetId: ptr(fl.ID), StartTime: shapes.NewTimestamp(fxT0.Add(time.Hour)), EndTime: shapes.NewTimestamp(fxT0),
	}))(t)
	if len(since.Events) != 1 || len(until.Events) != 2 || inverted.Events == nil || len(inverted.Events) != 0 {
		t.Fatalf("since=%d until=%d inverted=%#v; want 1, 2 and []", len(since.Events), len(until.Events), inverted.Events)
	}

	runErrCases(t, []errCase{
		{"FleetId missing", func() error {
			_, err := f.svc.DescribeFleetEvents(f.ctx, &shapes.DescribeFleetEventsInput{})
			return err
		}, "", "FleetId"},
		{"FleetId bad", func() error {
			_, err := f.svc.DescribeFleetEvents(f.ctx, &shapes.DescribeFleetEventsInput{FleetId: ptr("my-fleet")})
			return err
		}, "", "FleetId"},
		{"FleetId unknown", func() error {
			_, err := f.svc.DescribeFleetEvents(f.ctx, &shapes.DescribeFleetEventsInput{FleetId: ptr("fleet-gone")})
			return err
		}, apierr.NotFound, "fleet-gone"},
		{"Limit zero", func() error {
			_, err := f.svc.DescribeFleetEvents(f.ctx, &shapes.DescribeFleetEventsInput{FleetId: ptr(fl.ID), Limit: ptr(int32(0))})
			return err
		}, "", "Limit"},
		{"NextToken empty", func() error {
			_, err := f.svc.DescribeFleetEvents(f.ctx, &shapes.DescribeFleetEventsInput{FleetId: ptr(fl.ID), NextToken: ptr("")})
			return err
		}, "", "NextToken"},
	})
}
