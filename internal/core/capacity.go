package core

import (
	"context"
	"fmt"

	"github.com/openlift/openlift/internal/apierr"
	"github.com/openlift/openlift/internal/model"
	"github.com/openlift/openlift/internal/shapes"
	"github.com/openlift/openlift/internal/store"
)

// Capacity of Anywhere fleets. openlift starts no hosts, so its "instances"
// are the computes that hosts (usually their agents) register, and the
// numbers UpdateFleetCapacity stores are intent rather than orders, with one
// exception: a location whose DesiredInstances is explicitly 0 is scaled to
// zero, and its agents launch nothing new and stop idle processes
// (agentmsg.HeartbeatReply.ScaledToZero).
//
// A location nobody has set follows what is there: desired is the number of
// its ACTIVE computes, minimum 0, and maximum the number registered, at least
// 1 (GameLift's default maximum for an empty location). GameLift's flat
// default of 1 would refuse a desired count of 3 on a location that already
// runs three hosts. The first UpdateFleetCapacity of a location stores all
// three numbers; from then on omitted ones keep their stored values.

const eventFleetScaling = "FLEET_SCALING_EVENT"

// computeCounts are a location's computes by what DescribeFleetCapacity
// reports of them.
type computeCounts struct {
	registered  int32 // every compute, draining or not
	active      int32 // ACTIVE and not draining
	idle        int32 // active and hosting no ACTIVE or ACTIVATING game session
	terminating int32 // draining, or on their way out of the fleet
}

// countComputes counts a fleet's computes per location.
func countComputes(tx store.Tx, f model.Fleet) (map[string]computeCounts, error) {
	computes, err := tx.ListComputes(f.ID)
	if err != nil {
		return nil, err
	}
	live, err := tx.ListGameSessions(store.GameSessionFilter{
		FleetID:  f.ID,
		Statuses: []model.GameSessionStatus{model.GameSessionActive, model.GameSessionActivating},
	})
	if err != nil {
		return nil, err
	}
	busy := map[string]bool{}
	for _, g := range live {
		busy[g.ComputeName] = true
	}
	out := map[string]computeCounts{}
	for _, c := range computes {
		n := out[c.Location]
		n.registered++
		switch {
		case c.Status == model.ComputeActive && !c.Draining:
			n.active++
			if !busy[c.Name] {
				n.idle++
			}
		default:
			n.terminating++
		}
		out[c.Location] = n
	}
	return out, nil
}

// locationCapacity returns a location's stored capacity, or the default that
// follows its computes.
func locationCapacity(f model.Fleet, location string, n computeCounts) model.LocationCapacity {
	if c, ok := f.Capacity[location]; ok {
		return c
	}
	return model.LocationCapacity{Desired: n.active, Min: 0, Max: max(1, n.registered)}
}

// toFleetCapacity sums the given locations of f into one FleetCapacity. A
// deleted fleet has nothing, whatever it once stored.
func (s *Service) toFleetCapacity(tx store.Tx, f model.Fleet, locations []string, reportAs string) (shapes.FleetCapacity, error) {
	var desired, minimum, maximum, active, idle, terminating int64
	if f.Status != model.FleetTerminated {
		counts, err := countComputes(tx, f)
		if err != nil {
			return shapes.FleetCapacity{}, err
		}
		for _, l := range locations {
			n := counts[l]
			c := locationCapacity(f, l, n)
			desired += int64(c.Desired)
			minimum += int64(c.Min)
			maximum += int64(c.Max)
			active += int64(n.active)
			idle += int64(n.idle)
			terminating += int64(n.terminating)
		}
	}
	clamp := func(v int64) *int32 { return ptr(int32(min(v, maxInt32))) }
	return shapes.FleetCapacity{
		FleetId:  ptr(f.ID),
		FleetArn: ptr(f.Arn),
		Location: ptr(reportAs),
		InstanceCounts: &shapes.EC2InstanceCounts{
			DESIRED:     clamp(desired),
			MINIMUM:     clamp(minimum),
			MAXIMUM:     clamp(maximum),
			PENDING:     ptr(int32(0)), // a host is ACTIVE as soon as it registers
			ACTIVE:      clamp(active),
			IDLE:        clamp(idle),
			TERMINATING: clamp(terminating),
		},
	}, nil
}

// DescribeFleetCapacity reports, for each fleet, its computes as instances.
// GameLift reports the home Region here and remote locations through
// DescribeFleetLocationCapacity; an Anywhere fleet hosts nothing in its home
// Region, so openlift reports the whole fleet, summed over its custom
// locations, under the home Region, as DescribeFleetUtilization does.
func (s *Service) DescribeFleetCapacity(ctx context.Context, in *shapes.DescribeFleetCapacityInput) (*shapes.DescribeFleetCapacityOutput, error) {
	out := &shapes.DescribeFleetCapacityOutput{FleetCapacity: []shapes.FleetCapacity{}}
	next, err := s.selectFleets(ctx, in.FleetIds, in.Limit, in.NextToken, func(tx store.Tx, fleets []model.Fleet) error {
		out.FleetCapacity = out.FleetCapacity[:0]
		for _, f := range fleets {
			fc, err := s.toFleetCapacity(tx, f, f.Locations, s.cfg.Region)
			if err != nil {
				return err
			}
			out.FleetCapacity = append(out.FleetCapacity, fc)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out.NextToken = next
	return out, nil
}

// DescribeFleetLocationCapacity reports one custom location of a fleet. The
// home Region is not a location of an Anywhere fleet (as in
// DescribeFleetLocationUtilization); DescribeFleetCapacity covers it.
func (s *Service) DescribeFleetLocationCapacity(ctx context.Context, in *shapes.DescribeFleetLocationCapacityInput) (*shapes.DescribeFleetLocationCapacityOutput, error) {
	var fc shapes.FleetCapacity
	err := s.viewFleetLocation(ctx, in.FleetId, in.Location, func(tx store.Tx, f model.Fleet) error {
		var err error
		fc, err = s.toFleetCapacity(tx, f, []string{*in.Location}, *in.Location)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &shapes.DescribeFleetLocationCapacityOutput{FleetCapacity: &fc}, nil
}

// UpdateFleetCapacity stores a location's desired, minimum and maximum
// instance counts (see the top of this file for what they mean to openlift).
//
// Location may be omitted (or be the home Region, which is what GameLift
// means by omitting it) only for a fleet with a single custom location, which
// is then the one updated: an Anywhere fleet has no capacity of its own in the
// home Region, and applying one number to several locations would make the
// fleet-wide sum DescribeFleetCapacity reports differ from what was asked.
// ManagedCapacityConfiguration manages EC2 instances and is refused.
func (s *Service) UpdateFleetCapacity(ctx context.Context, in *shapes.UpdateFleetCapacityInput) (*shapes.UpdateFleetCapacityOutput, error) {
	var c checker
	c.reqStr("FleetId", in.FleetId, 1, 512, reFleetIDOrArn)
	c.int32Range("DesiredInstances", in.DesiredInstances, 0, maxInt32)
	c.int32Range("MinSize", in.MinSize, 0, maxInt32)
	c.int32Range("MaxSize", in.MaxSize, 0, maxInt32)
	c.str("Location", in.Location, 1, 64, reLocation)
	if m := in.ManagedCapacityConfiguration; m != nil {
		c.enum("ManagedCapacityConfiguration.ZeroCapacityStrategy", m.ZeroCapacityStrategy, "MANUAL", "SCALE_TO_AND_FROM_ZERO")
		c.int32Range("ManagedCapacityConfiguration.ScaleInAfterInactivityMinutes", m.ScaleInAfterInactivityMinutes, 5, 1440)
	}
	if err := c.Err(); err != nil {
		return nil, err
	}
	if in.ManagedCapacityConfiguration != nil {
		return nil, apierr.Invalid("ManagedCapacityConfiguration is not supported for ANYWHERE fleets")
	}
	if in.DesiredInstances == nil && in.MinSize == nil && in.MaxSize == nil {
		return nil, apierr.Invalid("One of DesiredInstances, MinSize or MaxSize is required")
	}
	now := s.now()
	var (
		f   model.Fleet
		loc string
	)
	err := s.st.Update(ctx, func(tx store.Tx) error {
		var err error
		f, err = s.liveFleet(tx, *in.FleetId)
		if err != nil {
			return err
		}
		if f.Status != model.FleetActive {
			return apierr.New(apierr.InvalidFleetStatus, "Fleet %s is in status %s; its capacity can only be changed while it is ACTIVE.", f.ID, f.Status)
		}
		loc = deref(in.Location)
		switch {
		case loc == "" || loc == s.cfg.Region:
			if len(f.Locations) != 1 {
				return apierr.Invalid("Location is required: fleet %s has %d custom locations and no capacity in its home Region", f.ID, len(f.Locations))
			}
			loc = f.Locations[0]
		case !containsString(f.Locations, loc):
			return apierr.Invalid("Location %s is not a location of fleet %s", loc, f.ID)
		}
		counts, err := countComputes(tx, f)
		if err != nil {
			return err
		}
		cp := locationCapacity(f, loc, counts[loc])
		if in.DesiredInstances != nil {
			cp.Desired = *in.DesiredInstances
		}
		if in.MinSize != nil {
			cp.Min = *in.MinSize
		}
		if in.MaxSize != nil {
			cp.Max = *in.MaxSize
		}
		if cp.Min > cp.Max {
			return apierr.Invalid("MinSize (%d) must not be greater than MaxSize (%d)", cp.Min, cp.Max)
		}
		if cp.Desired < cp.Min || cp.Desired > cp.Max {
			return apierr.Invalid("DesiredInstances (%d) must be between MinSize (%d) and MaxSize (%d)", cp.Desired, cp.Min, cp.Max)
		}
		capacity := make(map[string]model.LocationCapacity, len(f.Capacity)+1)
		for k, v := range f.Capacity {
			capacity[k] = v
		}
		capacity[loc] = cp
		f.Capacity = capacity
		if err := tx.PutFleet(f); err != nil {
			return err
		}
		msg := fmt.Sprintf("Fleet %s capacity in location %s set to desired %d, minimum %d, maximum %d.", f.ID, loc, cp.Desired, cp.Min, cp.Max)
		return fleetEvent(tx, f.ID, eventFleetScaling, msg, now)
	})
	if err != nil {
		return nil, storeErr(err)
	}
	return &shapes.UpdateFleetCapacityOutput{FleetId: ptr(f.ID), FleetArn: ptr(f.Arn), Location: ptr(loc)}, nil
}
