package core

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/openlift/openlift/internal/agentmsg"
	"github.com/openlift/openlift/internal/apierr"
	"github.com/openlift/openlift/internal/model"
	"github.com/openlift/openlift/internal/sdkmsg"
	"github.com/openlift/openlift/internal/store"
)

// Limits on what an agent may send. They are far above what a well-behaved
// agent needs (a runtime configuration runs at most 50 processes, plus those
// still finishing after a change) and only keep one frame's work bounded.
const (
	maxHeartbeatProcesses = 1000
	maxEventMessageRunes  = 2048
)

// processEventCodes are the GameLift event codes an agent may report with a
// process exit: the SERVER_PROCESS_* members of the EventCode enum. Anything
// else would reach DescribeFleetEvents callers as a code their SDK does not know.
var processEventCodes = map[string]bool{
	"SERVER_PROCESS_INVALID_PATH":                 true,
	"SERVER_PROCESS_SDK_INITIALIZATION_TIMEOUT":   true,
	"SERVER_PROCESS_PROCESS_READY_TIMEOUT":        true,
	"SERVER_PROCESS_CRASHED":                      true,
	"SERVER_PROCESS_TERMINATED_UNHEALTHY":         true,
	"SERVER_PROCESS_FORCE_TERMINATED":             true,
	"SERVER_PROCESS_PROCESS_EXIT_TIMEOUT":         true,
	"SERVER_PROCESS_SDK_INITIALIZATION_FAILED":    true,
	"SERVER_PROCESS_MISCONFIGURED_CONTAINER_PORT": true,
}

// forceTerminatedReason is the TerminationReason of a ForceExit push.
const forceTerminatedReason = "SERVER_PROCESS_FORCE_TERMINATED"

// AttachAgent binds an agent's connection to its compute; a reconnect replaces
// the previous connection.
func (s *Service) AttachAgent(id agentmsg.Identity, conn agentmsg.Conn) {
	s.agents.attach(agentKey(id), conn)
	s.log.Info("host agent connected", "fleet", id.FleetID, "compute", id.ComputeName)
}

// DetachAgent forgets conn if it is still the compute's agent connection.
func (s *Service) DetachAgent(id agentmsg.Identity, conn agentmsg.Conn) {
	s.agents.detach(agentKey(id), conn)
}

// agentCompute loads the compute an agent speaks for, and its fleet.
func agentCompute(tx store.Tx, id agentmsg.Identity) (model.Fleet, model.Compute, error) {
	fid := fleetIDFromInput(id.FleetID)
	f, err := tx.GetFleet(fid)
	if errors.Is(err, store.ErrNotFound) {
		return f, model.Compute{}, apierr.New(apierr.NotFound, "Fleet %s not found.", fid)
	}
	if err != nil {
		return f, model.Compute{}, err
	}
	cp, err := tx.GetCompute(fid, id.ComputeName)
	if errors.Is(err, store.ErrNotFound) {
		return f, cp, apierr.New(apierr.NotFound, "Compute %s is not registered in fleet %s.", id.ComputeName, fid)
	}
	return f, cp, err
}

// AgentHeartbeat tells the agent what the service knows of each process it
// runs, so that it can kill the ones that never connect or never become ready,
// and whether its location is scaled to zero.
func (s *Service) AgentHeartbeat(ctx context.Context, id agentmsg.Identity, req agentmsg.Heartbeat) (agentmsg.HeartbeatReply, error) {
	if len(req.ProcessIds) > maxHeartbeatProcesses {
		return agentmsg.HeartbeatReply{}, apierr.Invalid("ProcessIds may list at most %d processes", maxHeartbeatProcesses)
	}
	var (
		f     model.Fleet
		cp    model.Compute
		reply = agentmsg.HeartbeatReply{Processes: make([]agentmsg.ProcessState, 0, len(req.ProcessIds))}
	)
	err := s.st.View(ctx, func(tx store.Tx) error {
		reply.Processes = reply.Processes[:0]
		var err error
		f, cp, err = agentCompute(tx, id)
		if err != nil {
			return err
		}
		for _, pid := range req.ProcessIds {
			ps, err := s.processState(tx, cp, pid)
			if err != nil {
				return err
			}
			reply.Processes = append(reply.Processes, ps)
		}
		return nil
	})
	if err != nil {
		return agentmsg.HeartbeatReply{}, storeErr(err)
	}
	// Drain normally arrives as DrainCompute; the flag makes a drain survive a
	// lost DrainCompute reply without another round of TerminateProcess pushes.
	if req.Draining && !cp.Draining {
		if err := s.setDraining(ctx, cp); err != nil {
			return agentmsg.HeartbeatReply{}, err
		}
	}
	// Only an explicit 0 scales to zero: a location nobody has set keeps
	// running what its runtime configuration says.
	if c, ok := f.Capacity[cp.Location]; ok && c.Desired == 0 {
		reply.ScaledToZero = true
	}
	return reply, nil
}

// processState maps one process id onto the agent's view of it. A process of
// another compute is UNKNOWN, as if the service had never seen it: an agent
// learns nothing about hosts other than its own.
func (s *Service) processState(tx store.Tx, cp model.Compute, pid string) (agentmsg.ProcessState, error) {
	out := agentmsg.ProcessState{ProcessId: pid, State: agentmsg.StateUnknown}
	p, err := tx.GetProcess(pid)
	switch {
	case err == nil && p.FleetID == cp.FleetID && p.ComputeName == cp.Name:
		if p.Status == model.ProcessTerminated {
			out.State = agentmsg.StateTerminated
			return out, nil
		}
		out.State = agentmsg.StateActive
		out.GameSessionId = p.GameSessionID
		return out, nil
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return out, err
	}
	if pi, ok := s.hub.identity(pid); ok && pi.ComputeName == cp.Name && fleetIDFromInput(pi.FleetID) == cp.FleetID {
		out.State = agentmsg.StateConnected
	}
	return out, nil
}

func (s *Service) setDraining(ctx context.Context, cp model.Compute) error {
	err := s.st.Update(ctx, func(tx store.Tx) error {
		c, err := tx.GetCompute(cp.FleetID, cp.Name)
		if errors.Is(err, store.ErrNotFound) {
			return apierr.New(apierr.NotFound, "Compute %s is not registered in fleet %s.", cp.Name, cp.FleetID)
		}
		if err != nil || c.Draining {
			return err
		}
		c.Draining = true
		return tx.PutCompute(c)
	})
	return storeErr(err)
}

// AgentProcessExited records a process exit the agent saw: the fleet event it
// names (whether or not the process ever reached the service: a launch path
// that does not exist is worth an event too) and the end of the process, its
// game session and its player sessions, in one transaction. Nothing is pushed
// to the process; it is gone.
func (s *Service) AgentProcessExited(ctx context.Context, id agentmsg.Identity, req agentmsg.ProcessExited) error {
	if req.ProcessId == "" {
		return apierr.Invalid("ProcessId is required")
	}
	if req.EventCode != "" && !processEventCodes[req.EventCode] {
		return apierr.Invalid("EventCode %q is not a GameLift server process event code", req.EventCode)
	}
	now := s.now()
	var ended []model.Process
	err := s.st.Update(ctx, func(tx store.Tx) error {
		_, cp, err := agentCompute(tx, id)
		if err != nil {
			return err
		}
		if req.EventCode != "" {
			// The event must say which process it is about: a fleet has many.
			msg := fmt.Sprintf("Server process %s on compute %s exited with code %d (%s).", req.ProcessId, cp.Name, req.ExitCode, req.EventCode)
			if req.Message != "" {
				msg = fmt.Sprintf("Server process %s on compute %s: %s", req.ProcessId, cp.Name, req.Message)
			}
			msg = truncateRunes(msg, maxEventMessageRunes)
			if err := fleetEvent(tx, cp.FleetID, req.EventCode, msg, now); err != nil {
				return err
			}
		}
		ended, err = endProcessesTx(tx, store.ProcessFilter{ProcessID: req.ProcessId, FleetID: cp.FleetID, ComputeName: cp.Name}, "", now)
		return err
	})
	if err != nil {
		return storeErr(err)
	}
	s.afterEndProcesses(ended, req.EventCode, false, now)
	return nil
}

// AgentDrainCompute stops placement on the compute and asks each of its
// processes to end by the agent's deadline (the SDK's OnProcessTerminate).
// Processes already told to terminate are not told again, so a repeated
// request (after a lost reply) changes nothing.
func (s *Service) AgentDrainCompute(ctx context.Context, id agentmsg.Identity, req agentmsg.Drain) error {
	if req.TerminationDeadlineMillis < 0 {
		return apierr.Invalid("TerminationDeadlineMillis must not be negative")
	}
	now := s.now()
	deadline := now.Add(s.cfg.TerminationGrace)
	if req.TerminationDeadlineMillis > 0 {
		deadline = time.UnixMilli(req.TerminationDeadlineMillis).UTC()
	}
	var (
		cp     model.Compute
		told   []model.Process // ACTIVE until now
		before = map[string]bool{}
	)
	err := s.st.Update(ctx, func(tx store.Tx) error {
		told = told[:0]
		clear(before)
		var err error
		_, cp, err = agentCompute(tx, id)
		if err != nil {
			return err
		}
		if !cp.Draining {
			cp.Draining = true
			if err := tx.PutCompute(cp); err != nil {
				return err
			}
		}
		ps, err := tx.ListProcesses(store.ProcessFilter{
			FleetID:     cp.FleetID,
			ComputeName: cp.Name,
			Statuses:    []model.ProcessStatus{model.ProcessActive, model.ProcessTerminating},
		})
		if err != nil {
			return err
		}
		for _, p := range ps {
			if p.Status == model.ProcessTerminating {
				before[p.ID] = true
				continue
			}
			p.Status = model.ProcessTerminating
			if err := tx.PutProcess(p); err != nil {
				return err
			}
			told = append(told, p)
		}
		return nil
	})
	if err != nil {
		return storeErr(err)
	}
	// Connected processes that have not called ProcessReady have no record
	// yet, and are told all the same: the host is going away under them.
	frame := sdkmsg.TerminateProcess{Action: sdkmsg.PushTerminateProcess, TerminationTime: deadline.UnixMilli()}
	for _, e := range s.hub.byCompute(cp.FleetID, cp.Name) {
		if before[e.id.ProcessID] {
			continue
		}
		if err := e.conn.Push(frame); err != nil {
			s.log.Warn("TerminateProcess push failed", "process", e.id.ProcessID, "err", err)
		}
	}
	// The agent kills what is left at the deadline and reports each exit; the
	// grace after it covers an agent that dies first.
	grace := max(deadline.Sub(now), 0) + s.cfg.TerminationGrace
	for _, p := range told {
		s.armTerminationGrace(p.ID, grace)
	}
	s.log.Info("compute draining", "fleet", cp.FleetID, "compute", cp.Name, "processes", len(told), "deadline", deadline)
	return nil
}

// pushAgent sends a frame to a compute's agent, if one is connected.
func (s *Service) pushAgent(fleetID, computeName string, frame any) bool {
	conn, ok := s.agents.get(fleetID, computeName)
	if !ok {
		return false
	}
	if err := conn.Push(frame); err != nil {
		s.log.Warn("agent push failed", "fleet", fleetID, "compute", computeName, "err", err)
		return false
	}
	return true
}

// pushAgentsOfFleet sends a frame to every connected agent of a fleet.
func (s *Service) pushAgentsOfFleet(fleetID string, frame any) {
	for _, c := range s.agents.byFleet(fleetID) {
		if err := c.Push(frame); err != nil {
			s.log.Warn("agent push failed", "fleet", fleetID, "err", err)
		}
	}
}

func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n])
}
