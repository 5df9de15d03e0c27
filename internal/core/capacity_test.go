package core

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/openlift/openlift/internal/apierr"
	"github.com/openlift/openlift/internal/model"
	"github.com/openlift/openlift/internal/shapes"
	"github.com/openlift/openlift/internal/store"
)

func (f *fx) setFleetStatus(id, status string) {
	f.update(func(tx store.Tx) error {
		fl, err := tx.GetFleet(id)
		if err != nil {
			return err
		}
		fl.Status = status
		return tx.PutFleet(fl)
	})
}

func (f *fx) setDraining(fleetID, name string) {
	f.update(func(tx store.Tx) error {
		c, err := tx.GetCompute(fleetID, name)
		if err != nil {
			return err
		}
		c.Draining = true
		return tx.PutCompute(c)
	})
}

func TestUpdateFleetCapacityConstraints(t *testing.T) {
	f := newFx(t)
	f.location("custom-a")
	f.location("custom-b")
	one := f.fleet("custom-a")
	two := f.fleet("custom-a", "custom-b")
	deleting := f.fleet("custom-a")
	f.setFleetStatus(deleting.ID, model.FleetDeleting)
	deleted := f.fleet("custom-a")
	fxMust(f.svc.DeleteFleet(f.ctx, &shapes.DeleteFleetInput{FleetId: ptr(deleted.ID)}))(t)

	call := func(in shapes.UpdateFleetCapacityInput) func() error {
		return func() error {
			if in.FleetId == nil {
				in.FleetId = ptr(one.ID)
			}
			_, err := f.svc.UpdateFleetCapacity(f.ctx, &in)
			return err
		}
	}
	n := func(v int32) *int32 { return &v }
	runErrCases(t, []errCase{
		{"FleetId missing", func() error {
			_, err := f.svc.UpdateFleetCapacity(f.ctx, &shapes.UpdateFleetCapacityInput{DesiredInstances: n(1)})
			return err
		}, "", "FleetId is required"},
		{"FleetId pattern", call(shapes.UpdateFleetCapacityInput{FleetId: ptr("fleet 1"), DesiredInstances: n(1)}), "", "FleetId"},
		{"DesiredInstances negative", call(shapes.UpdateFleetCapacityInput{DesiredInstances: n(-1)}), "", "DesiredInstances must be at least 0"},
		{"MinSize negative", call(shapes.UpdateFleetCapacityInput{MinSize: n(-1)}), "", "MinSize must be at least 0"},
		{"MaxSize negative", call(shapes.UpdateFleetCapacityInput{MaxSize: n(-1)}), "", "MaxSize must be at least 0"},
		{"Location pattern", call(shapes.UpdateFleetCapacityInput{DesiredInstances: n(1), Location: ptr("custom a")}), "", "Location"},
		{"Location too long", call(shapes.UpdateFleetCapacityInput{DesiredInstances: n(1), Location: ptr("custom-" + strings.Repeat("x", 58))}), "", "Location must be 1 to 64"},
		{"ZeroCapacityStrategy", call(shapes.UpdateFleetCapacityInput{DesiredInstances: n(1), ManagedCapacityConfiguration: &shapes.ManagedCapacityConfiguration{ZeroCapacityStrategy: "SOMETIMES"}}), "", "ManagedCapacityConfiguration.ZeroCapacityStrategy"},
		{"ScaleInAfterInactivityMinutes", call(shapes.UpdateFleetCapacityInput{DesiredInstances: n(1), ManagedCapacityConfiguration: &shapes.ManagedCapacityConfiguration{ScaleInAfterInactivityMinutes: n(4)}}), "", "ManagedCapacityConfiguration.ScaleInAfterInactivityMinutes must be between 5 and 1440"},
		{"ManagedCapacityConfiguration", call(shapes.UpdateFleetCapacityInput{DesiredInstances: n(1), ManagedCapacityConfiguration: &shapes.ManagedCapacityConfiguration{ZeroCapacityStrategy: "MANUAL"}}), "", "ManagedCapacityConfiguration is not supported"},
		{"nothing to update", call(shapes.UpdateFleetCapacityInput{}), "", "One of DesiredInstances, MinSize or MaxSize is required"},
		{"MinSize above MaxSize", call(shapes.UpdateFleetCapacityInput{MinSize: n(3), MaxSize: n(2)}), "", "MinSize (3) must not be greater than MaxSize (2)"},
		{"DesiredInstances above MaxSize", call(shapes.UpdateFleetCapacityInput{DesiredInstances: n(5), MaxSize: n(2)}), "", "DesiredInstances (5) must be between MinSize (0) and MaxSize (2)"},
		{"DesiredInstances below MinSize", call(shapes.UpdateFleetCapacityInput{DesiredInstances: n(0), MinSize: n(1), MaxSize: n(2)}), "", "DesiredInstances (0) must be between MinSize (1) and MaxSize (2)"},
		// An empty location's default maximum is GameLift's 1.
		{"DesiredInstances above the default MaxSize", call(shapes.UpdateFleetCapacityInput{DesiredInstances: n(2)}), "", "DesiredInstances (2) must be between MinSize (0) and MaxSize (1)"},
		{"Location not in fleet", call(shapes.UpdateFleetCapacityInput{DesiredInstances: n(1), Location: ptr("custom-b")}), "", "Location custom-b is not a location of fleet"},
		{"Location omitted with two locations", call(shapes.UpdateFleetCapacityInput{FleetId: ptr(two.ID), DesiredInstances: n(1)}), "", "Location is required"},
		{"home Region with two locations", call(shapes.UpdateFleetCapacityInput{FleetId: ptr(two.ID), DesiredInstances: n(1), Location: ptr(fxRegion)}), "", "Location is required"},
		{"fleet DELETING", call(shapes.UpdateFleetCapacityInput{FleetId: ptr(deleting.ID), DesiredInstances: n(1)}), apierr.InvalidFleetStatus, "DELETING"},
		{"fleet deleted", call(shapes.UpdateFleetCapacityInput{FleetId: ptr(deleted.ID), DesiredInstances: n(1)}), apierr.NotFound, deleted.ID},
		{"fleet unknown", call(shapes.UpdateFleetCapacityInput{FleetId: ptr("fleet-x"), DesiredInstances: n(1)}), apierr.NotFound, "fleet-x"},
	})
	// Events recorded at the same instant have no defined order, so compare them sorted.
	if evs := eventCodes(f.events(one.ID)); fmt.Sprint(slices.Sorted(slices.Values(evs))) != "[FLEET_CREATED FLEET_STATE_ACTIVE]" {
		t.Fatalf("refused updates recorded events: %v", evs)
	}
}

// counts renders a FleetCapacity for comparison.
func counts(fc shapes.FleetCapacity) string {
	c := fc.InstanceCounts
	if c == nil {
		return "no InstanceCounts"
	}
	return fmt.Sprintf("%s desired %d min %d max %d pending %d active %d idle %d terminating %d type %q",
		deref(fc.Location), deref(c.DESIRED), deref(c.MINIMUM), deref(c.MAXIMUM), deref(c.PENDING), deref(c.ACTIVE), deref(c.IDLE), deref(c.TERMINATING), fc.InstanceType)
}

func TestFleetCapacity(t *testing.T) {
	f := newFx(t)
	f.location("custom-a")
	f.location("custom-b")
	fl := f.fleet("custom-a", "custom-b")
	for _, c := range []struct{ name, loc string }{{"a1", "custom-a"}, {"a2", "custom-a"}, {"a3", "custom-a"}, {"b1", "custom-b"}} {
		f.compute(fl.ID, c.name, c.loc)
	}
	f.setDraining(fl.ID, "a3")
	f.readyProcess(fl.ID, "a1", "p-a1")
	f.createGameSession(fl.ID, "custom-a") // ACTIVATING on a1: a1 is not idle
	describe := func() shapes.FleetCapacity {
		t.Helper()
		out := fxMust(f.svc.DescribeFleetCapacity(f.ctx, &shapes.DescribeFleetCapacityInput{FleetIds: []string{fl.ID}}))(t)
		if len(out.FleetCapacity) != 1 {
			t.Fatalf("%d entries; want 1", len(out.FleetCapacity))
		}
		fc := out.FleetCapacity[0]
		if deref(fc.FleetId) != fl.ID || deref(fc.FleetArn) != fl.Arn {
			t.Fatalf("FleetId/FleetArn = %s/%s", deref(fc.FleetId), deref(fc.FleetArn))
		}
		return fc
	}
	// Nothing set: desired follows the ACTIVE computes (a1, a2, b1), maximum
	// the registered ones (a1-a3, b1).
	if got, want := counts(describe()), "us-west-2 desired 3 min 0 max 4 pending 0 active 3 idle 2 terminating 1 type \"\""; got != want {
		t.Fatalf("before any update:\n got %s\nwant %s", got, want)
	}

	out := fxMust(f.svc.UpdateFleetCapacity(f.ctx, &shapes.UpdateFleetCapacityInput{FleetId: ptr(fl.Arn), Location: ptr("custom-b"), DesiredInstances: ptr(int32(0))}))(t)
	if deref(out.FleetId) != fl.ID || deref(out.FleetArn) != fl.Arn || deref(out.Location) != "custom-b" || out.ManagedCapacityConfiguration != nil {
		t.Fatalf("UpdateFleetCapacity returned %s", show(out))
	}
	if got, want := counts(describe()), "us-west-2 desired 2 min 0 max 4 pending 0 active 3 idle 2 terminating 1 type \"\""; got != want {
		t.Fatalf("after custom-b desired 0:\n got %s\nwant %s", got, want)
	}
	// Omitted members keep their values; the first update of custom-a
	// stores its defaults (desired 2) along with what was given.
	fxMust(f.svc.UpdateFleetCapacity(f.ctx, &shapes.UpdateFleetCapacityInput{FleetId: ptr(fl.ID), Location: ptr("custom-a"), MinSize: ptr(int32(1)), MaxSize: ptr(int32(5))}))(t)
	fxMust(f.svc.UpdateFleetCapacity(f.ctx, &shapes.UpdateFleetCapacityInput{FleetId: ptr(fl.ID), Location: ptr("custom-a"), DesiredInstances: ptr(int32(4))}))(t)
	if got, want := f.getFleet(fl.ID).Capacity, map[string]model.LocationCapacity{"custom-a": {Desired: 4, Min: 1, Max: 5}, "custom-b": {Desired: 0, Min: 0, Max: 1}}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("stored capacity %v; want %v", got, want)
	}
	if got, want := counts(describe()), "us-west-2 desired 4 min 1 max 6 pending 0 active 3 idle 2 terminating 1 type \"\""; got != want {
		t.Fatalf("after custom-a updates:\n got %s\nwant %s", got, want)
	}
	scaling := 0
	for _, e := range f.events(fl.ID) {
		if e.EventCode == "FLEET_SCALING_EVENT" {
			scaling++
		}
	}
	if scaling != 3 {
		t.Fatalf("%d FLEET_SCALING_EVENT events; want 3", scaling)
	}

	// One location per call; DescribeFleetLocationCapacity shows each.
	loc := fxMust(f.svc.DescribeFleetLocationCapacity(f.ctx, &shapes.DescribeFleetLocationCapacityInput{FleetId: ptr(fl.ID), Location: ptr("custom-a")}))(t)
	if got, want := counts(*loc.FleetCapacity), "custom-a desired 4 min 1 max 5 pending 0 active 2 idle 1 terminating 1 type \"\""; got != want {
		t.Fatalf("custom-a:\n got %s\nwant %s", got, want)
	}

	// A single-location fleet takes an omitted Location (or the home Region)
	// as its location.
	single := f.fleet("custom-b")
	out = fxMust(f.svc.UpdateFleetCapacity(f.ctx, &shapes.UpdateFleetCapacityInput{FleetId: ptr(single.ID), DesiredInstances: ptr(int32(0))}))(t)
	if deref(out.Location) != "custom-b" {
		t.Fatalf("omitted Location applied to %s; want custom-b", deref(out.Location))
	}
	out = fxMust(f.svc.UpdateFleetCapacity(f.ctx, &shapes.UpdateFleetCapacityInput{FleetId: ptr(single.ID), Location: ptr(fxRegion), MaxSize: ptr(int32(7))}))(t)
	if deref(out.Location) != "custom-b" || fmt.Sprint(f.getFleet(single.ID).Capacity) != fmt.Sprint(map[string]model.LocationCapacity{"custom-b": {Max: 7}}) {
		t.Fatalf("home Region: %s, stored %v", deref(out.Location), f.getFleet(single.ID).Capacity)
	}

	// Selection: unknown ids are omitted, ARNs accepted, deleted fleets shown
	// with nothing, and paging covers every live fleet.
	deleted := f.fleet("custom-a")
	fxMust(f.svc.DeleteFleet(f.ctx, &shapes.DeleteFleetInput{FleetId: ptr(deleted.ID)}))(t)
	sel := fxMust(f.svc.DescribeFleetCapacity(f.ctx, &shapes.DescribeFleetCapacityInput{FleetIds: []string{single.Arn, "fleet-unknown", deleted.ID, single.ID}}))(t)
	if len(sel.FleetCapacity) != 2 || sel.NextToken != nil {
		t.Fatalf("selection has %d entries (token %v); want 2", len(sel.FleetCapacity), sel.NextToken)
	}
	if got, want := counts(sel.FleetCapacity[0]), "us-west-2 desired 0 min 0 max 7 pending 0 active 0 idle 0 terminating 0 type \"\""; got != want {
		t.Fatalf("single:\n got %s\nwant %s", got, want)
	}
	if got, want := counts(sel.FleetCapacity[1]), "us-west-2 desired 0 min 0 max 0 pending 0 active 0 idle 0 terminating 0 type \"\""; got != want || deref(sel.FleetCapacity[1].FleetId) != deleted.ID {
		t.Fatalf("deleted fleet:\n got %s\nwant %s", got, want)
	}
	all, pages := walkPages(t, func(next *string) ([]shapes.FleetCapacity, *string, error) {
		out, err := f.svc.DescribeFleetCapacity(f.ctx, &shapes.DescribeFleetCapacityInput{Limit: ptr(int32(1)), NextToken: next})
		if err != nil {
			return nil, nil, err
		}
		return out.FleetCapacity, out.NextToken, nil
	})
	if len(all) != 2 || pages != 2 {
		t.Fatalf("paging: %d entries in %d pages; want the 2 live fleets in 2", len(all), pages)
	}

	runErrCases(t, []errCase{
		{"FleetIds bad", func() error {
			_, err := f.svc.DescribeFleetCapacity(f.ctx, &shapes.DescribeFleetCapacityInput{FleetIds: []string{fl.ID, "x"}})
			return err
		}, "", "FleetIds[1]"},
		{"Limit", func() error {
			_, err := f.svc.DescribeFleetCapacity(f.ctx, &shapes.DescribeFleetCapacityInput{Limit: ptr(int32(0))})
			return err
		}, "", "Limit"},
		{"location FleetId missing", func() error {
			_, err := f.svc.DescribeFleetLocationCapacity(f.ctx, &shapes.DescribeFleetLocationCapacityInput{Location: ptr("custom-a")})
			return err
		}, "", "FleetId"},
		{"location Location missing", func() error {
			_, err := f.svc.DescribeFleetLocationCapacity(f.ctx, &shapes.DescribeFleetLocationCapacityInput{FleetId: ptr(fl.ID)})
			return err
		}, "", "Location"},
		{"location not in fleet", func() error {
			_, err := f.svc.DescribeFleetLocationCapacity(f.ctx, &shapes.DescribeFleetLocationCapacityInput{FleetId: ptr(single.ID), Location: ptr("custom-a")})
			return err
		}, apierr.NotFound, "custom-a"},
		{"location home Region", func() error {
			_, err := f.svc.DescribeFleetLocationCapacity(f.ctx, &shapes.DescribeFleetLocationCapacityInput{FleetId: ptr(fl.ID), Location: ptr(fxRegion)})
			return err
		}, apierr.NotFound, fxRegion},
	})
}

// A compute its agent is draining is TERMINATING to ListCompute and
// DescribeCompute until its host registers again.
func TestDrainingComputeStatus(t *testing.T) {
	f := newFx(t)
	f.location("custom-a")
	fl := f.fleet("custom-a")
	f.compute(fl.ID, "h1", "custom-a")
	f.compute(fl.ID, "h2", "custom-a")
	f.setDraining(fl.ID, "h2")
	list := func(status string) string {
		out := fxMust(f.svc.ListCompute(f.ctx, &shapes.ListComputeInput{FleetId: ptr(fl.ID), ComputeStatus: status}))(t)
		s := ""
		for _, c := range out.ComputeList {
			s += deref(c.ComputeName) + ":" + c.ComputeStatus + " "
		}
		return s
	}
	if got := list(""); got != "h1:ACTIVE h2:TERMINATING " {
		t.Fatalf("ListCompute = %s", got)
	}
	if got := list("ACTIVE"); got != "h1:ACTIVE " {
		t.Fatalf("ListCompute ACTIVE = %s", got)
	}
	d := fxMust(f.svc.DescribeCompute(f.ctx, &shapes.DescribeComputeInput{FleetId: ptr(fl.ID), ComputeName: ptr("h2")}))(t)
	if d.Compute.ComputeStatus != "TERMINATING" {
		t.Fatalf("DescribeCompute h2 = %s", d.Compute.ComputeStatus)
	}
	if out := f.compute(fl.ID, "h2", "custom-a"); out.ComputeStatus != "ACTIVE" {
		t.Fatalf("re-registered h2 = %s; want ACTIVE", out.ComputeStatus)
	}
	if got := list(""); got != "h1:ACTIVE h2:ACTIVE " {
		t.Fatalf("ListCompute after re-registering = %s", got)
	}
}
