package agentmsg

// Path is where the service accepts agent connections.
const Path = "/agent"

// Requests from the agent (each gets one reply).
const (
	// ActionHeartbeat reports the processes the agent runs; the reply says what
	// the service knows of each. Sent every few seconds.
	ActionHeartbeat = "AgentHeartbeat"
	// ActionProcessExited reports that a process the agent launched has exited
	// (or was killed by the agent), with the reason as a fleet event code.
	ActionProcessExited = "ProcessExited"
	// ActionDrain asks the service to tell every process on this compute to
	// terminate (the SDK's OnProcessTerminate) and to place no new game sessions
	// on it. Sent when the agent is stopping.
	ActionDrain = "DrainCompute"
)

// Pushes from the service (no reply).
const (
	// PushForceExit tells the agent to kill a process now (TerminateGameSession
	// with FORCE_TERMINATE).
	PushForceExit = "ForceExitServerProcess"
	// PushRuntimeConfigurationChanged tells the agent to fetch the fleet's
	// runtime configuration again (DescribeRuntimeConfiguration).
	PushRuntimeConfigurationChanged = "RuntimeConfigurationChanged"
	// PushRefreshConnection hands the agent a fresh compute auth token for its
	// reconnects and for the processes it launches from now on.
	PushRefreshConnection = "RefreshConnection"
)

// Envelope is the routing part of every frame.
type Envelope struct {
	Action       string `json:"Action"`
	RequestId    string `json:"RequestId,omitempty"`
	StatusCode   int    `json:"StatusCode,omitempty"`
	ErrorMessage string `json:"ErrorMessage,omitempty"`
}

// Process states as the service sees them (HeartbeatReply).
const (
	// StateUnknown: the service has not heard from this process id (it has not
	// called InitSDK yet, or never will).
	StateUnknown = "UNKNOWN"
	// StateConnected: InitSDK done (its WebSocket is attached), ProcessReady not yet.
	StateConnected = "CONNECTED"
	// StateActive: ProcessReady done; the process can host a game session.
	StateActive = "ACTIVE"
	// StateTerminated: the service considers the process ended (ProcessEnding,
	// missed heartbeats, unhealthy, or force-terminated).
	StateTerminated = "TERMINATED"
)

// Heartbeat is the body of ActionHeartbeat.
type Heartbeat struct {
	// ProcessIds are the processes the agent currently runs.
	ProcessIds []string `json:"ProcessIds"`
	// Draining is true once the agent is shutting down.
	Draining bool `json:"Draining,omitempty"`
}

// ProcessState is what the service knows of one process.
type ProcessState struct {
	ProcessId string `json:"ProcessId"`
	State     string `json:"State"`
	// GameSessionId is set while the process hosts a game session.
	GameSessionId string `json:"GameSessionId,omitempty"`
}

// HeartbeatReply answers Heartbeat, one entry per reported process.
type HeartbeatReply struct {
	Processes []ProcessState `json:"Processes"`
	// ScaledToZero is true while the fleet location's desired capacity
	// (UpdateFleetCapacity DesiredInstances) is 0: the agent launches nothing new,
	// lets processes that host a game session finish, and stops idle ones.
	ScaledToZero bool `json:"ScaledToZero,omitempty"`
}

// ProcessExited is the body of ActionProcessExited.
type ProcessExited struct {
	ProcessId string `json:"ProcessId"`
	// EventCode is a GameLift fleet event code (SERVER_PROCESS_CRASHED,
	// SERVER_PROCESS_INVALID_PATH, SERVER_PROCESS_SDK_INITIALIZATION_TIMEOUT,
	// SERVER_PROCESS_PROCESS_READY_TIMEOUT, SERVER_PROCESS_TERMINATED_UNHEALTHY,
	// SERVER_PROCESS_FORCE_TERMINATED, SERVER_PROCESS_PROCESS_EXIT_TIMEOUT), or ""
	// for a normal exit (no event is recorded).
	EventCode string `json:"EventCode,omitempty"`
	ExitCode  int    `json:"ExitCode"`
	// Message is a human-readable description (it becomes the event's Message).
	Message string `json:"Message,omitempty"`
}

// Drain is the body of ActionDrain.
type Drain struct {
	// TerminationDeadlineMillis is when the agent will kill what is left (epoch
	// ms); it becomes the TerminateProcess push's TerminationTime.
	TerminationDeadlineMillis int64 `json:"TerminationDeadlineMillis"`
}

// ForceExit is the body of PushForceExit.
type ForceExit struct {
	Action            string `json:"Action"`
	ProcessId         string `json:"ProcessId"`
	TerminationReason string `json:"TerminationReason"`
}

// RuntimeConfigurationChanged is the body of PushRuntimeConfigurationChanged.
type RuntimeConfigurationChanged struct {
	Action string `json:"Action"`
}

// RefreshConnection is the body of PushRefreshConnection.
type RefreshConnection struct {
	Action    string `json:"Action"`
	AuthToken string `json:"AuthToken"`
	// ExpirationTimeMillis is the token's expiry (epoch ms).
	ExpirationTimeMillis int64 `json:"ExpirationTimeMillis"`
}
