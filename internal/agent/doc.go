// Package agent is `openlift agent`, the host agent: it makes a machine a
// compute of an Anywhere fleet and does there what GameLift's managed hosting
// does on its instances.
//
// # Lifecycle
//
// The agent registers the host with RegisterCompute and takes a compute auth
// token from GetComputeAuthToken, renewing it once less than 15 minutes
// remain (or at once when the control channel refuses it, or when the
// service pushes RefreshConnection); each launch gets the token current at
// that moment. It then keeps a control channel open (package agentmsg) with
// reconnects and backoff, sends AgentHeartbeat every couple of seconds with
// the ids of the processes it runs, and acts on what the reply says of each.
//
// It fetches the fleet's runtime configuration with
// DescribeRuntimeConfiguration at start, whenever the service pushes
// RuntimeConfigurationChanged, and every 30 s in case a push was lost. For
// each ServerProcesses entry it keeps ConcurrentExecutions copies running (at
// most 50 in all). Nothing is launched before the first heartbeat reply,
// because only the reply says whether the location is scaled to zero.
//
// # Launches
//
// Each process is started in its own process group with LaunchPath and
// Parameters (split on whitespace, double quotes group words), in --game-dir
// or else the launch path's directory, with the agent's environment plus
// GAMELIFT_SDK_WEBSOCKET_URL (RegisterCompute's GameLiftServiceSdkEndpoint),
// GAMELIFT_SDK_AUTH_TOKEN, GAMELIFT_SDK_FLEET_ID, GAMELIFT_SDK_HOST_ID (the
// compute name) and GAMELIFT_SDK_PROCESS_ID (a new UUID per launch, which is
// how the service and the agent name the process). Its stdout and stderr go
// to <log dir>/<process id>.log. On Linux a process gets SIGTERM if the agent
// dies, so that a restarted agent does not find strangers on its ports.
//
// # Supervision
//
// Every stop is SIGTERM to the process group, then SIGKILL after a grace
// (10 s by default). Every exit, and every launch that could not start, is
// reported with ProcessExited, which the service records as a fleet event:
//
//   - the launch path is missing or not executable: SERVER_PROCESS_INVALID_PATH
//     (no process was started; ExitCode -1);
//   - no InitSDK (the service never saw the process CONNECTED) within
//     --init-timeout of the launch: killed, SERVER_PROCESS_SDK_INITIALIZATION_TIMEOUT;
//   - no ProcessReady (never ACTIVE) within --ready-timeout of InitSDK:
//     killed, SERVER_PROCESS_PROCESS_READY_TIMEOUT;
//   - still running 30 s after the service saw it end (ProcessEnding, or ended
//     by the service for health): killed, SERVER_PROCESS_PROCESS_EXIT_TIMEOUT;
//   - a ForceExitServerProcess push (TerminateGameSession with
//     FORCE_TERMINATE): killed, SERVER_PROCESS_FORCE_TERMINATED, or the push's
//     TerminationReason when that is itself a SERVER_PROCESS_* code (the
//     service can thus have a process killed as SERVER_PROCESS_TERMINATED_UNHEALTHY);
//   - exit code 0 after ProcessEnding: a normal exit, no event. Only the
//     service knows whether ProcessEnding came first, so such an exit is
//     judged on the next heartbeat reply (asked for at once): TERMINATED means
//     normal, anything else SERVER_PROCESS_CRASHED;
//   - a stop the agent chose (scale-down, scale to zero, drain): no event;
//   - anything else: SERVER_PROCESS_CRASHED.
//
// The deadlines are checked when a heartbeat reply arrives, so none of them
// fires on a guess while the service cannot be reached.
//
// Exited processes are relaunched. After a failure (any event other than a
// force exit, or a clean exit before ProcessReady) the entry waits 1 s before
// its next launch, doubling with each failure in a row up to 60 s, and
// launches one process per wait rather than filling every slot: a broken
// build costs one attempt per period, never a tight loop. A process of the
// entry that has been ACTIVE for a minute clears the count.
//
// # Scaling down
//
// When an entry asks for fewer processes than run, or disappears from the
// configuration, the agent stops surplus processes that host no game
// session: those not yet ready first, then the newest. A process hosting a
// game session is never stopped for a configuration change; it is left to
// finish, and stopped once idle if it is still surplus by then.
//
// # Scaled to zero
//
// While the heartbeat reply says ScaledToZero (UpdateFleetCapacity set the
// location's DesiredInstances to 0), every entry counts as 0: the agent
// launches nothing, stops idle processes (ACTIVE without a game session, or
// not yet ready) with SIGTERM then SIGKILL after the grace, and lets busy
// ones finish their game sessions. The compute stays registered and
// connected, so raising the desired capacity brings the processes back
// within a heartbeat.
//
// # Draining
//
// When the agent is told to stop (SIGTERM, Ctrl-C: its context ends) it
// sends DrainCompute with a deadline --drain-timeout ahead (30 s by default,
// the time GameLift gives a process between ProcessEnding and its exit), and
// the service pushes TerminateProcess (OnProcessTerminate) with that
// deadline to every process of the compute. The agent launches nothing more,
// waits for the processes to exit, kills the rest at the deadline, reports
// every exit and deregisters the compute with DeregisterCompute. When the
// service cannot be told, the processes get SIGTERM instead.
package agent
