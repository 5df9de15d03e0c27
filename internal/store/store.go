package store

import (
	"context"
	"errors"
	"time"

	"github.com/openlift/openlift/internal/model"
)

// Errors returned by stores. Callers match them with errors.Is.
var (
	// ErrNotFound: no record with that key.
	ErrNotFound = errors.New("store: not found")
	// ErrConflict: a record with that key already exists (Insert*).
	ErrConflict = errors.New("store: already exists")
	// ErrGameSessionNotActive: ReservePlayerSessions on a session that is not ACTIVE.
	ErrGameSessionNotActive = errors.New("store: game session not active")
	// ErrGameSessionFull: not enough free slots.
	ErrGameSessionFull = errors.New("store: game session full")
	// ErrNotAccepting: the session's policy is DENY_ALL.
	ErrNotAccepting = errors.New("store: game session not accepting player sessions")
)

// Store is a transactional record store. Writes are serialisable: an Update
// function sees a consistent view and its writes commit atomically, durably,
// before Update returns nil.
type Store interface {
	// Update runs fn in a read-write transaction. If fn returns an error, none of
	// its writes are kept and Update returns that error unchanged. fn may be
	// called more than once (retry on serialisation failure), so it must not have
	// side effects outside tx.
	Update(ctx context.Context, fn func(tx Tx) error) error
	// View runs fn in a read-only transaction.
	View(ctx context.Context, fn func(tx Tx) error) error

	// ReservePlayerSessions is the hot path: in one transaction, and only if the
	// game session is ACTIVE, has policy ACCEPT_ALL and has len(sessions) free
	// slots (CurrentPlayerSessionCount+len <= MaximumPlayerSessionCount), it inserts
	// the sessions (all RESERVED) and adds len(sessions) to the count. It returns
	// the game session as updated. Otherwise it changes nothing and returns
	// ErrNotFound, ErrGameSessionNotActive (with the session, for its status),
	// ErrNotAccepting or ErrGameSessionFull.
	ReservePlayerSessions(ctx context.Context, gameSessionID string, sessions []model.PlayerSession) (model.GameSession, error)

	Close() error
}

// Tx is the set of typed record operations available inside a transaction.
// Records returned are copies; changing them changes nothing until Put.
// Get* return ErrNotFound when the record does not exist. Insert* return
// ErrConflict when it does. Put* insert or replace.
type Tx interface {
	GetLocation(name string) (model.Location, error)
	InsertLocation(l model.Location) error
	DeleteLocation(name string) error
	ListLocations() ([]model.Location, error) // ordered by name

	GetFleet(id string) (model.Fleet, error)
	InsertFleet(f model.Fleet) error
	PutFleet(f model.Fleet) error
	ListFleets() ([]model.Fleet, error) // ordered by creation time, then id

	GetCompute(fleetID, name string) (model.Compute, error)
	PutCompute(c model.Compute) error
	DeleteCompute(fleetID, name string) error
	ListComputes(fleetID string) ([]model.Compute, error) // ordered by creation time, then name

	GetAlias(id string) (model.Alias, error)
	InsertAlias(a model.Alias) error
	PutAlias(a model.Alias) error
	DeleteAlias(id string) error
	ListAliases() ([]model.Alias, error) // ordered by creation time, then id

	GetProcess(id string) (model.Process, error)
	PutProcess(p model.Process) error
	// ListProcesses returns processes matching the filter, ordered by ActivatedAt then id.
	ListProcesses(f ProcessFilter) ([]model.Process, error)

	GetGameSession(id string) (model.GameSession, error)
	InsertGameSession(g model.GameSession) error
	PutGameSession(g model.GameSession) error
	// ListGameSessions returns sessions matching the filter, ordered by creation time then id.
	ListGameSessions(f GameSessionFilter) ([]model.GameSession, error)

	GetPlayerSession(id string) (model.PlayerSession, error)
	PutPlayerSession(p model.PlayerSession) error
	// ListPlayerSessions returns sessions matching the filter, ordered by creation time then id.
	ListPlayerSessions(f PlayerSessionFilter) ([]model.PlayerSession, error)

	InsertEvent(e model.Event) error
	// ListEvents returns a fleet's events in [start, end) (zero bounds are open), newest first.
	ListEvents(fleetID string, start, end time.Time) ([]model.Event, error)

	GetQueue(name string) (model.Queue, error)
	InsertQueue(q model.Queue) error
	PutQueue(q model.Queue) error
	DeleteQueue(name string) error
	ListQueues() ([]model.Queue, error) // ordered by creation time, then name

	GetPlacement(id string) (model.Placement, error)
	InsertPlacement(p model.Placement) error
	PutPlacement(p model.Placement) error
	// ListPlacements returns placements matching the filter, ordered by start time then id.
	ListPlacements(f PlacementFilter) ([]model.Placement, error)

	InsertOutbox(m model.OutboxMessage) error
	PutOutbox(m model.OutboxMessage) error
	DeleteOutbox(id string) error
	// ListOutbox returns up to limit messages due at or before dueBy (zero:
	// all), ordered by NextAttempt then id. limit <= 0 means no limit.
	ListOutbox(dueBy time.Time, limit int) ([]model.OutboxMessage, error)
}

// PlacementFilter selects placements; zero fields match everything.
type PlacementFilter struct {
	Statuses []model.PlacementStatus
	// GameSessionID, when set, keeps the placement whose game session it is.
	GameSessionID string
	QueueName     string
}

// ProcessFilter selects processes; zero fields match everything.
type ProcessFilter struct {
	// ProcessID, when set, selects that one process (the other fields still apply).
	ProcessID   string
	FleetID     string
	ComputeName string
	// Statuses, when non-empty, keeps processes in one of these statuses.
	Statuses []model.ProcessStatus
}

// GameSessionFilter selects game sessions; zero fields match everything.
type GameSessionFilter struct {
	FleetID  string
	Location string
	Statuses []model.GameSessionStatus
	// IdempotencyToken, when set, keeps the session created with this token.
	IdempotencyToken string
	CreatorID        string
	// CreatedAfter, when set, keeps sessions created at or after it.
	CreatedAfter time.Time
}

// PlayerSessionFilter selects player sessions; zero fields match everything.
type PlayerSessionFilter struct {
	GameSessionID string
	PlayerID      string
	Statuses      []model.PlayerSessionStatus
}
