package core

import (
	"context"
	"strings"

	"github.com/openlift/openlift/internal/agentmsg"
	"github.com/openlift/openlift/internal/model"
	"github.com/openlift/openlift/internal/shapes"
	"github.com/openlift/openlift/internal/store"
)

// maxConcurrentProcesses is GameLift's cap on the processes one instance runs
// at once: the sum of ConcurrentExecutions over a runtime configuration.
const maxConcurrentProcesses = 50

// checkRuntimeConfiguration enforces the model's constraints on a runtime
// configuration. requireProcesses makes ServerProcesses mandatory, which
// UpdateRuntimeConfiguration needs (see there).
//
// GameLift requires launch paths under /local/game (C:\game on Windows)
// because it installs the build there. openlift agents run a studio's binaries
// where the studio put them on its own hosts, so any absolute path matching the
// model's pattern is accepted. Relative paths are refused: they would resolve
// against whatever directory each agent happened to start in.
func checkRuntimeConfiguration(c *checker, rc *shapes.RuntimeConfiguration, requireProcesses bool) {
	if rc == nil {
		return
	}
	if requireProcesses {
		c.required("RuntimeConfiguration.ServerProcesses", rc.ServerProcesses != nil)
	}
	if rc.ServerProcesses != nil {
		c.count("RuntimeConfiguration.ServerProcesses", len(rc.ServerProcesses), 1, 50)
	}
	total := int64(0)
	for i, sp := range rc.ServerProcesses {
		name := indexed("RuntimeConfiguration.ServerProcesses", i, "")
		c.reqStr(name+".LaunchPath", sp.LaunchPath, 1, 1024, reLaunchPath)
		if sp.LaunchPath != nil && !isAbsLaunchPath(*sp.LaunchPath) {
			c.fail("%s.LaunchPath %q must be an absolute path", name, *sp.LaunchPath)
		}
		c.str(name+".Parameters", sp.Parameters, 1, 1024, reLaunchParameters)
		c.required(name+".ConcurrentExecutions", sp.ConcurrentExecutions != nil)
		c.int32Range(name+".ConcurrentExecutions", sp.ConcurrentExecutions, 1, maxInt32)
		total += int64(deref(sp.ConcurrentExecutions))
	}
	// GameLift documents the cap but not which exception breaking it raises
	// (LimitExceeded and InvalidRequest are both modeled). InvalidRequest it
	// is: the request itself is wrong and must be changed, whereas the Go, JS
	// and CLI v2 clients retry LimitExceededException as if it were throttling.
	if total > maxConcurrentProcesses {
		c.fail("RuntimeConfiguration.ServerProcesses may run at most %d concurrent processes in total (the sum of ConcurrentExecutions), got %d", maxConcurrentProcesses, total)
	}
	c.int32Range("RuntimeConfiguration.MaxConcurrentGameSessionActivations", rc.MaxConcurrentGameSessionActivations, 1, maxInt32)
	c.int32Range("RuntimeConfiguration.GameSessionActivationTimeoutSeconds", rc.GameSessionActivationTimeoutSeconds, 1, 600)
}

// isAbsLaunchPath accepts Unix absolute paths and Windows drive or UNC paths:
// the service cannot know which operating system an agent runs on.
func isAbsLaunchPath(p string) bool {
	if strings.HasPrefix(p, "/") || strings.HasPrefix(p, `\\`) {
		return true
	}
	if len(p) < 3 || p[1] != ':' || (p[2] != '\\' && p[2] != '/') {
		return false
	}
	d := p[0] | 0x20
	return d >= 'a' && d <= 'z'
}

// setRuntimeConfiguration stores a validated runtime configuration on f (nil
// clears it) and keeps the fleet's activation timeout, which the game session
// code reads, in step with it.
func setRuntimeConfiguration(f *model.Fleet, rc *shapes.RuntimeConfiguration) {
	if rc == nil {
		f.RuntimeConfiguration = nil
		f.GameSessionActivationTimeoutSeconds = 0
		return
	}
	m := &model.RuntimeConfiguration{
		MaxConcurrentGameSessionActivations: deref(rc.MaxConcurrentGameSessionActivations),
		GameSessionActivationTimeoutSeconds: deref(rc.GameSessionActivationTimeoutSeconds),
	}
	for _, sp := range rc.ServerProcesses {
		m.ServerProcesses = append(m.ServerProcesses, model.ServerProcessConfig{
			LaunchPath:           deref(sp.LaunchPath),
			Parameters:           deref(sp.Parameters),
			ConcurrentExecutions: deref(sp.ConcurrentExecutions),
		})
	}
	f.RuntimeConfiguration = m
	f.GameSessionActivationTimeoutSeconds = m.GameSessionActivationTimeoutSeconds
}

// toRuntimeConfiguration renders a fleet's runtime configuration; a fleet
// without one gets an empty object, never nil. Fleets stored before runtime
// configurations were kept have only their activation timeout, which is
// reported as what it was: part of the configuration they were created with.
func toRuntimeConfiguration(f model.Fleet) *shapes.RuntimeConfiguration {
	out := &shapes.RuntimeConfiguration{}
	rc := f.RuntimeConfiguration
	if rc == nil {
		if f.GameSessionActivationTimeoutSeconds > 0 {
			out.GameSessionActivationTimeoutSeconds = ptr(f.GameSessionActivationTimeoutSeconds)
		}
		return out
	}
	for _, sp := range rc.ServerProcesses {
		out.ServerProcesses = append(out.ServerProcesses, shapes.ServerProcess{
			LaunchPath:           ptr(sp.LaunchPath),
			Parameters:           strp(sp.Parameters),
			ConcurrentExecutions: ptr(sp.ConcurrentExecutions),
		})
	}
	if rc.MaxConcurrentGameSessionActivations > 0 {
		out.MaxConcurrentGameSessionActivations = ptr(rc.MaxConcurrentGameSessionActivations)
	}
	if rc.GameSessionActivationTimeoutSeconds > 0 {
		out.GameSessionActivationTimeoutSeconds = ptr(rc.GameSessionActivationTimeoutSeconds)
	}
	return out
}

// UpdateRuntimeConfiguration replaces a fleet's runtime configuration and
// tells the fleet's connected agents to fetch it again. Running processes are
// left alone; the agents converge on the new plan as processes end.
//
// GameLift allows it in any fleet status; a deleted (TERMINATED) fleet is gone
// as far as openlift is concerned, so that one is NotFound.
//
// ServerProcesses is required here although the model leaves it optional: the
// call replaces the whole configuration, so a request meant only to change a
// timeout would otherwise tell every agent to stop every process.
func (s *Service) UpdateRuntimeConfiguration(ctx context.Context, in *shapes.UpdateRuntimeConfigurationInput) (*shapes.UpdateRuntimeConfigurationOutput, error) {
	var c checker
	c.reqStr("FleetId", in.FleetId, 1, 512, reFleetIDOrArn)
	c.required("RuntimeConfiguration", in.RuntimeConfiguration != nil)
	checkRuntimeConfiguration(&c, in.RuntimeConfiguration, true)
	if err := c.Err(); err != nil {
		return nil, err
	}
	var f model.Fleet
	err := s.st.Update(ctx, func(tx store.Tx) error {
		var err error
		f, err = s.liveFleet(tx, *in.FleetId)
		if err != nil {
			return err
		}
		setRuntimeConfiguration(&f, in.RuntimeConfiguration)
		return tx.PutFleet(f)
	})
	if err != nil {
		return nil, storeErr(err)
	}
	s.pushAgentsOfFleet(f.ID, agentmsg.RuntimeConfigurationChanged{Action: agentmsg.PushRuntimeConfigurationChanged})
	return &shapes.UpdateRuntimeConfigurationOutput{RuntimeConfiguration: toRuntimeConfiguration(f)}, nil
}

// DescribeRuntimeConfiguration returns a fleet's runtime configuration: an
// empty object for a fleet that has none, and for a deleted fleet (as the
// GameLift documentation says).
func (s *Service) DescribeRuntimeConfiguration(ctx context.Context, in *shapes.DescribeRuntimeConfigurationInput) (*shapes.DescribeRuntimeConfigurationOutput, error) {
	var c checker
	c.reqStr("FleetId", in.FleetId, 1, 512, reFleetIDOrArn)
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
	if f.Status == model.FleetTerminated {
		return &shapes.DescribeRuntimeConfigurationOutput{RuntimeConfiguration: &shapes.RuntimeConfiguration{}}, nil
	}
	return &shapes.DescribeRuntimeConfigurationOutput{RuntimeConfiguration: toRuntimeConfiguration(f)}, nil
}
