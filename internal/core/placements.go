package core

import (
	"context"
	"errors"
	"math"
	"slices"
	"time"

	"github.com/openlift/openlift/internal/apierr"
	"github.com/openlift/openlift/internal/model"
	"github.com/openlift/openlift/internal/shapes"
	"github.com/openlift/openlift/internal/store"
)

// Game session placement: the API (StartGameSessionPlacement,
// DescribeGameSessionPlacement, StopGameSessionPlacement). The engine that
// moves placements along is in placer.go.

func checkPlacementRequest(c *checker, in *shapes.StartGameSessionPlacementInput) {
	c.reqStr("PlacementId", in.PlacementId, 1, 48, reIDString)
	c.reqStr("GameSessionQueueName", in.GameSessionQueueName, 1, 256, reQueueNameOrArn)
	checkGameProperties(c, in.GameProperties)
	c.required("MaximumPlayerSessionCount", in.MaximumPlayerSessionCount != nil)
	c.int32Range("MaximumPlayerSessionCount", in.MaximumPlayerSessionCount, 0, model.MaxPlayersPerGameSession)
	c.str("GameSessionName", in.GameSessionName, 1, 1024, nil)
	c.str("GameSessionData", in.GameSessionData, 1, 262144, nil)
	for i, l := range in.PlayerLatencies {
		c.reqStr(indexed("PlayerLatencies", i, "PlayerId"), l.PlayerId, 1, 1024, nil)
		c.reqStr(indexed("PlayerLatencies", i, "RegionIdentifier"), l.RegionIdentifier, 1, 1024, nil)
		name := indexed("PlayerLatencies", i, "LatencyInMilliseconds")
		c.required(name, l.LatencyInMilliseconds != nil)
		if v := l.LatencyInMilliseconds; v != nil && (*v < 0 || math.IsNaN(float64(*v)) || math.IsInf(float64(*v), 0)) {
			c.fail("%s must be a finite number of at least 0", name)
		}
	}
	for i, d := range in.DesiredPlayerSessions {
		c.reqStr(indexed("DesiredPlayerSessions", i, "PlayerId"), d.PlayerId, 1, 1024, nil)
		c.str(indexed("DesiredPlayerSessions", i, "PlayerData"), d.PlayerData, 1, 2048, nil)
	}
	if in.MaximumPlayerSessionCount != nil && len(in.DesiredPlayerSessions) > int(*in.MaximumPlayerSessionCount) {
		c.fail("DesiredPlayerSessions has %d players, more than MaximumPlayerSessionCount (%d)", len(in.DesiredPlayerSessions), *in.MaximumPlayerSessionCount)
	}
	if o := in.PriorityConfigurationOverride; o != nil {
		c.required("PriorityConfigurationOverride.LocationOrder", o.LocationOrder != nil)
		if o.LocationOrder != nil {
			c.count("PriorityConfigurationOverride.LocationOrder", len(o.LocationOrder), 1, 10)
		}
		for i, l := range o.LocationOrder {
			name := indexed("PriorityConfigurationOverride.LocationOrder", i, "")
			c.strVal(name, l, 1, 64, reLocation)
			if slices.Index(o.LocationOrder, l) != i {
				c.fail("%s %q is listed more than once", name, l)
			}
		}
		c.enum("PriorityConfigurationOverride.PlacementFallbackStrategy", o.PlacementFallbackStrategy,
			model.FallbackDefaultAfterSinglePass, model.FallbackNone)
		if len(in.PlayerLatencies) > 0 {
			c.fail("PlayerLatencies and PriorityConfigurationOverride cannot be used together")
		}
	}
}

// StartGameSessionPlacement records a placement request and returns it
// PENDING; the placer then looks for a process to host it (placer.go).
func (s *Service) StartGameSessionPlacement(ctx context.Context, in *shapes.StartGameSessionPlacementInput) (*shapes.StartGameSessionPlacementOutput, error) {
	var c checker
	checkPlacementRequest(&c, in)
	if err := c.Err(); err != nil {
		return nil, err
	}
	now := s.now()
	p := model.Placement{
		ID:                        *in.PlacementId,
		Status:                    model.PlacementPending,
		MaximumPlayerSessionCount: *in.MaximumPlayerSessionCount,
		GameSessionName:           deref(in.GameSessionName),
		GameSessionData:           deref(in.GameSessionData),
		StartTime:                 now,
	}
	for _, gp := range in.GameProperties {
		p.GameProperties = append(p.GameProperties, model.GameProperty{Key: deref(gp.Key), Value: deref(gp.Value)})
	}
	for _, l := range in.PlayerLatencies {
		p.PlayerLatencies = append(p.PlayerLatencies, model.PlayerLatency{
			PlayerID: *l.PlayerId, Region: *l.RegionIdentifier, Milliseconds: *l.LatencyInMilliseconds,
		})
	}
	for _, d := range in.DesiredPlayerSessions {
		p.DesiredPlayerSessions = append(p.DesiredPlayerSessions, model.DesiredPlayerSession{
			PlayerID: *d.PlayerId, PlayerData: deref(d.PlayerData),
		})
	}
	if o := in.PriorityConfigurationOverride; o != nil {
		p.PriorityConfigurationOverride = &model.PriorityConfigurationOverride{
			LocationOrder:             slices.Clone(o.LocationOrder),
			PlacementFallbackStrategy: o.PlacementFallbackStrategy,
		}
	}
	err := s.st.Update(ctx, func(tx store.Tx) error {
		q, err := s.getQueue(tx, *in.GameSessionQueueName)
		if err != nil {
			return err
		}
		if p.PriorityConfigurationOverride != nil && !locationFirst(q) {
			return apierr.Invalid("PriorityConfigurationOverride needs a queue whose PriorityConfiguration puts LOCATION first; queue %s does not", q.Name)
		}
		p.QueueName, p.QueueArn = q.Name, q.Arn
		p.Deadline = now.Add(time.Duration(q.TimeoutInSeconds) * time.Second)
		err = tx.InsertPlacement(p)
		if errors.Is(err, store.ErrConflict) {
			return apierr.Invalid("PlacementId %s has already been used; placement ids cannot be reused", p.ID)
		}
		return err
	})
	if err != nil {
		return nil, storeErr(err)
	}
	s.armPlacementDeadline(p)
	out := toPlacement(p)
	s.kickPlacements()
	return &shapes.StartGameSessionPlacementOutput{GameSessionPlacement: &out}, nil
}

func locationFirst(q model.Queue) bool {
	pc := q.PriorityConfiguration
	return pc != nil && len(pc.PriorityOrder) > 0 && pc.PriorityOrder[0] == model.PriorityLocation
}

func (s *Service) getPlacement(tx store.Tx, id string) (model.Placement, error) {
	p, err := tx.GetPlacement(id)
	if errors.Is(err, store.ErrNotFound) {
		return p, apierr.New(apierr.NotFound, "Game session placement %s not found.", id)
	}
	return p, err
}

// DescribeGameSessionPlacement returns a placement by id.
func (s *Service) DescribeGameSessionPlacement(ctx context.Context, in *shapes.DescribeGameSessionPlacementInput) (*shapes.DescribeGameSessionPlacementOutput, error) {
	var c checker
	c.reqStr("PlacementId", in.PlacementId, 1, 48, reIDString)
	if err := c.Err(); err != nil {
		return nil, err
	}
	var p model.Placement
	err := s.st.View(ctx, func(tx store.Tx) error {
		var err error
		p, err = s.getPlacement(tx, *in.PlacementId)
		return err
	})
	if err != nil {
		return nil, storeErr(err)
	}
	out := toPlacement(p)
	return &shapes.DescribeGameSessionPlacementOutput{GameSessionPlacement: &out}, nil
}

// StopGameSessionPlacement cancels a PENDING placement. A placement whose
// game session already exists (it is activating) cannot be stopped, as in
// GameLift: the caller terminates that game session instead.
func (s *Service) StopGameSessionPlacement(ctx context.Context, in *shapes.StopGameSessionPlacementInput) (*shapes.StopGameSessionPlacementOutput, error) {
	var c checker
	c.reqStr("PlacementId", in.PlacementId, 1, 48, reIDString)
	if err := c.Err(); err != nil {
		return nil, err
	}
	now := s.now()
	var (
		p      model.Placement
		events bool
	)
	err := s.st.Update(ctx, func(tx store.Tx) error {
		var err error
		if p, err = s.getPlacement(tx, *in.PlacementId); err != nil {
			return err
		}
		if p.Status != model.PlacementPending {
			return apierr.Invalid("Game session placement %s is in status %s; only a PENDING placement can be stopped", p.ID, p.Status)
		}
		if p.GameSessionID != "" {
			g, err := tx.GetGameSession(p.GameSessionID)
			if err == nil && !g.Status.Ended() {
				return apierr.Invalid("Game session placement %s has already created game session %s; terminate it with TerminateGameSession", p.ID, g.ID)
			}
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		events, err = s.finishPlacementTx(tx, &p, model.PlacementCancelled, now)
		return err
	})
	if err != nil {
		return nil, storeErr(err)
	}
	s.afterFinish(p.ID, events)
	out := toPlacement(p)
	return &shapes.StopGameSessionPlacementOutput{GameSessionPlacement: &out}, nil
}

// toPlacement converts to the wire shape. The game session id and ARN appear
// while an attempt is under way (GameLift shows them as not yet final); the
// connection details only once FULFILLED.
func toPlacement(p model.Placement) shapes.GameSessionPlacement {
	out := shapes.GameSessionPlacement{
		PlacementId:               ptr(p.ID),
		GameSessionQueueName:      ptr(p.QueueName),
		Status:                    string(p.Status),
		GameProperties:            make([]shapes.GameProperty, 0, len(p.GameProperties)),
		MaximumPlayerSessionCount: ptr(p.MaximumPlayerSessionCount),
		GameSessionName:           strp(p.GameSessionName),
		GameSessionId:             strp(p.GameSessionID),
		GameSessionArn:            strp(p.GameSessionID),
		GameSessionRegion:         strp(p.GameSessionRegion),
		PlayerLatencies:           make([]shapes.PlayerLatency, 0, len(p.PlayerLatencies)),
		StartTime:                 shapes.NewTimestamp(p.StartTime),
		EndTime:                   shapes.NewTimestamp(p.EndTime),
		IpAddress:                 strp(p.IPAddress),
		DnsName:                   strp(p.DNSName),
		PlacedPlayerSessions:      make([]shapes.PlacedPlayerSession, 0, len(p.PlacedPlayerSessions)),
		GameSessionData:           strp(p.GameSessionData),
		MatchmakerData:            strp(p.MatchmakerData),
	}
	for _, gp := range p.GameProperties {
		out.GameProperties = append(out.GameProperties, shapes.GameProperty{Key: ptr(gp.Key), Value: ptr(gp.Value)})
	}
	for _, l := range p.PlayerLatencies {
		out.PlayerLatencies = append(out.PlayerLatencies, shapes.PlayerLatency{
			PlayerId: ptr(l.PlayerID), RegionIdentifier: ptr(l.Region), LatencyInMilliseconds: ptr(l.Milliseconds),
		})
	}
	for _, ps := range p.PlacedPlayerSessions {
		out.PlacedPlayerSessions = append(out.PlacedPlayerSessions, shapes.PlacedPlayerSession{
			PlayerId: ptr(ps.PlayerID), PlayerSessionId: ptr(ps.PlayerSessionID),
		})
	}
	if p.Port != 0 {
		out.Port = ptr(p.Port)
	}
	if o := p.PriorityConfigurationOverride; o != nil {
		out.PriorityConfigurationOverride = &shapes.PriorityConfigurationOverride{
			LocationOrder:             slices.Clone(o.LocationOrder),
			PlacementFallbackStrategy: o.PlacementFallbackStrategy,
		}
	}
	return out
}
