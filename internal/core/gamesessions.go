package core

import (
	"context"
	"errors"
	"time"

	"github.com/openlift/openlift/internal/agentmsg"
	"github.com/openlift/openlift/internal/apierr"
	"github.com/openlift/openlift/internal/model"
	"github.com/openlift/openlift/internal/sdkmsg"
	"github.com/openlift/openlift/internal/shapes"
	"github.com/openlift/openlift/internal/store"
)

var gameSessionStatusFilters = []string{"ACTIVE", "TERMINATED", "ACTIVATING", "TERMINATING"}

func checkGameProperties(c *checker, props []shapes.GameProperty) {
	c.count("GameProperties", len(props), 0, 16)
	for _, p := range props {
		c.required("GameProperties.Key", p.Key != nil)
		c.required("GameProperties.Value", p.Value != nil)
		c.str("GameProperties.Key", p.Key, 0, 32, nil)
		c.str("GameProperties.Value", p.Value, 0, 96, nil)
	}
}

// CreateGameSession places a new game session on an idle, ready server process
// of the fleet's location and tells the process to start it.
func (s *Service) CreateGameSession(ctx context.Context, in *shapes.CreateGameSessionInput) (*shapes.CreateGameSessionOutput, error) {
	var c checker
	c.str("FleetId", in.FleetId, 1, 512, reFleetIDOrArn)
	c.str("AliasId", in.AliasId, 1, 512, reAliasIDOrArn)
	c.required("MaximumPlayerSessionCount", in.MaximumPlayerSessionCount != nil)
	c.int32Range("MaximumPlayerSessionCount", in.MaximumPlayerSessionCount, 0, model.MaxPlayersPerGameSession)
	c.str("Name", in.Name, 1, 1024, nil)
	checkGameProperties(&c, in.GameProperties)
	c.str("CreatorId", in.CreatorId, 1, 1024, nil)
	c.str("GameSessionId", in.GameSessionId, 1, 48, reIDString)
	c.str("IdempotencyToken", in.IdempotencyToken, 1, 48, reIDString)
	c.str("GameSessionData", in.GameSessionData, 1, 262144, nil)
	c.str("Location", in.Location, 1, 64, reLocation)
	if err := c.Err(); err != nil {
		return nil, err
	}
	now := s.now()
	var (
		g        model.GameSession
		existing bool
	)
	err := s.st.Update(ctx, func(tx store.Tx) error {
		existing = false
		fleet, err := s.resolveFleet(tx, in.FleetId, in.AliasId)
		if err != nil {
			return err
		}
		if fleet.Status != model.FleetActive {
			return apierr.New(apierr.InvalidFleetStatus, "Fleet %s is in status %s; game sessions can only be created on an ACTIVE fleet.", fleet.ID, fleet.Status)
		}
		loc := deref(in.Location)
		if loc == "" {
			return apierr.Invalid("Location is required for ANYWHERE fleets")
		}
		if !contains(fleet.Locations, loc) {
			return apierr.Invalid("Location %s is not a location of fleet %s", loc, fleet.ID)
		}
		idString := "gsess-" + newUUID()
		switch {
		case in.IdempotencyToken != nil:
			idString = *in.IdempotencyToken
		case in.GameSessionId != nil:
			idString = *in.GameSessionId
		}
		id := s.gameSessionArn(fleet.ID, idString)
		prev, err := tx.GetGameSession(id)
		switch {
		case err == nil && in.IdempotencyToken != nil:
			g, existing = prev, true
			return nil
		case err == nil:
			return apierr.New(apierr.IdempotentParameterMismatch, "A game session with ID %s already exists in fleet %s.", idString, fleet.ID)
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		if err := s.checkCreatorLimit(tx, fleet, deref(in.CreatorId), now); err != nil {
			return err
		}
		props := make([]model.GameProperty, 0, len(in.GameProperties))
		for _, gp := range in.GameProperties {
			props = append(props, model.GameProperty{Key: deref(gp.Key), Value: deref(gp.Value)})
		}
		g, err = s.startGameSessionTx(tx, fleet, loc, gameSessionSpec{
			idString:         idString,
			name:             deref(in.Name),
			maxPlayers:       *in.MaximumPlayerSessionCount,
			props:            props,
			creatorID:        deref(in.CreatorId),
			data:             deref(in.GameSessionData),
			idempotencyToken: deref(in.IdempotencyToken),
		}, now)
		return err
	})
	if err != nil {
		return nil, storeErr(err)
	}
	if !existing {
		s.armActivationTimeout(g, s.activationTimeout(ctx, g.FleetID))
		s.pushCreateGameSession(g)
	}
	out := toGameSession(g)
	return &shapes.CreateGameSessionOutput{GameSession: &out}, nil
}

// pickProcess chooses the oldest eligible, idle, connected process of the
// fleet location. Eligibility starts at the first heartbeat after activation,
// which closes the SDK's ProcessReady race (spec §5). Computes whose agent is
// draining them are skipped, and so are computes already starting as many game
// sessions as the runtime configuration's MaxConcurrentGameSessionActivations
// allows (GameLift applies it per instance; a compute is openlift's instance).
func (s *Service) pickProcess(tx store.Tx, fleet model.Fleet, location string) (model.Process, error) {
	ps, err := tx.ListProcesses(store.ProcessFilter{FleetID: fleet.ID, Statuses: []model.ProcessStatus{model.ProcessActive}})
	if err != nil {
		return model.Process{}, err
	}
	var (
		loaded     bool
		draining   map[string]bool
		activating map[string]int32
		limit      int32
	)
	if rc := fleet.RuntimeConfiguration; rc != nil {
		limit = rc.MaxConcurrentGameSessionActivations
	}
	// Computes and activations are only read once there is a candidate:
	// a fleet with no free process fails as cheaply as before.
	load := func() error {
		loaded = true
		computes, err := tx.ListComputes(fleet.ID)
		if err != nil {
			return err
		}
		draining = map[string]bool{}
		for _, c := range computes {
			if c.Draining {
				draining[c.Name] = true
			}
		}
		if limit <= 0 {
			return nil
		}
		gs, err := tx.ListGameSessions(store.GameSessionFilter{FleetID: fleet.ID, Location: location, Statuses: []model.GameSessionStatus{model.GameSessionActivating}})
		if err != nil {
			return err
		}
		activating = map[string]int32{}
		for _, g := range gs {
			activating[g.ComputeName]++
		}
		return nil
	}
	for _, p := range ps {
		if p.Location != location || !p.Eligible || p.GameSessionID != "" || !s.hub.connected(p.ID) {
			continue
		}
		if !loaded {
			if err := load(); err != nil {
				return model.Process{}, err
			}
		}
		if draining[p.ComputeName] || (limit > 0 && activating[p.ComputeName] >= limit) {
			continue
		}
		return p, nil
	}
	return model.Process{}, apierr.New(apierr.FleetCapacityExceeded, "Unable to reserve a process on fleet %s in location %s: no server process is available to host a new game session.", fleet.ID, location)
}

// checkCreatorLimit enforces the per-creator limit for requests that carry a
// CreatorId: the fleet's ResourceCreationLimitPolicy, or else GameLift's
// default of one game session per second per CreatorId. Requests without a
// CreatorId are never limited, as GameLift documents.
//
// A policy is in force only when both of its members are positive. GameLift
// reports a fleet without a policy as a policy of zeros, and a partial policy
// stores its absent member as 0 (UpdateFleetAttributes); reading
// NewGameSessionsPerCreator 0 literally ("fewer than 0") would lock every
// creator out of the fleet, which nobody asks for by leaving a member out.
//
// It counts the creator's game sessions on the fleet created in the trailing
// window (now-window, now], so a session made exactly one window ago no
// longer counts. It must run inside the transaction that inserts the new
// session: writes are serialised, so of two simultaneous requests the second
// sees the first's session and is refused, and there is no limiter state to
// lose on a restart.
func (s *Service) checkCreatorLimit(tx store.Tx, fleet model.Fleet, creatorID string, now time.Time) error {
	if creatorID == "" {
		return nil
	}
	limit, window := int32(1), time.Second
	pol := fleet.ResourceCreationLimitPolicy
	inForce := pol != nil && pol.NewGameSessionsPerCreator > 0 && pol.PolicyPeriodInMinutes > 0
	if inForce {
		limit, window = pol.NewGameSessionsPerCreator, time.Duration(pol.PolicyPeriodInMinutes)*time.Minute
	}
	recent, err := tx.ListGameSessions(store.GameSessionFilter{
		FleetID:      fleet.ID,
		CreatorID:    creatorID,
		CreatedAfter: now.Add(-window + time.Nanosecond),
	})
	if err != nil {
		return err
	}
	switch {
	case len(recent) < int(limit):
		return nil
	case inForce:
		return apierr.New(apierr.LimitExceeded, "Creator %s has reached the limit of %d new game sessions per %d minutes on fleet %s.", creatorID, pol.NewGameSessionsPerCreator, pol.PolicyPeriodInMinutes, fleet.ID)
	default:
		return apierr.New(apierr.LimitExceeded, "Creator %s has already created a game session on fleet %s in the last second; without a ResourceCreationLimitPolicy each CreatorId may create one game session per second.", creatorID, fleet.ID)
	}
}

func (s *Service) activationTimeout(ctx context.Context, fleetID string) time.Duration {
	var secs int32
	_ = s.st.View(ctx, func(tx store.Tx) error {
		f, err := tx.GetFleet(fleetID)
		secs = f.GameSessionActivationTimeoutSeconds
		return err
	})
	if secs > 0 {
		return time.Duration(secs) * time.Second
	}
	return s.cfg.DefaultActivationTimeout
}

func (s *Service) pushCreateGameSession(g model.GameSession) {
	props := make(map[string]string, len(g.GameProperties))
	for _, p := range g.GameProperties {
		props[p.Key] = p.Value
	}
	s.push(g.ProcessID, sdkmsg.CreateGameSession{
		Action:                    sdkmsg.PushCreateGameSession,
		GameSessionId:             g.ID,
		GameSessionName:           g.Name,
		GameSessionData:           g.GameSessionData,
		MatchmakerData:            g.MatchmakerData,
		MaximumPlayerSessionCount: int(g.MaximumPlayerSessionCount),
		Port:                      int(g.Port),
		IpAddress:                 g.IPAddress,
		DnsName:                   g.DNSName,
		GameProperties:            props,
	})
}

// push sends a frame to a process if it is connected. A process that is not
// connected misses it; the timers that guard every lifecycle step clean up.
func (s *Service) push(processID string, frame any) {
	conn, ok := s.hub.get(processID)
	if !ok {
		s.log.Warn("process not connected; push dropped", "process", processID, "frame", frameAction(frame))
		return
	}
	if err := conn.Push(frame); err != nil {
		s.log.Warn("push failed", "process", processID, "frame", frameAction(frame), "err", err)
	}
}

func frameAction(frame any) string {
	switch f := frame.(type) {
	case sdkmsg.CreateGameSession:
		return f.Action
	case sdkmsg.TerminateProcess:
		return f.Action
	case sdkmsg.RefreshConnection:
		return f.Action
	case sdkmsg.UpdateGameSession:
		return f.Action
	}
	return "?"
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// selectGameSessions implements the shared selection of DescribeGameSessions and
// DescribeGameSessionDetails.
func (s *Service) selectGameSessions(ctx context.Context, fleetID, aliasID, gameSessionID, location, statusFilter *string, limit *int32, next *string) ([]model.GameSession, *string, error) {
	var c checker
	c.str("FleetId", fleetID, 1, 512, reFleetIDOrArn)
	c.str("GameSessionId", gameSessionID, 1, 512, reArnString)
	c.str("AliasId", aliasID, 1, 512, reAliasIDOrArn)
	c.str("Location", location, 1, 64, reLocation)
	c.str("StatusFilter", statusFilter, 1, 1024, nil)
	if statusFilter != nil {
		c.enum("StatusFilter", *statusFilter, gameSessionStatusFilters...)
	}
	c.int32Range("Limit", limit, 1, maxInt32)
	c.str("NextToken", next, 1, 1024, nil)
	if err := c.Err(); err != nil {
		return nil, nil, err
	}
	if gameSessionID == nil && fleetID == nil && aliasID == nil {
		return nil, nil, apierr.Invalid("One of FleetId, AliasId or GameSessionId is required")
	}
	var list []model.GameSession
	err := s.st.View(ctx, func(tx store.Tx) error {
		if gameSessionID != nil {
			g, err := tx.GetGameSession(*gameSessionID)
			if errors.Is(err, store.ErrNotFound) {
				return apierr.New(apierr.NotFound, "Game session %s not found.", *gameSessionID)
			}
			if err != nil {
				return err
			}
			if statusFilter == nil || string(g.Status) == *statusFilter {
				list = []model.GameSession{g}
			}
			return nil
		}
		fleet, err := s.resolveFleet(tx, fleetID, aliasID)
		if err != nil {
			return err
		}
		f := store.GameSessionFilter{FleetID: fleet.ID, Location: deref(location)}
		if statusFilter != nil {
			f.Statuses = []model.GameSessionStatus{model.GameSessionStatus(*statusFilter)}
		}
		list, err = tx.ListGameSessions(f)
		return err
	})
	if err != nil {
		return nil, nil, storeErr(err)
	}
	return page(list, limit, next, 100)
}

// DescribeGameSessions lists game sessions by fleet, alias or id.
func (s *Service) DescribeGameSessions(ctx context.Context, in *shapes.DescribeGameSessionsInput) (*shapes.DescribeGameSessionsOutput, error) {
	list, next, err := s.selectGameSessions(ctx, in.FleetId, in.AliasId, in.GameSessionId, in.Location, in.StatusFilter, in.Limit, in.NextToken)
	if err != nil {
		return nil, err
	}
	return &shapes.DescribeGameSessionsOutput{GameSessions: toGameSessions(list), NextToken: next}, nil
}

// DescribeGameSessionDetails is DescribeGameSessions plus each session's protection policy.
func (s *Service) DescribeGameSessionDetails(ctx context.Context, in *shapes.DescribeGameSessionDetailsInput) (*shapes.DescribeGameSessionDetailsOutput, error) {
	list, next, err := s.selectGameSessions(ctx, in.FleetId, in.AliasId, in.GameSessionId, in.Location, in.StatusFilter, in.Limit, in.NextToken)
	if err != nil {
		return nil, err
	}
	details := make([]shapes.GameSessionDetail, 0, len(list))
	for _, g := range list {
		gs := toGameSession(g)
		details = append(details, shapes.GameSessionDetail{GameSession: &gs, ProtectionPolicy: g.ProtectionPolicy})
	}
	return &shapes.DescribeGameSessionDetailsOutput{GameSessionDetails: details, NextToken: next}, nil
}

// UpdateGameSession changes only the members supplied; game properties merge.
func (s *Service) UpdateGameSession(ctx context.Context, in *shapes.UpdateGameSessionInput) (*shapes.UpdateGameSessionOutput, error) {
	var c checker
	c.reqStr("GameSessionId", in.GameSessionId, 1, 512, reArnString)
	c.int32Range("MaximumPlayerSessionCount", in.MaximumPlayerSessionCount, 0, model.MaxPlayersPerGameSession)
	c.str("Name", in.Name, 1, 1024, nil)
	c.enum("PlayerSessionCreationPolicy", in.PlayerSessionCreationPolicy, model.AcceptAll, model.DenyAll)
	c.enum("ProtectionPolicy", in.ProtectionPolicy, model.NoProtection, model.FullProtection)
	checkGameProperties(&c, in.GameProperties)
	if err := c.Err(); err != nil {
		return nil, err
	}
	var g model.GameSession
	err := s.st.Update(ctx, func(tx store.Tx) error {
		var err error
		g, err = tx.GetGameSession(*in.GameSessionId)
		if errors.Is(err, store.ErrNotFound) {
			return apierr.New(apierr.NotFound, "Game session %s not found.", *in.GameSessionId)
		}
		if err != nil {
			return err
		}
		if g.Status.Ended() || g.Status == model.GameSessionTerminating {
			return apierr.New(apierr.InvalidGameSessionStatus, "Game session %s is in status %s and can no longer be updated.", g.ID, g.Status)
		}
		if in.MaximumPlayerSessionCount != nil {
			g.MaximumPlayerSessionCount = *in.MaximumPlayerSessionCount
		}
		if in.Name != nil {
			g.Name = *in.Name
		}
		if in.PlayerSessionCreationPolicy != "" {
			g.PlayerSessionCreationPolicy = in.PlayerSessionCreationPolicy
		}
		if in.ProtectionPolicy != "" {
			g.ProtectionPolicy = in.ProtectionPolicy
		}
		g.GameProperties = mergeProperties(g.GameProperties, in.GameProperties)
		if len(g.GameProperties) > 16 {
			return apierr.Invalid("GameProperties must contain 0 to 16 items after the update")
		}
		return tx.PutGameSession(g)
	})
	if err != nil {
		return nil, storeErr(err)
	}
	out := toGameSession(g)
	return &shapes.UpdateGameSessionOutput{GameSession: &out}, nil
}

func mergeProperties(have []model.GameProperty, add []shapes.GameProperty) []model.GameProperty {
	out := append([]model.GameProperty(nil), have...)
	for _, a := range add {
		k, v := deref(a.Key), deref(a.Value)
		replaced := false
		for i := range out {
			if out[i].Key == k {
				out[i].Value, replaced = v, true
				break
			}
		}
		if !replaced {
			out = append(out, model.GameProperty{Key: k, Value: v})
		}
	}
	return out
}

// TerminateGameSession ends a game session in one of two ways.
// TRIGGER_ON_PROCESS_TERMINATE asks the hosting process to end (the SDK's
// OnProcessTerminate). FORCE_TERMINATE has the compute's host agent kill the
// process; like GameLift on Anywhere computes without its agent, it is refused
// where no agent is connected. Either way the session is TERMINATING until
// the process ends, then TERMINATED with the reason kept.
func (s *Service) TerminateGameSession(ctx context.Context, in *shapes.TerminateGameSessionInput) (*shapes.TerminateGameSessionOutput, error) {
	var c checker
	c.reqStr("GameSessionId", in.GameSessionId, 1, 512, reArnString)
	c.required("TerminationMode", in.TerminationMode != "")
	c.enum("TerminationMode", in.TerminationMode, "TRIGGER_ON_PROCESS_TERMINATE", "FORCE_TERMINATE")
	if err := c.Err(); err != nil {
		return nil, err
	}
	force := in.TerminationMode == "FORCE_TERMINATE"
	var (
		g       model.GameSession
		changed bool
	)
	err := s.st.Update(ctx, func(tx store.Tx) error {
		changed = false
		var err error
		g, err = tx.GetGameSession(*in.GameSessionId)
		if errors.Is(err, store.ErrNotFound) {
			return apierr.New(apierr.NotFound, "Game session %s not found.", *in.GameSessionId)
		}
		if err != nil {
			return err
		}
		if g.Status.Ended() {
			return apierr.New(apierr.InvalidGameSessionStatus, "Game session %s is in status %s and cannot be terminated.", g.ID, g.Status)
		}
		if force {
			if _, ok := s.agents.get(g.FleetID, g.ComputeName); !ok {
				return apierr.Invalid("TerminationMode FORCE_TERMINATE needs the openlift host agent on compute %s, and none is connected; use TRIGGER_ON_PROCESS_TERMINATE", g.ComputeName)
			}
			// Forcing again pushes again (the agent may have missed it);
			// forcing a session that is ending gracefully escalates it.
			if g.Status == model.GameSessionTerminating && g.StatusReason == model.ReasonForceTerminated {
				changed = true
				return nil
			}
		} else if g.Status == model.GameSessionTerminating {
			return nil
		}
		g.Status = model.GameSessionTerminating
		g.StatusReason = model.ReasonTriggeredOnProcessTerminate
		if force {
			g.StatusReason = model.ReasonForceTerminated
		}
		if err := tx.PutGameSession(g); err != nil {
			return err
		}
		if p, err := tx.GetProcess(g.ProcessID); err == nil && p.Status == model.ProcessActive {
			p.Status = model.ProcessTerminating
			if err := tx.PutProcess(p); err != nil {
				return err
			}
		}
		changed = true
		return nil
	})
	if err != nil {
		return nil, storeErr(err)
	}
	s.conns.drop(g.ID)
	if changed {
		s.stopTimer("activation:" + g.ID)
		if force {
			s.forceExit(g)
		} else {
			s.askToTerminate(g.ProcessID)
		}
	}
	out := toGameSession(g)
	return &shapes.TerminateGameSessionOutput{GameSession: &out}, nil
}

// forceExit has the agent kill the game session's process. The session ends
// when the agent reports the exit; the termination grace ends it anyway if the
// agent never does (it disconnected, or died with the process).
func (s *Service) forceExit(g model.GameSession) {
	s.pushAgent(g.FleetID, g.ComputeName, agentmsg.ForceExit{
		Action:            agentmsg.PushForceExit,
		ProcessId:         g.ProcessID,
		TerminationReason: forceTerminatedReason,
	})
	s.armTerminationGrace(g.ProcessID, s.cfg.TerminationGrace)
}

// askToTerminate pushes TerminateProcess and ends the process anyway if it has
// not called ProcessEnding within the grace period.
func (s *Service) askToTerminate(processID string) {
	deadline := s.now().Add(s.cfg.TerminationGrace)
	s.push(processID, sdkmsg.TerminateProcess{Action: sdkmsg.PushTerminateProcess, TerminationTime: deadline.UnixMilli()})
	s.armTerminationGrace(processID, s.cfg.TerminationGrace)
}
