package core

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/openlift/openlift/internal/apierr"
	"github.com/openlift/openlift/internal/model"
	"github.com/openlift/openlift/internal/shapes"
	"github.com/openlift/openlift/internal/store"
)

// Multi-location Anywhere fleets: adding and removing a fleet's custom
// locations after CreateFleet, and describing them one by one.
//
// GameLift documents these operations for EC2 and container fleets, where a
// new location goes NEW → … → ACTIVE as instances are launched there and a
// removed one DELETING → TERMINATED as they are shut down. An Anywhere
// location has nothing to launch or build, so, as with CreateFleet, a new
// location is ACTIVE at once, and a removed one is gone when the call returns.

// Location event codes (a subset of GameLift's EventCode enum). The states an
// Anywhere location skips (PENDING, CREATING, ACTIVATING) are not emitted, as
// CreateFleet emits no FLEET_STATE_ step an Anywhere fleet does not take.
const (
	eventLocationCreated  = "LOCATION_STATE_CREATED"
	eventLocationActive   = "LOCATION_STATE_ACTIVE"
	eventLocationDeleting = "LOCATION_STATE_DELETING"
	eventLocationDeleted  = "LOCATION_STATE_DELETED"
)

// maxFleetLocations caps the custom locations of one fleet. GameLift does not
// document a per-fleet number; CreateFleet accepts at most 100 locations, and
// holding a fleet to that keeps it describable in one page.
const maxFleetLocations = 100

// checkLocationList checks a list of LocationStringModel.
func checkLocationList(c *checker, name string, locs []string, required bool) {
	if required {
		c.required(name, locs != nil)
	}
	if locs == nil {
		return
	}
	c.count(name, len(locs), 1, 100)
	for i, l := range locs {
		c.strVal(indexed(name, i, ""), l, 1, 64, reLocation)
	}
}

// CreateFleetLocations adds custom locations to an ACTIVE Anywhere fleet.
//
// A location the fleet already has is accepted and left out of the response:
// GameLift's LocationStates "does not include … any remote locations that
// were already added to the fleet", and it lets a retried request succeed.
// Listing one location twice in the request is still a mistake, as in
// CreateFleet. Each location must be a custom location that exists
// (NotFoundException otherwise, as in CreateFleet); an AWS Region cannot be
// added to an Anywhere fleet.
func (s *Service) CreateFleetLocations(ctx context.Context, in *shapes.CreateFleetLocationsInput) (*shapes.CreateFleetLocationsOutput, error) {
	var c checker
	c.reqStr("FleetId", in.FleetId, 1, 512, reFleetIDOrArn)
	c.required("Locations", in.Locations != nil)
	if in.Locations != nil {
		c.count("Locations", len(in.Locations), 1, 100)
	}
	for i, l := range in.Locations {
		c.reqStr(indexed("Locations", i, "Location"), l.Location, 1, 64, reLocation)
	}
	if err := c.Err(); err != nil {
		return nil, err
	}
	asked := make([]string, 0, len(in.Locations))
	for i, l := range in.Locations {
		name := *l.Location
		if !reCustomLocation.MatchString(name) {
			return nil, apierr.Invalid("%s must be a custom location (custom-...) for ANYWHERE fleets, got %q", indexed("Locations", i, "Location"), name)
		}
		if slices.Contains(asked, name) {
			return nil, apierr.Invalid("Locations lists %s more than once", name)
		}
		asked = append(asked, name)
	}

	now := s.now()
	var (
		f     model.Fleet
		added []string
	)
	err := s.st.Update(ctx, func(tx store.Tx) error {
		added = nil
		var err error
		f, err = s.liveFleet(tx, *in.FleetId)
		if err != nil {
			return err
		}
		if f.Status != model.FleetActive {
			return apierr.New(apierr.InvalidFleetStatus, "Fleet %s is in status %s; locations can only be added to an ACTIVE fleet.", f.ID, f.Status)
		}
		for _, l := range asked {
			if _, err := tx.GetLocation(l); errors.Is(err, store.ErrNotFound) {
				return apierr.New(apierr.NotFound, "Location %s not found.", l)
			} else if err != nil {
				return err
			}
			if !slices.Contains(f.Locations, l) {
				added = append(added, l)
			}
		}
		if len(added) == 0 {
			return nil
		}
		if n := len(f.Locations) + len(added); n > maxFleetLocations {
			return apierr.New(apierr.LimitExceeded, "Fleet %s would have %d locations; a fleet can have at most %d.", f.ID, n, maxFleetLocations)
		}
		f.Locations = append(slices.Clip(f.Locations), added...)
		if err := tx.PutFleet(f); err != nil {
			return err
		}
		for _, l := range added {
			if err := fleetEvent(tx, f.ID, eventLocationCreated, fmt.Sprintf("Location %s of fleet %s created.", l, f.ID), now); err != nil {
				return err
			}
			if err := fleetEvent(tx, f.ID, eventLocationActive, fmt.Sprintf("Location %s of fleet %s changed status to ACTIVE.", l, f.ID), now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, storeErr(err)
	}
	// The placer is not kicked: a new location has no process yet, and the
	// first one to become ready there kicks it, as anywhere else.
	states := make([]shapes.LocationState, 0, len(added))
	for _, l := range added {
		states = append(states, shapes.LocationState{Location: ptr(l), Status: model.FleetActive})
	}
	return &shapes.CreateFleetLocationsOutput{FleetId: ptr(f.ID), FleetArn: ptr(f.Arn), LocationStates: states}, nil
}

// DeleteFleetLocations removes custom locations from an ACTIVE Anywhere
// fleet, with the computes registered there and their server processes, in
// one transaction: a concurrent CreateGameSession or RegisterCompute either
// comes before it (and is seen by its checks) or finds the location gone.
//
// A location that still hosts game sessions (ACTIVATING, ACTIVE or
// TERMINATING) is refused, as DeleteFleet refuses a fleet that does: GameLift
// shuts such sessions down, but a removal cutting players off is better
// asked for explicitly, by terminating the sessions first. Idle processes
// are told to exit, and agents find their compute gone at their next
// heartbeat, as after DeleteFleet.
//
// The operation's modeled errors have no InvalidFleetStatusException, so
// refusals for the fleet's or the location's state are
// InvalidRequestExceptions. A location the fleet does not have is a
// NotFoundException, like deleting anything else that is not there. The home
// Region is never a location of an Anywhere fleet and cannot be removed.
//
// The response reports each location DELETING, as GameLift's does: clients
// then wait for the location to leave DescribeFleetLocationAttributes, which
// it already has.
func (s *Service) DeleteFleetLocations(ctx context.Context, in *shapes.DeleteFleetLocationsInput) (*shapes.DeleteFleetLocationsOutput, error) {
	var c checker
	c.reqStr("FleetId", in.FleetId, 1, 512, reFleetIDOrArn)
	checkLocationList(&c, "Locations", in.Locations, true)
	if err := c.Err(); err != nil {
		return nil, err
	}
	for i, l := range in.Locations {
		if l == s.cfg.Region {
			return nil, apierr.Invalid("%s: %s is the fleet's home Region, which cannot be removed", indexed("Locations", i, ""), l)
		}
		if slices.Contains(in.Locations[:i], l) {
			return nil, apierr.Invalid("Locations lists %s more than once", l)
		}
	}

	now := s.now()
	var (
		f     model.Fleet
		ended []model.Process
	)
	err := s.st.Update(ctx, func(tx store.Tx) error {
		ended = nil
		var err error
		f, err = s.liveFleet(tx, *in.FleetId)
		if err != nil {
			return err
		}
		if f.Status != model.FleetActive {
			return apierr.Invalid("Fleet %s is in status %s; locations can only be removed from an ACTIVE fleet", f.ID, f.Status)
		}
		for i, l := range in.Locations {
			if !slices.Contains(f.Locations, l) {
				return apierr.New(apierr.NotFound, "%s: location %s is not a location of fleet %s.", indexed("Locations", i, ""), l, f.ID)
			}
			live, err := tx.ListGameSessions(store.GameSessionFilter{FleetID: f.ID, Location: l, Statuses: liveGameSessionStatuses})
			if err != nil {
				return err
			}
			if len(live) > 0 {
				return apierr.Invalid("Location %s of fleet %s still has %d game sessions that are ACTIVATING, ACTIVE or TERMINATING; terminate them before removing the location", l, f.ID, len(live))
			}
		}
		procs, err := tx.ListProcesses(store.ProcessFilter{FleetID: f.ID, Statuses: []model.ProcessStatus{model.ProcessActive, model.ProcessTerminating}})
		if err != nil {
			return err
		}
		for _, p := range procs {
			if !slices.Contains(in.Locations, p.Location) {
				continue
			}
			e, err := endProcessesTx(tx, store.ProcessFilter{FleetID: f.ID, ProcessID: p.ID}, "", now)
			if err != nil {
				return err
			}
			ended = append(ended, e...)
		}
		computes, err := tx.ListComputes(f.ID)
		if err != nil {
			return err
		}
		for _, cp := range computes {
			if !slices.Contains(in.Locations, cp.Location) {
				continue
			}
			if err := tx.DeleteCompute(f.ID, cp.Name); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		// A location added again later starts from the default capacity,
		// not from numbers set for the hosts that were removed.
		capacity := make(map[string]model.LocationCapacity, len(f.Capacity))
		for k, v := range f.Capacity {
			if !slices.Contains(in.Locations, k) {
				capacity[k] = v
			}
		}
		f.Capacity = capacity
		f.Locations = slices.DeleteFunc(slices.Clone(f.Locations), func(l string) bool { return slices.Contains(in.Locations, l) })
		if err := tx.PutFleet(f); err != nil {
			return err
		}
		for _, l := range in.Locations {
			if err := fleetEvent(tx, f.ID, eventLocationDeleting, fmt.Sprintf("Location %s of fleet %s changed status to DELETING.", l, f.ID), now); err != nil {
				return err
			}
			if err := fleetEvent(tx, f.ID, eventLocationDeleted, fmt.Sprintf("Location %s of fleet %s deleted.", l, f.ID), now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, storeErr(err)
	}
	s.afterEndProcesses(ended, "", true, now)
	states := make([]shapes.LocationState, 0, len(in.Locations))
	for _, l := range in.Locations {
		states = append(states, shapes.LocationState{Location: ptr(l), Status: model.FleetDeleting})
	}
	return &shapes.DeleteFleetLocationsOutput{FleetId: ptr(f.ID), FleetArn: ptr(f.Arn), LocationStates: states}, nil
}

// DescribeFleetLocationAttributes reports the state of a fleet's custom
// locations: all of them in the order they were added, or those asked for in
// the order asked. As GameLift documents, locations the fleet does not have
// (the home Region among them) are left out rather than refused, and repeats
// are reported once.
//
// A deleted fleet stays describable, as in DescribeFleetAttributes: its
// locations are reported TERMINATED. No location has StoppedActions or an
// UpdateStatus, since openlift has no fleet actions to stop.
func (s *Service) DescribeFleetLocationAttributes(ctx context.Context, in *shapes.DescribeFleetLocationAttributesInput) (*shapes.DescribeFleetLocationAttributesOutput, error) {
	var c checker
	c.reqStr("FleetId", in.FleetId, 1, 512, reFleetIDOrArn)
	checkLocationList(&c, "Locations", in.Locations, false)
	c.int32Range("Limit", in.Limit, 1, maxInt32)
	c.str("NextToken", in.NextToken, 1, 1024, nil)
	if err := c.Err(); err != nil {
		return nil, err
	}
	var f model.Fleet
	err := s.st.View(ctx, func(tx store.Tx) error {
		var err error
		f, err = s.anyFleet(tx, *in.FleetId)
		return err
	})
	if err != nil {
		return nil, storeErr(err)
	}
	locs := f.Locations
	if in.Locations != nil {
		locs = nil
		for _, l := range in.Locations {
			if slices.Contains(f.Locations, l) && !slices.Contains(locs, l) {
				locs = append(locs, l)
			}
		}
	}
	items, next, err := page(locs, in.Limit, in.NextToken, 100)
	if err != nil {
		return nil, err
	}
	attrs := make([]shapes.LocationAttributes, 0, len(items))
	for _, l := range items {
		attrs = append(attrs, shapes.LocationAttributes{LocationState: &shapes.LocationState{Location: ptr(l), Status: f.Status}})
	}
	return &shapes.DescribeFleetLocationAttributesOutput{FleetId: ptr(f.ID), FleetArn: ptr(f.Arn), LocationAttributes: attrs, NextToken: next}, nil
}
