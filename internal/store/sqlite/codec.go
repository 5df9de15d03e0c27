package sqlite

import (
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/openlift/openlift/internal/model"
)

// Records are stored as JSON in a data column, plus the columns that queries
// filter or order on. Times inside the JSON keep full nanosecond precision;
// times in columns are Unix nanoseconds so that ordering and range filters are
// integer comparisons.

var (
	minNano = time.Unix(0, math.MinInt64+1)
	maxNano = time.Unix(0, math.MaxInt64)
)

// timeKey maps t to an integer that sorts like t. The zero time sorts before
// every real time. Instants outside UnixNano's range (years before 1678 or
// after 2262) are clamped; only the ordering column is affected, never the
// stored value.
func timeKey(t time.Time) int64 {
	switch {
	case t.IsZero():
		return math.MinInt64
	case t.Before(minNano):
		return math.MinInt64 + 1
	case t.After(maxNano):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// utc converts to UTC so that what is read back compares equal (==, DeepEqual)
// to time values built with time.UTC, whatever zone the caller used.
func utc(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}

func encode(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("sqlite: encode %T: %w", v, err)
	}
	return b, nil
}

func decode(b []byte, v any) error {
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("sqlite: decode %T: %w", v, err)
	}
	return nil
}

func normLocation(l model.Location) model.Location {
	l.CreationTime = utc(l.CreationTime)
	return l
}

func normFleet(f model.Fleet) model.Fleet {
	f.CreationTime = utc(f.CreationTime)
	f.TerminationTime = utc(f.TerminationTime)
	return f
}

func normCompute(c model.Compute) model.Compute {
	c.CreationTime = utc(c.CreationTime)
	c.AuthTokenExpiry = utc(c.AuthTokenExpiry)
	c.PrevAuthTokenExpiry = utc(c.PrevAuthTokenExpiry)
	return c
}

func normAlias(a model.Alias) model.Alias {
	a.CreationTime = utc(a.CreationTime)
	a.LastUpdatedTime = utc(a.LastUpdatedTime)
	return a
}

func normProcess(p model.Process) model.Process {
	p.ActivatedAt = utc(p.ActivatedAt)
	p.LastHeartbeat = utc(p.LastHeartbeat)
	p.EndedAt = utc(p.EndedAt)
	return p
}

func normGameSession(g model.GameSession) model.GameSession {
	g.CreationTime = utc(g.CreationTime)
	g.TerminationTime = utc(g.TerminationTime)
	return g
}

func normPlayerSession(p model.PlayerSession) model.PlayerSession {
	p.CreationTime = utc(p.CreationTime)
	p.TerminationTime = utc(p.TerminationTime)
	return p
}

func normEvent(e model.Event) model.Event {
	e.Time = utc(e.Time)
	return e
}

// gameSessionDoc is the JSON form of a game session. The four fields that
// ReservePlayerSessions changes in place live only in their columns; these
// shallower, always-nil fields shadow the embedded ones so that encoding/json
// leaves them out of the document, and a stale copy can never disagree.
type gameSessionDoc struct {
	model.GameSession
	Status                      *struct{} `json:",omitempty"`
	PlayerSessionCreationPolicy *struct{} `json:",omitempty"`
	CurrentPlayerSessionCount   *struct{} `json:",omitempty"`
	MaximumPlayerSessionCount   *struct{} `json:",omitempty"`
}
