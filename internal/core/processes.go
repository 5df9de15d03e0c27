package core

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/openlift/openlift/internal/apierr"
	"github.com/openlift/openlift/internal/model"
	"github.com/openlift/openlift/internal/sdkmsg"
	"github.com/openlift/openlift/internal/store"
)

// Attach binds a process's live connection; a reconnect with the same pID
// replaces the previous one (the SDK never repeats ActivateServerProcess).
func (s *Service) Attach(id sdkmsg.Identity, conn sdkmsg.Conn) { s.hub.attach(id, conn) }

// Detach forgets conn if it is still the process's current connection. The
// process itself lives on until its heartbeats stop.
func (s *Service) Detach(id sdkmsg.Identity, conn sdkmsg.Conn) { s.hub.detach(id, conn) }

// ActivateServerProcess records a process that called ProcessReady.
func (s *Service) ActivateServerProcess(ctx context.Context, id sdkmsg.Identity, req sdkmsg.ActivateServerProcess) error {
	if req.Port < 1 || req.Port > 60000 {
		return apierr.Invalid("Port must be between 1 and 60000")
	}
	now := s.now()
	err := s.st.Update(ctx, func(tx store.Tx) error {
		comp, err := tx.GetCompute(id.FleetID, id.ComputeName)
		if errors.Is(err, store.ErrNotFound) {
			return apierr.New(apierr.NotFound, "Compute %s is not registered in fleet %s.", id.ComputeName, id.FleetID)
		}
		if err != nil {
			return err
		}
		if comp.Status != model.ComputeActive {
			return apierr.New(apierr.Conflict, "Compute %s is %s and cannot host server processes.", id.ComputeName, comp.Status)
		}
		p, err := tx.GetProcess(id.ProcessID)
		if err == nil && p.Status != model.ProcessTerminated && p.FleetID == id.FleetID {
			// ProcessReady called again: keep the process's game session.
			p.Port = int32(req.Port)
			p.LogPaths = req.LogPaths
			return tx.PutProcess(p)
		}
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return tx.PutProcess(model.Process{
			ID:          id.ProcessID,
			FleetID:     id.FleetID,
			ComputeName: id.ComputeName,
			Location:    comp.Location,
			Port:        int32(req.Port),
			IPAddress:   comp.IPAddress,
			DNSName:     comp.DNSName,
			LogPaths:    req.LogPaths,
			SdkVersion:  firstNonEmpty(req.SdkVersion, id.SdkVersion),
			SdkLanguage: firstNonEmpty(req.SdkLanguage, id.SdkLanguage),
			Status:      model.ProcessActive,
			ActivatedAt: now,
		})
	})
	if err != nil {
		return storeErr(err)
	}
	s.armHeartbeat(id.ProcessID)
	return nil
}

// HeartbeatServerProcess keeps a process alive. The first heartbeat after
// activation makes the process eligible to host (spec §5); consecutive
// unhealthy reports end it.
func (s *Service) HeartbeatServerProcess(ctx context.Context, id sdkmsg.Identity, req sdkmsg.HeartbeatServerProcess) error {
	var unhealthy, ended bool
	err := s.st.Update(ctx, func(tx store.Tx) error {
		unhealthy, ended = false, false
		p, err := tx.GetProcess(id.ProcessID)
		if errors.Is(err, store.ErrNotFound) {
			return apierr.New(apierr.NotFound, "Process %s has not called ProcessReady.", id.ProcessID)
		}
		if err != nil {
			return err
		}
		if p.Status == model.ProcessTerminated {
			ended = true // heartbeats queued before ProcessEnding may still arrive
			return nil
		}
		changed := false
		if !p.Eligible {
			p.Eligible, changed = true, true
		}
		switch {
		case req.HealthStatus && p.UnhealthyCount != 0:
			p.UnhealthyCount, changed = 0, true
		case !req.HealthStatus:
			p.UnhealthyCount++
			changed = true
			unhealthy = p.UnhealthyCount >= s.cfg.UnhealthyLimit
		}
		if !changed {
			return nil
		}
		return tx.PutProcess(p)
	})
	if err != nil {
		return storeErr(err)
	}
	if ended {
		return nil
	}
	if unhealthy {
		return s.endProcesses(ctx, store.ProcessFilter{ProcessID: id.ProcessID}, "SERVER_PROCESS_TERMINATED_UNHEALTHY", true)
	}
	s.armHeartbeat(id.ProcessID)
	s.kickPlacements() // an eligible process is capacity a PENDING placement may be waiting for
	return nil
}

// ownGameSession loads a game session and checks that the calling process hosts it.
func ownGameSession(tx store.Tx, id sdkmsg.Identity, gameSessionID string) (model.GameSession, error) {
	if gameSessionID == "" {
		return model.GameSession{}, apierr.Invalid("GameSessionId is required")
	}
	g, err := tx.GetGameSession(gameSessionID)
	if errors.Is(err, store.ErrNotFound) {
		return g, apierr.New(apierr.NotFound, "Game session %s not found.", gameSessionID)
	}
	if err != nil {
		return g, err
	}
	if g.ProcessID != id.ProcessID {
		return g, apierr.New(apierr.Unauthorized, "Game session %s is not hosted by process %s.", gameSessionID, id.ProcessID)
	}
	return g, nil
}

// ActivateGameSession moves the process's game session from ACTIVATING to ACTIVE.
func (s *Service) ActivateGameSession(ctx context.Context, id sdkmsg.Identity, req sdkmsg.ActivateGameSession) error {
	var (
		g   model.GameSession
		ful placementFulfilment
	)
	err := s.st.Update(ctx, func(tx store.Tx) error {
		var err error
		ful = placementFulfilment{}
		g, err = ownGameSession(tx, id, req.GameSessionId)
		if err != nil {
			return err
		}
		switch g.Status {
		case model.GameSessionActive:
			return nil
		case model.GameSessionActivating:
			g.Status = model.GameSessionActive
			ful, err = s.activateGameSessionTx(tx, &g) // writes g; fulfils its placement
			return err
		}
		return apierr.New(apierr.InvalidGameSessionStatus, "Game session %s is in status %s and cannot be activated.", g.ID, g.Status)
	})
	if err != nil {
		return storeErr(err)
	}
	s.stopTimer("activation:" + g.ID)
	s.conns.put(g)
	s.afterActivation(ful)
	return nil
}

// UpdatePlayerSessionCreationPolicy sets ACCEPT_ALL or DENY_ALL on the process's game session.
func (s *Service) UpdatePlayerSessionCreationPolicy(ctx context.Context, id sdkmsg.Identity, req sdkmsg.UpdatePlayerSessionCreationPolicy) error {
	if req.PlayerSessionPolicy != model.AcceptAll && req.PlayerSessionPolicy != model.DenyAll {
		return apierr.Invalid("PlayerSessionPolicy must be ACCEPT_ALL or DENY_ALL")
	}
	err := s.st.Update(ctx, func(tx store.Tx) error {
		g, err := ownGameSession(tx, id, req.GameSessionId)
		if err != nil {
			return err
		}
		if g.Status.Ended() {
			return apierr.New(apierr.InvalidGameSessionStatus, "Game session %s is in status %s.", g.ID, g.Status)
		}
		if g.PlayerSessionCreationPolicy == req.PlayerSessionPolicy {
			return nil
		}
		g.PlayerSessionCreationPolicy = req.PlayerSessionPolicy
		return tx.PutGameSession(g)
	})
	return storeErr(err)
}

// playerSessionOf loads a player session of the process's game session.
func playerSessionOf(tx store.Tx, id sdkmsg.Identity, req sdkmsg.PlayerSessionRequest) (model.PlayerSession, model.GameSession, error) {
	if req.PlayerSessionId == "" {
		return model.PlayerSession{}, model.GameSession{}, apierr.Invalid("PlayerSessionId is required")
	}
	g, err := ownGameSession(tx, id, req.GameSessionId)
	if err != nil {
		return model.PlayerSession{}, g, err
	}
	p, err := tx.GetPlayerSession(req.PlayerSessionId)
	if errors.Is(err, store.ErrNotFound) || (err == nil && p.GameSessionID != g.ID) {
		return p, g, apierr.New(apierr.NotFound, "Player session %s not found in game session %s.", req.PlayerSessionId, g.ID)
	}
	return p, g, err
}

// AcceptPlayerSession validates a player's reservation: RESERVED → ACTIVE.
func (s *Service) AcceptPlayerSession(ctx context.Context, id sdkmsg.Identity, req sdkmsg.PlayerSessionRequest) error {
	now := s.now()
	err := s.st.Update(ctx, func(tx store.Tx) error {
		p, _, err := playerSessionOf(tx, id, req)
		if err != nil {
			return err
		}
		if p.Status != model.PlayerSessionReserved {
			return apierr.Invalid("Player session %s is in status %s; only a RESERVED player session can be accepted.", p.ID, p.Status)
		}
		if now.Sub(p.CreationTime) >= model.ReservationTimeout {
			// The timeout timer may not have run yet; the reservation is over all the same.
			return apierr.Invalid("Player session %s timed out.", p.ID)
		}
		p.Status = model.PlayerSessionActive
		return tx.PutPlayerSession(p)
	})
	return storeErr(err)
}

// RemovePlayerSession ends a player's session and frees the slot: → COMPLETED.
func (s *Service) RemovePlayerSession(ctx context.Context, id sdkmsg.Identity, req sdkmsg.PlayerSessionRequest) error {
	now := s.now()
	err := s.st.Update(ctx, func(tx store.Tx) error {
		p, g, err := playerSessionOf(tx, id, req)
		if err != nil {
			return err
		}
		switch p.Status {
		case model.PlayerSessionCompleted:
			return nil
		case model.PlayerSessionTimedOut:
			return apierr.Invalid("Player session %s timed out.", p.ID)
		}
		p.Status = model.PlayerSessionCompleted
		p.TerminationTime = now
		if err := tx.PutPlayerSession(p); err != nil {
			return err
		}
		g.CurrentPlayerSessionCount--
		return tx.PutGameSession(g)
	})
	return storeErr(err)
}

// DescribePlayerSessionsForProcess serves the SDK's DescribePlayerSessions,
// limited to the process's fleet, with times as integer epoch milliseconds.
func (s *Service) DescribePlayerSessionsForProcess(ctx context.Context, id sdkmsg.Identity, req sdkmsg.DescribePlayerSessions) (sdkmsg.DescribePlayerSessionsResult, error) {
	var limit *int32
	if req.Limit > 0 {
		limit = ptr(int32(req.Limit))
	}
	if req.PlayerSessionStatusFilter != "" && !slices.Contains(playerSessionStatuses, req.PlayerSessionStatusFilter) {
		return sdkmsg.DescribePlayerSessionsResult{}, apierr.Invalid("PlayerSessionStatusFilter must be one of RESERVED, ACTIVE, COMPLETED, TIMEDOUT")
	}
	list, next, err := s.describePlayerSessions(ctx, req.GameSessionId, req.PlayerId, req.PlayerSessionId, req.PlayerSessionStatusFilter, limit, strp(req.NextToken), id.FleetID)
	if err != nil {
		return sdkmsg.DescribePlayerSessionsResult{}, err
	}
	out := sdkmsg.DescribePlayerSessionsResult{NextToken: deref(next), PlayerSessions: make([]sdkmsg.PlayerSession, 0, len(list))}
	for _, p := range list {
		var term int64
		if !p.TerminationTime.IsZero() {
			term = p.TerminationTime.UnixMilli()
		}
		out.PlayerSessions = append(out.PlayerSessions, sdkmsg.PlayerSession{
			PlayerId:        p.PlayerID,
			PlayerSessionId: p.ID,
			GameSessionId:   p.GameSessionID,
			FleetId:         p.FleetID,
			PlayerData:      p.PlayerData,
			IpAddress:       p.IPAddress,
			Port:            int(p.Port),
			CreationTime:    p.CreationTime.UnixMilli(),
			TerminationTime: term,
			DnsName:         p.DNSName,
			Status:          string(p.Status),
		})
	}
	return out, nil
}

// TerminateServerProcess is ProcessEnding: the process, its game session and
// its player sessions end.
func (s *Service) TerminateServerProcess(ctx context.Context, id sdkmsg.Identity) error {
	return s.endProcesses(ctx, store.ProcessFilter{ProcessID: id.ProcessID}, "", false)
}

// GetComputeCertificate returns the certificate path registered for the compute.
func (s *Service) GetComputeCertificate(ctx context.Context, id sdkmsg.Identity) (sdkmsg.GetComputeCertificateResult, error) {
	var c model.Compute
	err := s.st.View(ctx, func(tx store.Tx) error {
		var err error
		c, err = tx.GetCompute(id.FleetID, id.ComputeName)
		if errors.Is(err, store.ErrNotFound) {
			return apierr.New(apierr.NotFound, "Compute %s is not registered in fleet %s.", id.ComputeName, id.FleetID)
		}
		return err
	})
	if err != nil {
		return sdkmsg.GetComputeCertificateResult{}, storeErr(err)
	}
	return sdkmsg.GetComputeCertificateResult{CertificatePath: c.CertificatePath, ComputeName: c.Name}, nil
}

// endProcesses ends every live process matching f, with their game sessions
// (→ TERMINATED) and player sessions (→ COMPLETED), in one transaction. A
// non-empty eventCode records a fleet event per process; tell pushes
// TerminateProcess to processes that are still connected so that they exit.
func (s *Service) endProcesses(ctx context.Context, f store.ProcessFilter, eventCode string, tell bool) error {
	now := s.now()
	var ended []model.Process
	err := s.st.Update(ctx, func(tx store.Tx) error {
		var err error
		ended, err = endProcessesTx(tx, f, eventCode, now)
		return err
	})
	if err != nil {
		return storeErr(err)
	}
	s.afterEndProcesses(ended, eventCode, tell, now)
	return nil
}

// endProcessesTx is the transactional part of endProcesses, for callers that
// write more in the same transaction. It returns the processes it ended, with
// the game session each hosted, for afterEndProcesses.
func endProcessesTx(tx store.Tx, f store.ProcessFilter, eventCode string, now time.Time) ([]model.Process, error) {
	f.Statuses = []model.ProcessStatus{model.ProcessActive, model.ProcessTerminating}
	ps, err := tx.ListProcesses(f)
	if err != nil {
		return nil, err
	}
	ended := make([]model.Process, 0, len(ps))
	for _, p := range ps {
		p.Status = model.ProcessTerminated
		p.EndedAt = now
		gsID := p.GameSessionID
		p.GameSessionID = ""
		if err := tx.PutProcess(p); err != nil {
			return nil, err
		}
		if gsID != "" {
			if err := endGameSession(tx, gsID, now); err != nil {
				return nil, err
			}
		}
		if eventCode != "" {
			if err := fleetEvent(tx, p.FleetID, eventCode, processEventMessage(eventCode, p), now); err != nil {
				return nil, err
			}
		}
		p.GameSessionID = gsID
		ended = append(ended, p)
	}
	return ended, nil
}

// afterEndProcesses drops the timers and cached state of processes that
// endProcessesTx ended, once its transaction has committed.
func (s *Service) afterEndProcesses(ended []model.Process, eventCode string, tell bool, now time.Time) {
	for _, p := range ended {
		s.stopTimer("heartbeat:" + p.ID)
		s.stopTimer("termination:" + p.ID)
		if p.GameSessionID != "" {
			s.stopTimer("activation:" + p.GameSessionID)
			s.conns.drop(p.GameSessionID)
		}
		if tell {
			s.push(p.ID, sdkmsg.TerminateProcess{Action: sdkmsg.PushTerminateProcess, TerminationTime: now.UnixMilli()})
		}
		s.log.Info("server process ended", "process", p.ID, "fleet", p.FleetID, "compute", p.ComputeName, "event", eventCode)
	}
	s.kickPlacements() // a placement whose game session just ended tries again
}

// endGameSession terminates a game session and completes its player sessions.
func endGameSession(tx store.Tx, gameSessionID string, now time.Time) error {
	g, err := tx.GetGameSession(gameSessionID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if g.Status.Ended() {
		return nil
	}
	players, err := tx.ListPlayerSessions(store.PlayerSessionFilter{
		GameSessionID: g.ID,
		Statuses:      []model.PlayerSessionStatus{model.PlayerSessionReserved, model.PlayerSessionActive},
	})
	if err != nil {
		return err
	}
	for _, p := range players {
		p.Status = model.PlayerSessionCompleted
		p.TerminationTime = now
		if err := tx.PutPlayerSession(p); err != nil {
			return err
		}
	}
	g.Status = model.GameSessionTerminated
	g.TerminationTime = now
	g.CurrentPlayerSessionCount = 0
	return tx.PutGameSession(g)
}

func processEventMessage(code string, p model.Process) string {
	switch code {
	case "SERVER_PROCESS_TERMINATED_UNHEALTHY":
		return fmt.Sprintf("Server process %s on compute %s was terminated because it reported unhealthy or stopped sending heartbeats.", p.ID, p.ComputeName)
	case "SERVER_PROCESS_FORCE_TERMINATED":
		return fmt.Sprintf("Server process %s on compute %s was force-terminated.", p.ID, p.ComputeName)
	case "SERVER_PROCESS_PROCESS_EXIT_TIMEOUT":
		return fmt.Sprintf("Server process %s on compute %s did not call ProcessEnding in time after it was asked to terminate.", p.ID, p.ComputeName)
	}
	return fmt.Sprintf("Server process %s on compute %s ended (%s).", p.ID, p.ComputeName, code)
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
