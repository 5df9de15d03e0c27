package core

import (
	"context"
	"time"

	"github.com/openlift/openlift/internal/model"
	"github.com/openlift/openlift/internal/shapes"
	"github.com/openlift/openlift/internal/store"
)

// Fleet event codes openlift emits (a subset of GameLift's EventCode enum).
const (
	eventFleetCreated                 = "FLEET_CREATED"
	eventFleetStateActive             = "FLEET_STATE_ACTIVE"
	eventFleetDeleted                 = "FLEET_DELETED"
	eventFleetProtectionPolicyUpdated = "FLEET_NEW_GAME_SESSION_PROTECTION_POLICY_UPDATED"
)

// fleetEvent records one event for a fleet inside tx. Ids are random UUIDs so
// that they stay unique across restarts and store backends without a counter.
func fleetEvent(tx store.Tx, fleetID, code, message string, at time.Time) error {
	return tx.InsertEvent(model.Event{
		ID:         "event-" + newUUID(),
		ResourceID: fleetID,
		Code:       code,
		Message:    message,
		Time:       at,
	})
}

func toEvent(e model.Event) shapes.Event {
	return shapes.Event{
		EventId:    ptr(e.ID),
		ResourceId: ptr(e.ResourceID),
		EventCode:  e.Code,
		Message:    strp(e.Message),
		EventTime:  shapes.NewTimestamp(e.Time),
	}
}

// DescribeFleetEvents lists a fleet's events, newest first, optionally bounded
// by StartTime (inclusive) and EndTime (exclusive). Events of a deleted fleet
// stay readable: FLEET_DELETED is what a caller looks for after DeleteFleet.
func (s *Service) DescribeFleetEvents(ctx context.Context, in *shapes.DescribeFleetEventsInput) (*shapes.DescribeFleetEventsOutput, error) {
	var c checker
	c.reqStr("FleetId", in.FleetId, 1, 512, reFleetIDOrArn)
	c.int32Range("Limit", in.Limit, 1, maxInt32)
	c.str("NextToken", in.NextToken, 1, 1024, nil)
	if err := c.Err(); err != nil {
		return nil, err
	}
	var start, end time.Time
	if in.StartTime != nil {
		start = in.StartTime.Time
	}
	if in.EndTime != nil {
		end = in.EndTime.Time
	}
	var events []model.Event
	err := s.st.View(ctx, func(tx store.Tx) error {
		f, err := s.anyFleet(tx, *in.FleetId)
		if err != nil {
			return err
		}
		// An inverted window selects nothing; it is not worth an error.
		if !start.IsZero() && !end.IsZero() && !end.After(start) {
			events = nil
			return nil
		}
		events, err = tx.ListEvents(f.ID, start, end)
		return err
	})
	if err != nil {
		return nil, storeErr(err)
	}
	items, next, err := page(events, in.Limit, in.NextToken, 100)
	if err != nil {
		return nil, err
	}
	out := make([]shapes.Event, 0, len(items))
	for _, e := range items {
		out = append(out, toEvent(e))
	}
	return &shapes.DescribeFleetEventsOutput{Events: out, NextToken: next}, nil
}
