package model

import "time"

// GameSessionStatus is the lifecycle state of a game session.
type GameSessionStatus string

// Game session statuses, as GameLift names them.
const (
	// GameSessionActivating: placed on a process that has not yet called ActivateGameSession.
	GameSessionActivating GameSessionStatus = "ACTIVATING"
	// GameSessionActive: the server activated it; the only state that admits players.
	GameSessionActive GameSessionStatus = "ACTIVE"
	// GameSessionTerminating: TerminateGameSession was called; waiting for the process to end.
	GameSessionTerminating GameSessionStatus = "TERMINATING"
	// GameSessionTerminated: ended (process ended, activation timed out, or terminated).
	GameSessionTerminated GameSessionStatus = "TERMINATED"
	// GameSessionError: failed.
	GameSessionError GameSessionStatus = "ERROR"
)

// Ended reports whether the session can no longer change.
func (s GameSessionStatus) Ended() bool {
	return s == GameSessionTerminated || s == GameSessionError
}

// Game session status reasons.
const (
	ReasonInterrupted                 = "INTERRUPTED"
	ReasonTriggeredOnProcessTerminate = "TRIGGERED_ON_PROCESS_TERMINATE"
	ReasonForceTerminated             = "FORCE_TERMINATED"
)

// PlayerSessionStatus is the lifecycle state of a player session.
type PlayerSessionStatus string

// Player session statuses.
const (
	// PlayerSessionReserved: a slot is held; the player has not connected yet.
	PlayerSessionReserved PlayerSessionStatus = "RESERVED"
	// PlayerSessionActive: the game server accepted the player.
	PlayerSessionActive PlayerSessionStatus = "ACTIVE"
	// PlayerSessionCompleted: the game server removed the player, or the game ended.
	PlayerSessionCompleted PlayerSessionStatus = "COMPLETED"
	// PlayerSessionTimedOut: not accepted within the reservation window.
	PlayerSessionTimedOut PlayerSessionStatus = "TIMEDOUT"
)

// HoldsSlot reports whether a player session in this status counts toward the cap.
func (s PlayerSessionStatus) HoldsSlot() bool {
	return s == PlayerSessionReserved || s == PlayerSessionActive
}

// Player session creation policies.
const (
	AcceptAll = "ACCEPT_ALL"
	DenyAll   = "DENY_ALL"
)

// Protection policies.
const (
	NoProtection   = "NoProtection"
	FullProtection = "FullProtection"
)

// ReservationTimeout is how long a RESERVED player session waits to be accepted.
const ReservationTimeout = 60 * time.Second

// MaxPlayersPerGameSession is GameLift's fixed cap.
const MaxPlayersPerGameSession = 200

// GameProperty is a key/value pair attached to a game session.
type GameProperty struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

// Location is a custom location for Anywhere fleets.
type Location struct {
	Name         string    `json:"Name"`
	Arn          string    `json:"Arn"`
	CreationTime time.Time `json:"CreationTime"`
}

// FleetStatus values used by openlift.
const (
	FleetNew        = "NEW"
	FleetActive     = "ACTIVE"
	FleetDeleting   = "DELETING"
	FleetTerminated = "TERMINATED"
)

// ResourceCreationLimitPolicy limits game sessions per creator.
type ResourceCreationLimitPolicy struct {
	NewGameSessionsPerCreator int32 `json:"NewGameSessionsPerCreator"`
	PolicyPeriodInMinutes     int32 `json:"PolicyPeriodInMinutes"`
}

// Fleet is a fleet's stored record.
type Fleet struct {
	ID                             string                       `json:"ID"`
	Arn                            string                       `json:"Arn"`
	Name                           string                       `json:"Name"`
	Description                    string                       `json:"Description,omitempty"`
	ComputeType                    string                       `json:"ComputeType"`
	Status                         string                       `json:"Status"`
	CreationTime                   time.Time                    `json:"CreationTime"`
	TerminationTime                time.Time                    `json:"TerminationTime,omitzero"`
	Locations                      []string                     `json:"Locations"` // custom locations, in request order
	NewGameSessionProtectionPolicy string                       `json:"NewGameSessionProtectionPolicy"`
	ResourceCreationLimitPolicy    *ResourceCreationLimitPolicy `json:"ResourceCreationLimitPolicy,omitempty"`
	MetricGroups                   []string                     `json:"MetricGroups,omitempty"`
	AnywhereCost                   string                       `json:"AnywhereCost,omitempty"`
	CertificateType                string                       `json:"CertificateType"`
	Tags                           map[string]string            `json:"Tags,omitempty"`
	// GameSessionActivationTimeoutSeconds bounds ACTIVATING; 0 means the default (600 s).
	// It mirrors RuntimeConfiguration.GameSessionActivationTimeoutSeconds (core
	// writes both): fleets stored before RuntimeConfiguration was kept have only this.
	GameSessionActivationTimeoutSeconds int32 `json:"GameSessionActivationTimeoutSeconds,omitempty"`
	// RuntimeConfiguration says which processes the host agent runs on each compute.
	RuntimeConfiguration *RuntimeConfiguration `json:"RuntimeConfiguration,omitempty"`
	// Capacity holds UpdateFleetCapacity's numbers per location.
	Capacity map[string]LocationCapacity `json:"Capacity,omitempty"`
}

// ServerProcessConfig is one entry of a runtime configuration.
type ServerProcessConfig struct {
	LaunchPath           string `json:"LaunchPath"`
	Parameters           string `json:"Parameters,omitempty"`
	ConcurrentExecutions int32  `json:"ConcurrentExecutions"`
}

// RuntimeConfiguration is a fleet's process launch plan for each compute.
type RuntimeConfiguration struct {
	ServerProcesses                     []ServerProcessConfig `json:"ServerProcesses"`
	MaxConcurrentGameSessionActivations int32                 `json:"MaxConcurrentGameSessionActivations,omitempty"`
	GameSessionActivationTimeoutSeconds int32                 `json:"GameSessionActivationTimeoutSeconds,omitempty"`
}

// LocationCapacity is the desired/min/max instance count of a fleet location.
type LocationCapacity struct {
	Desired int32 `json:"Desired"`
	Min     int32 `json:"Min"`
	Max     int32 `json:"Max"`
}

// Compute statuses.
const (
	ComputeActive      = "ACTIVE"
	ComputeTerminating = "TERMINATING"
)

// Compute is a registered Anywhere host.
type Compute struct {
	FleetID      string    `json:"FleetID"`
	Name         string    `json:"Name"`
	Arn          string    `json:"Arn"`
	IPAddress    string    `json:"IPAddress,omitempty"`
	DNSName      string    `json:"DNSName,omitempty"`
	Location     string    `json:"Location"`
	Status       string    `json:"Status"`
	CreationTime time.Time `json:"CreationTime"`
	// CertificatePath is stored unvalidated.
	CertificatePath string `json:"CertificatePath,omitempty"`
	// AuthToken is the current compute auth token and its expiry.
	AuthToken       string    `json:"AuthToken,omitempty"`
	AuthTokenExpiry time.Time `json:"AuthTokenExpiry,omitzero"`
	// PrevAuthToken stays valid until its own expiry after a new token is minted.
	PrevAuthToken       string    `json:"PrevAuthToken,omitempty"`
	PrevAuthTokenExpiry time.Time `json:"PrevAuthTokenExpiry,omitzero"`
	// Draining is set when the compute's host agent is shutting down: no new
	// game sessions are placed on it, but its processes and agent may still
	// authenticate (they reconnect while finishing). RegisterCompute clears it.
	Draining bool `json:"Draining,omitempty"`
}

// Alias routing strategy types.
const (
	RoutingSimple   = "SIMPLE"
	RoutingTerminal = "TERMINAL"
)

// Alias is a named pointer at a fleet, or a terminal message.
type Alias struct {
	ID              string            `json:"ID"`
	Arn             string            `json:"Arn"`
	Name            string            `json:"Name"`
	Description     string            `json:"Description,omitempty"`
	RoutingType     string            `json:"RoutingType"`
	FleetID         string            `json:"FleetID,omitempty"`
	Message         string            `json:"Message,omitempty"`
	CreationTime    time.Time         `json:"CreationTime"`
	LastUpdatedTime time.Time         `json:"LastUpdatedTime"`
	Tags            map[string]string `json:"Tags,omitempty"`
}

// ProcessStatus is the state of a game server process.
type ProcessStatus string

// Process statuses.
const (
	// ProcessActive: ActivateServerProcess succeeded.
	ProcessActive ProcessStatus = "ACTIVE"
	// ProcessTerminating: TerminateProcess was pushed; waiting for ProcessEnding.
	ProcessTerminating ProcessStatus = "TERMINATING"
	// ProcessTerminated: ended (ProcessEnding, missed heartbeats, unhealthy, compute gone).
	ProcessTerminated ProcessStatus = "TERMINATED"
)

// Process is a game server process that called ProcessReady.
type Process struct {
	ID          string        `json:"ID"` // the SDK's pID
	FleetID     string        `json:"FleetID"`
	ComputeName string        `json:"ComputeName"`
	Location    string        `json:"Location"`
	Port        int32         `json:"Port"`
	IPAddress   string        `json:"IPAddress,omitempty"`
	DNSName     string        `json:"DNSName,omitempty"`
	LogPaths    []string      `json:"LogPaths,omitempty"`
	SdkVersion  string        `json:"SdkVersion,omitempty"`
	SdkLanguage string        `json:"SdkLanguage,omitempty"`
	Status      ProcessStatus `json:"Status"`
	// Eligible becomes true at the first heartbeat after activation (spec §5).
	Eligible      bool      `json:"Eligible"`
	ActivatedAt   time.Time `json:"ActivatedAt"`
	LastHeartbeat time.Time `json:"LastHeartbeat,omitzero"`
	// UnhealthyCount counts consecutive heartbeats that reported unhealthy.
	UnhealthyCount int       `json:"UnhealthyCount,omitempty"`
	GameSessionID  string    `json:"GameSessionID,omitempty"`
	EndedAt        time.Time `json:"EndedAt,omitzero"`
}

// GameSession is a game session's stored record.
type GameSession struct {
	ID                          string            `json:"ID"`
	Name                        string            `json:"Name,omitempty"`
	FleetID                     string            `json:"FleetID"`
	FleetArn                    string            `json:"FleetArn"`
	CreationTime                time.Time         `json:"CreationTime"`
	TerminationTime             time.Time         `json:"TerminationTime,omitzero"`
	CurrentPlayerSessionCount   int32             `json:"CurrentPlayerSessionCount"`
	MaximumPlayerSessionCount   int32             `json:"MaximumPlayerSessionCount"`
	Status                      GameSessionStatus `json:"Status"`
	StatusReason                string            `json:"StatusReason,omitempty"`
	GameProperties              []GameProperty    `json:"GameProperties,omitempty"`
	IPAddress                   string            `json:"IPAddress,omitempty"`
	DNSName                     string            `json:"DNSName,omitempty"`
	Port                        int32             `json:"Port,omitempty"`
	PlayerSessionCreationPolicy string            `json:"PlayerSessionCreationPolicy"`
	CreatorID                   string            `json:"CreatorID,omitempty"`
	GameSessionData             string            `json:"GameSessionData,omitempty"`
	MatchmakerData              string            `json:"MatchmakerData,omitempty"`
	Location                    string            `json:"Location"`
	ComputeName                 string            `json:"ComputeName,omitempty"`
	ProcessID                   string            `json:"ProcessID,omitempty"`
	ProtectionPolicy            string            `json:"ProtectionPolicy"`
	IdempotencyToken            string            `json:"IdempotencyToken,omitempty"`
}

// PlayerSession is a player session's stored record.
type PlayerSession struct {
	ID              string              `json:"ID"`
	PlayerID        string              `json:"PlayerID"`
	GameSessionID   string              `json:"GameSessionID"`
	FleetID         string              `json:"FleetID"`
	FleetArn        string              `json:"FleetArn"`
	CreationTime    time.Time           `json:"CreationTime"`
	TerminationTime time.Time           `json:"TerminationTime,omitzero"`
	Status          PlayerSessionStatus `json:"Status"`
	IPAddress       string              `json:"IPAddress,omitempty"`
	DNSName         string              `json:"DNSName,omitempty"`
	Port            int32               `json:"Port,omitempty"`
	PlayerData      string              `json:"PlayerData,omitempty"`
}

// Event is a fleet event.
type Event struct {
	ID         string    `json:"ID"`
	ResourceID string    `json:"ResourceID"` // the fleet id
	Code       string    `json:"Code"`
	Message    string    `json:"Message"`
	Time       time.Time `json:"Time"`
}
