package search

// Session is what expressions read from a game session. Callers adapt their
// own record to it; implementing it on a pointer type keeps Match and Compare
// allocation-free.
type Session interface {
	// GameSessionID is the full game session ARN.
	GameSessionID() string
	// GameSessionName reports ok=false for a session created without a name.
	GameSessionName() (name string, ok bool)
	// GameSessionProperty reports ok=false when the session lacks the key.
	GameSessionProperty(key string) (value string, ok bool)
	MaximumSessions() int64
	CreationTimeMillis() int64
	PlayerSessionCount() int64
}

// Record is a plain Session, for tests and for callers without a record of
// their own. An empty Name means the session has no name.
type Record struct {
	ID            string
	Name          string
	Properties    map[string]string
	MaxPlayers    int64
	CreatedMillis int64
	Players       int64
}

var _ Session = (*Record)(nil)

func (r *Record) GameSessionID() string           { return r.ID }
func (r *Record) GameSessionName() (string, bool) { return r.Name, r.Name != "" }
func (r *Record) MaximumSessions() int64          { return r.MaxPlayers }
func (r *Record) CreationTimeMillis() int64       { return r.CreatedMillis }
func (r *Record) PlayerSessionCount() int64       { return r.Players }

func (r *Record) GameSessionProperty(key string) (string, bool) {
	v, ok := r.Properties[key]
	return v, ok
}
