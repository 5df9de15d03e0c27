package core

import (
	"context"
	"time"

	"github.com/openlift/openlift/internal/model"
	"github.com/openlift/openlift/internal/store"
)

// Every lifecycle deadline lives here. Deadlines are derived from stored
// records, so rearmTimers can rebuild them all after a restart.

// armHeartbeat (re)starts a process's missed-heartbeat deadline.
func (s *Service) armHeartbeat(processID string) {
	s.setTimer("heartbeat:"+processID, s.cfg.HeartbeatTimeout, func() {
		err := s.endProcesses(s.bg(), store.ProcessFilter{ProcessID: processID}, "SERVER_PROCESS_TERMINATED_UNHEALTHY", true)
		if err != nil {
			s.log.Error("ending process after missed heartbeats", "process", processID, "err", err)
		}
	})
}

// armActivationTimeout terminates a game session still ACTIVATING after d and
// frees its process.
func (s *Service) armActivationTimeout(g model.GameSession, d time.Duration) {
	id := g.ID
	s.setTimer("activation:"+id, d, func() {
		now := s.now()
		err := s.st.Update(s.bg(), func(tx store.Tx) error {
			g, err := tx.GetGameSession(id)
			if err != nil || g.Status != model.GameSessionActivating {
				return err
			}
			g.Status = model.GameSessionTerminated
			g.TerminationTime = now
			if err := tx.PutGameSession(g); err != nil {
				return err
			}
			if p, err := tx.GetProcess(g.ProcessID); err == nil && p.GameSessionID == id {
				p.GameSessionID = ""
				if err := tx.PutProcess(p); err != nil {
					return err
				}
			}
			return fleetEvent(tx, g.FleetID, "GAME_SESSION_ACTIVATION_TIMEOUT", "Game session "+id+" did not activate in time and was terminated.", now)
		})
		if err != nil {
			s.log.Error("activation timeout", "gameSession", id, "err", err)
		}
		s.kickPlacements() // the freed process, or the placement whose attempt this was
	})
}

// armTerminationGrace ends a process that was told to terminate but never
// called ProcessEnding.
func (s *Service) armTerminationGrace(processID string, d time.Duration) {
	s.setTimer("termination:"+processID, d, func() {
		err := s.endProcesses(s.bg(), store.ProcessFilter{ProcessID: processID}, "SERVER_PROCESS_PROCESS_EXIT_TIMEOUT", false)
		if err != nil {
			s.log.Error("ending process after termination grace", "process", processID, "err", err)
		}
	})
}

// expireReservations times out player sessions still RESERVED at their
// deadline and frees their slots.
func (s *Service) expireReservations(ids []string) {
	const chunk = 256
	for len(ids) > 0 {
		n := min(chunk, len(ids))
		batch := ids[:n]
		ids = ids[n:]
		now := s.now()
		err := s.st.Update(s.bg(), func(tx store.Tx) error {
			freed := map[string]int32{}
			for _, id := range batch {
				p, err := tx.GetPlayerSession(id)
				if err != nil {
					continue // gone: nothing to time out
				}
				if p.Status != model.PlayerSessionReserved {
					continue
				}
				p.Status = model.PlayerSessionTimedOut
				p.TerminationTime = now
				if err := tx.PutPlayerSession(p); err != nil {
					return err
				}
				freed[p.GameSessionID]++
			}
			for gsID, n := range freed {
				g, err := tx.GetGameSession(gsID)
				if err != nil {
					return err
				}
				g.CurrentPlayerSessionCount -= n
				if g.CurrentPlayerSessionCount < 0 {
					g.CurrentPlayerSessionCount = 0
				}
				if err := tx.PutGameSession(g); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			s.log.Error("timing out player sessions", "count", len(batch), "err", err)
		}
	}
}

// rearmTimers rebuilds every deadline from the store: RESERVED player sessions
// time out 60 s after creation, ACTIVATING game sessions after their fleet's
// activation timeout, TERMINATING processes after the grace period, and live
// processes get a full heartbeat window to reconnect.
func (s *Service) rearmTimers(ctx context.Context) error {
	var (
		reserved   []model.PlayerSession
		activating []model.GameSession
		procs      []model.Process
		fleets     = map[string]model.Fleet{}
	)
	err := s.st.View(ctx, func(tx store.Tx) error {
		var err error
		if reserved, err = tx.ListPlayerSessions(store.PlayerSessionFilter{Statuses: []model.PlayerSessionStatus{model.PlayerSessionReserved}}); err != nil {
			return err
		}
		if activating, err = tx.ListGameSessions(store.GameSessionFilter{Statuses: []model.GameSessionStatus{model.GameSessionActivating}}); err != nil {
			return err
		}
		if procs, err = tx.ListProcesses(store.ProcessFilter{Statuses: []model.ProcessStatus{model.ProcessActive, model.ProcessTerminating}}); err != nil {
			return err
		}
		fs, err := tx.ListFleets()
		for _, f := range fs {
			fleets[f.ID] = f
		}
		return err
	})
	if err != nil {
		return err
	}
	now := s.now()
	for _, p := range reserved {
		s.timeq.add(p.CreationTime.Add(model.ReservationTimeout), p.ID)
	}
	for _, g := range activating {
		timeout := s.cfg.DefaultActivationTimeout
		if secs := fleets[g.FleetID].GameSessionActivationTimeoutSeconds; secs > 0 {
			timeout = time.Duration(secs) * time.Second
		}
		s.armActivationTimeout(g, g.CreationTime.Add(timeout).Sub(now))
	}
	for _, p := range procs {
		s.armHeartbeat(p.ID)
		if p.Status == model.ProcessTerminating {
			s.armTerminationGrace(p.ID, s.cfg.TerminationGrace)
		}
	}
	s.log.Info("timers re-armed", "reservedPlayerSessions", len(reserved), "activatingGameSessions", len(activating), "processes", len(procs))
	return nil
}
