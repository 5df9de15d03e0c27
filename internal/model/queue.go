package model

import "time"

// Queue priority types (PriorityConfiguration.PriorityOrder).
const (
	PriorityLatency     = "LATENCY"
	PriorityCost        = "COST"
	PriorityDestination = "DESTINATION"
	PriorityLocation    = "LOCATION"
)

// Placement fallback strategies of a PriorityConfigurationOverride.
const (
	FallbackDefaultAfterSinglePass = "DEFAULT_AFTER_SINGLE_PASS"
	FallbackNone                   = "NONE"
)

// PlayerLatencyPolicy caps every player's latency for a while. A zero
// DurationSeconds means "until the placement times out".
type PlayerLatencyPolicy struct {
	MaxLatencyMilliseconds int32 `json:"MaxLatencyMilliseconds"`
	DurationSeconds        int32 `json:"DurationSeconds,omitempty"`
}

// PriorityConfiguration is a queue's custom placement order.
type PriorityConfiguration struct {
	PriorityOrder []string `json:"PriorityOrder,omitempty"`
	LocationOrder []string `json:"LocationOrder,omitempty"`
}

// Queue is a game session queue's stored record.
type Queue struct {
	Name         string    `json:"Name"`
	Arn          string    `json:"Arn"`
	CreationTime time.Time `json:"CreationTime"`
	// TimeoutInSeconds is always set: core stores the default when the
	// request has none, so a later change of default leaves queues alone.
	TimeoutInSeconds      int32                 `json:"TimeoutInSeconds"`
	PlayerLatencyPolicies []PlayerLatencyPolicy `json:"PlayerLatencyPolicies,omitempty"`
	// Destinations are fleet or alias ARNs, as given, in preference order.
	Destinations []string `json:"Destinations,omitempty"`
	// AllowedLocations is FilterConfiguration.AllowedLocations; nil means no filter.
	AllowedLocations      []string               `json:"AllowedLocations,omitempty"`
	PriorityConfiguration *PriorityConfiguration `json:"PriorityConfiguration,omitempty"`
	CustomEventData       string                 `json:"CustomEventData,omitempty"`
	// NotificationTarget is an SNS topic ARN or (openlift extension) an http(s) URL.
	NotificationTarget string            `json:"NotificationTarget,omitempty"`
	Tags               map[string]string `json:"Tags,omitempty"`
}

// PlacementStatus is the state of a game session placement.
type PlacementStatus string

// Placement statuses, as GameLift names them.
const (
	// PlacementPending: waiting for capacity, or its game session is activating.
	PlacementPending PlacementStatus = "PENDING"
	// PlacementFulfilled: the game session is ACTIVE and the player sessions exist.
	PlacementFulfilled PlacementStatus = "FULFILLED"
	// PlacementCancelled: StopGameSessionPlacement while PENDING.
	PlacementCancelled PlacementStatus = "CANCELLED"
	// PlacementTimedOut: not placed within the queue's timeout.
	PlacementTimedOut PlacementStatus = "TIMED_OUT"
	// PlacementFailed: could not be completed (for example, its queue was deleted).
	PlacementFailed PlacementStatus = "FAILED"
)

// PlayerLatency is one player's reported latency to one location.
type PlayerLatency struct {
	PlayerID     string  `json:"PlayerID"`
	Region       string  `json:"Region"`
	Milliseconds float32 `json:"Milliseconds"`
}

// DesiredPlayerSession is a player to reserve a slot for once placed.
type DesiredPlayerSession struct {
	PlayerID   string `json:"PlayerID"`
	PlayerData string `json:"PlayerData,omitempty"`
}

// PlacedPlayerSession is the player session created for a DesiredPlayerSession.
type PlacedPlayerSession struct {
	PlayerID        string `json:"PlayerID"`
	PlayerSessionID string `json:"PlayerSessionID"`
}

// PriorityConfigurationOverride replaces a LOCATION-first queue's location order
// for one placement.
type PriorityConfigurationOverride struct {
	LocationOrder             []string `json:"LocationOrder"`
	PlacementFallbackStrategy string   `json:"PlacementFallbackStrategy,omitempty"`
}

// Placement is a game session placement's stored record. It is kept forever:
// PlacementIds can never be reused.
type Placement struct {
	ID        string          `json:"ID"`
	QueueName string          `json:"QueueName"`
	QueueArn  string          `json:"QueueArn"`
	Status    PlacementStatus `json:"Status"`
	// Deadline is StartTime plus the queue's timeout at the time of the
	// request; later changes to the queue do not move it.
	Deadline                  time.Time              `json:"Deadline"`
	GameProperties            []GameProperty         `json:"GameProperties,omitempty"`
	MaximumPlayerSessionCount int32                  `json:"MaximumPlayerSessionCount"`
	GameSessionName           string                 `json:"GameSessionName,omitempty"`
	PlayerLatencies           []PlayerLatency        `json:"PlayerLatencies,omitempty"`
	DesiredPlayerSessions     []DesiredPlayerSession `json:"DesiredPlayerSessions,omitempty"`
	GameSessionData           string                 `json:"GameSessionData,omitempty"`
	MatchmakerData            string                 `json:"MatchmakerData,omitempty"`
	// PriorityConfigurationOverride is echoed and used for this placement only.
	PriorityConfigurationOverride *PriorityConfigurationOverride `json:"PriorityConfigurationOverride,omitempty"`
	StartTime                     time.Time                      `json:"StartTime"`
	EndTime                       time.Time                      `json:"EndTime,omitzero"`
	// GameSessionID is the game session of the current attempt while PENDING
	// (it is ACTIVATING), then the placed one. It is also the game session's ARN.
	GameSessionID        string                `json:"GameSessionID,omitempty"`
	GameSessionRegion    string                `json:"GameSessionRegion,omitempty"`
	IPAddress            string                `json:"IPAddress,omitempty"`
	DNSName              string                `json:"DNSName,omitempty"`
	Port                 int32                 `json:"Port,omitempty"`
	PlacedPlayerSessions []PlacedPlayerSession `json:"PlacedPlayerSessions,omitempty"`
	// Attempts counts game sessions started for this placement.
	Attempts int32 `json:"Attempts,omitempty"`
}

// OutboxMessage is a notification waiting to be delivered. It lives in the
// store, written in the same transaction as the change it reports, so that a
// crash can neither lose it nor report a change that did not commit.
type OutboxMessage struct {
	ID string `json:"ID"`
	// EventID identifies the event; every URL it fans out to shares it, so a
	// receiver can drop duplicates.
	EventID string `json:"EventID"`
	// Target is where the event is published: a queue's NotificationTarget.
	Target string `json:"Target"`
	// URL is the webhook to POST to; empty until the dispatcher has resolved
	// Target to its webhooks.
	URL          string    `json:"URL,omitempty"`
	Body         string    `json:"Body"`
	CreationTime time.Time `json:"CreationTime"`
	Attempts     int32     `json:"Attempts,omitempty"`
	// NextAttempt is when delivery is due; ListOutbox orders by it.
	NextAttempt time.Time `json:"NextAttempt"`
	LastError   string    `json:"LastError,omitempty"`
}
