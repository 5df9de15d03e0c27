package sqlite

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/openlift/openlift/internal/model"
	"github.com/openlift/openlift/internal/store"
)

var (
	errReadOnly = errors.New("sqlite: write inside View (read-only transaction)")
	errTxDone   = errors.New("sqlite: Tx used after its Update/View function returned")
)

// tx implements store.Tx over one connection. The writer makes one per
// queued operation (so one per savepoint); View makes one per call.
type tx struct {
	c        *conn
	readOnly bool
	done     bool
	// err is the first unexpected SQLite error. Every later call returns it
	// without touching the database: SQLite may already have rolled the whole
	// transaction back (SQLITE_FULL, SQLITE_IOERR, …), and further statements
	// would then run, and commit, on their own.
	err error
	// ctxErr reports the caller's cancellation, to return instead of the
	// SQLITE_INTERRUPT it causes. Nil in the writer, which never interrupts.
	ctxErr func() error
}

var _ store.Tx = (*tx)(nil)

func (t *tx) ok(write bool) error {
	switch {
	case t.done:
		return errTxDone
	case t.err != nil:
		return t.err
	case write && t.readOnly:
		return errReadOnly
	}
	return nil
}

func (t *tx) fail(err error) error {
	if t.ctxErr != nil && isInterrupt(err) {
		if cerr := t.ctxErr(); cerr != nil {
			err = cerr
		}
	}
	t.err = err
	return err
}

// exec runs a write and returns the number of rows it changed.
func (t *tx) exec(query string, args ...any) (int, error) {
	if err := t.ok(true); err != nil {
		return 0, err
	}
	s, err := t.c.prep(query)
	if err != nil {
		return 0, t.fail(err)
	}
	n, err := s.exec(args...)
	if err != nil {
		return 0, t.fail(err)
	}
	return n, nil
}

func (t *tx) insert(what, key, query string, args ...any) error {
	n, err := t.exec(query, args...)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("%w: %s %s", store.ErrConflict, what, key)
	}
	return nil
}

func (t *tx) delete(what, key, query string, args ...any) error {
	n, err := t.exec(query, args...)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("%w: %s %s", store.ErrNotFound, what, key)
	}
	return nil
}

// query runs a read and calls row for each result row. The row's column views
// are valid only during the call.
func (t *tx) query(query string, row func(s *stmt) error, args ...any) error {
	if err := t.ok(false); err != nil {
		return err
	}
	s, err := t.c.prep(query)
	if err != nil {
		return t.fail(err)
	}
	if err := s.bind(args...); err != nil {
		return t.fail(err)
	}
	defer s.reset()
	for {
		more, err := s.step()
		if err != nil {
			return t.fail(err)
		}
		if !more {
			return nil
		}
		if err := row(s); err != nil {
			return err
		}
	}
}

// getDoc decodes column 0 of the single row query returns into dst.
func (t *tx) getDoc(what, key string, dst any, query string, args ...any) error {
	found := false
	err := t.query(query, func(s *stmt) error {
		found = true
		return decode(s.view(0), dst)
	}, args...)
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("%w: %s %s", store.ErrNotFound, what, key)
	}
	return nil
}

func listDocs[T any](t *tx, query string, args ...any) ([]T, error) {
	var out []T
	err := t.query(query, func(s *stmt) error {
		var v T
		if err := decode(s.view(0), &v); err != nil {
			return err
		}
		out = append(out, v)
		return nil
	}, args...)
	return out, err
}

// Locations.

func (t *tx) GetLocation(name string) (model.Location, error) {
	var l model.Location
	err := t.getDoc("location", name, &l, `SELECT data FROM locations WHERE name = ?1`, name)
	return l, err
}

func (t *tx) InsertLocation(l model.Location) error {
	l = normLocation(l)
	data, err := encode(l)
	if err != nil {
		return err
	}
	return t.insert("location", l.Name,
		`INSERT INTO locations (name, data) VALUES (?1, ?2) ON CONFLICT DO NOTHING`, l.Name, data)
}

func (t *tx) DeleteLocation(name string) error {
	return t.delete("location", name, `DELETE FROM locations WHERE name = ?1`, name)
}

func (t *tx) ListLocations() ([]model.Location, error) {
	return listDocs[model.Location](t, `SELECT data FROM locations ORDER BY name`)
}

// Fleets.

func (t *tx) GetFleet(id string) (model.Fleet, error) {
	var f model.Fleet
	err := t.getDoc("fleet", id, &f, `SELECT data FROM fleets WHERE id = ?1`, id)
	return f, err
}

func (t *tx) InsertFleet(f model.Fleet) error {
	f = normFleet(f)
	data, err := encode(f)
	if err != nil {
		return err
	}
	return t.insert("fleet", f.ID,
		`INSERT INTO fleets (id, creation_time, data) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING`,
		f.ID, timeKey(f.CreationTime), data)
}

func (t *tx) PutFleet(f model.Fleet) error {
	f = normFleet(f)
	data, err := encode(f)
	if err != nil {
		return err
	}
	_, err = t.exec(`INSERT INTO fleets (id, creation_time, data) VALUES (?1, ?2, ?3)
		ON CONFLICT (id) DO UPDATE SET creation_time = excluded.creation_time, data = excluded.data`,
		f.ID, timeKey(f.CreationTime), data)
	return err
}

func (t *tx) ListFleets() ([]model.Fleet, error) {
	return listDocs[model.Fleet](t, `SELECT data FROM fleets ORDER BY creation_time, id`)
}

// Computes.

func (t *tx) GetCompute(fleetID, name string) (model.Compute, error) {
	var c model.Compute
	err := t.getDoc("compute", fleetID+"/"+name, &c,
		`SELECT data FROM computes WHERE fleet_id = ?1 AND name = ?2`, fleetID, name)
	return c, err
}

func (t *tx) PutCompute(c model.Compute) error {
	c = normCompute(c)
	data, err := encode(c)
	if err != nil {
		return err
	}
	_, err = t.exec(`INSERT INTO computes (fleet_id, name, creation_time, data) VALUES (?1, ?2, ?3, ?4)
		ON CONFLICT (fleet_id, name) DO UPDATE SET creation_time = excluded.creation_time, data = excluded.data`,
		c.FleetID, c.Name, timeKey(c.CreationTime), data)
	return err
}

func (t *tx) DeleteCompute(fleetID, name string) error {
	return t.delete("compute", fleetID+"/"+name,
		`DELETE FROM computes WHERE fleet_id = ?1 AND name = ?2`, fleetID, name)
}

func (t *tx) ListComputes(fleetID string) ([]model.Compute, error) {
	return listDocs[model.Compute](t,
		`SELECT data FROM computes WHERE fleet_id = ?1 ORDER BY creation_time, name`, fleetID)
}

// Aliases.

func (t *tx) GetAlias(id string) (model.Alias, error) {
	var a model.Alias
	err := t.getDoc("alias", id, &a, `SELECT data FROM aliases WHERE id = ?1`, id)
	return a, err
}

func (t *tx) InsertAlias(a model.Alias) error {
	a = normAlias(a)
	data, err := encode(a)
	if err != nil {
		return err
	}
	return t.insert("alias", a.ID,
		`INSERT INTO aliases (id, creation_time, data) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING`,
		a.ID, timeKey(a.CreationTime), data)
}

func (t *tx) PutAlias(a model.Alias) error {
	a = normAlias(a)
	data, err := encode(a)
	if err != nil {
		return err
	}
	_, err = t.exec(`INSERT INTO aliases (id, creation_time, data) VALUES (?1, ?2, ?3)
		ON CONFLICT (id) DO UPDATE SET creation_time = excluded.creation_time, data = excluded.data`,
		a.ID, timeKey(a.CreationTime), data)
	return err
}

func (t *tx) DeleteAlias(id string) error {
	return t.delete("alias", id, `DELETE FROM aliases WHERE id = ?1`, id)
}

func (t *tx) ListAliases() ([]model.Alias, error) {
	return listDocs[model.Alias](t, `SELECT data FROM aliases ORDER BY creation_time, id`)
}

// Processes.

func (t *tx) GetProcess(id string) (model.Process, error) {
	var p model.Process
	err := t.getDoc("process", id, &p, `SELECT data FROM processes WHERE id = ?1`, id)
	return p, err
}

func (t *tx) PutProcess(p model.Process) error {
	p = normProcess(p)
	data, err := encode(p)
	if err != nil {
		return err
	}
	_, err = t.exec(`INSERT INTO processes (id, fleet_id, compute_name, status, activated_at, data)
		VALUES (?1, ?2, ?3, ?4, ?5, ?6)
		ON CONFLICT (id) DO UPDATE SET fleet_id = excluded.fleet_id, compute_name = excluded.compute_name,
			status = excluded.status, activated_at = excluded.activated_at, data = excluded.data`,
		p.ID, p.FleetID, p.ComputeName, string(p.Status), timeKey(p.ActivatedAt), data)
	return err
}

func (t *tx) ListProcesses(f store.ProcessFilter) ([]model.Process, error) {
	var q where
	q.eq("id", f.ProcessID)
	q.eq("fleet_id", f.FleetID)
	q.eq("compute_name", f.ComputeName)
	q.in("status", stringsOf(f.Statuses))
	return listDocs[model.Process](t,
		`SELECT data FROM processes`+q.String()+` ORDER BY activated_at, id`, q.args...)
}

// Game sessions.

// Game session rows are read as data plus the authoritative columns, always
// in this order.
const gameSessionCols = `data, status, player_session_creation_policy, current_player_session_count, maximum_player_session_count`

// gameSessionRow is a game session row copied out of SQLite but not yet
// decoded, so that the writer can hand decoding to the caller.
type gameSessionRow struct {
	data             []byte
	status, policy   string
	current, maximum int32
}

func scanGameSessionRow(s *stmt) gameSessionRow {
	return gameSessionRow{data: bytes.Clone(s.view(0)), status: s.text(1), policy: s.text(2),
		current: int32(s.int64(3)), maximum: int32(s.int64(4))}
}

func (r gameSessionRow) decode() (model.GameSession, error) {
	var g model.GameSession
	if err := decode(r.data, &g); err != nil {
		return g, err
	}
	g.Status = model.GameSessionStatus(r.status)
	g.PlayerSessionCreationPolicy = r.policy
	g.CurrentPlayerSessionCount, g.MaximumPlayerSessionCount = r.current, r.maximum
	return g, nil
}

func scanGameSession(s *stmt) (model.GameSession, error) {
	var g model.GameSession
	if err := decode(s.view(0), &g); err != nil {
		return g, err
	}
	g.Status = model.GameSessionStatus(s.text(1))
	g.PlayerSessionCreationPolicy = s.text(2)
	g.CurrentPlayerSessionCount = int32(s.int64(3))
	g.MaximumPlayerSessionCount = int32(s.int64(4))
	return g, nil
}

func (t *tx) getGameSessionRow(id string) (r gameSessionRow, found bool, err error) {
	err = t.query(`SELECT `+gameSessionCols+` FROM game_sessions WHERE id = ?1`, func(s *stmt) error {
		found = true
		r = scanGameSessionRow(s)
		return nil
	}, id)
	return r, found, err
}

func (t *tx) GetGameSession(id string) (g model.GameSession, err error) {
	found := false
	err = t.query(`SELECT `+gameSessionCols+` FROM game_sessions WHERE id = ?1`, func(s *stmt) error {
		found = true
		g, err = scanGameSession(s)
		return err
	}, id)
	if err == nil && !found {
		err = fmt.Errorf("%w: game session %s", store.ErrNotFound, id)
	}
	return g, err
}

const gameSessionUpsert = `INSERT INTO game_sessions (id, fleet_id, location, status,
		player_session_creation_policy, current_player_session_count, maximum_player_session_count,
		creator_id, idempotency_token, creation_time, data)
	VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)`

func gameSessionArgs(g model.GameSession) ([]any, error) {
	g = normGameSession(g)
	data, err := encode(gameSessionDoc{GameSession: g})
	if err != nil {
		return nil, err
	}
	return []any{g.ID, g.FleetID, g.Location, string(g.Status),
		g.PlayerSessionCreationPolicy, g.CurrentPlayerSessionCount, g.MaximumPlayerSessionCount,
		g.CreatorID, g.IdempotencyToken, timeKey(g.CreationTime), data}, nil
}

func (t *tx) InsertGameSession(g model.GameSession) error {
	args, err := gameSessionArgs(g)
	if err != nil {
		return err
	}
	return t.insert("game session", g.ID, gameSessionUpsert+` ON CONFLICT DO NOTHING`, args...)
}

func (t *tx) PutGameSession(g model.GameSession) error {
	args, err := gameSessionArgs(g)
	if err != nil {
		return err
	}
	_, err = t.exec(gameSessionUpsert+` ON CONFLICT (id) DO UPDATE SET
		fleet_id = excluded.fleet_id, location = excluded.location, status = excluded.status,
		player_session_creation_policy = excluded.player_session_creation_policy,
		current_player_session_count = excluded.current_player_session_count,
		maximum_player_session_count = excluded.maximum_player_session_count,
		creator_id = excluded.creator_id, idempotency_token = excluded.idempotency_token,
		creation_time = excluded.creation_time, data = excluded.data`, args...)
	return err
}

func (t *tx) ListGameSessions(f store.GameSessionFilter) ([]model.GameSession, error) {
	var q where
	q.eq("fleet_id", f.FleetID)
	q.eq("location", f.Location)
	q.in("status", stringsOf(f.Statuses))
	// The extra "<> ''" lets SQLite use the partial indexes, which leave out
	// the many sessions without a token or creator.
	if f.IdempotencyToken != "" {
		q.eq("idempotency_token", f.IdempotencyToken)
		q.cond("idempotency_token <> ''")
	}
	if f.CreatorID != "" {
		q.eq("creator_id", f.CreatorID)
		q.cond("creator_id <> ''")
	}
	if !f.CreatedAfter.IsZero() {
		q.cmp("creation_time", ">=", timeKey(f.CreatedAfter))
	}
	var out []model.GameSession
	err := t.query(`SELECT `+gameSessionCols+` FROM game_sessions`+q.String()+` ORDER BY creation_time, id`,
		func(s *stmt) error {
			g, err := scanGameSession(s)
			if err != nil {
				return err
			}
			out = append(out, g)
			return nil
		}, q.args...)
	return out, err
}

// Player sessions.

func (t *tx) GetPlayerSession(id string) (model.PlayerSession, error) {
	var p model.PlayerSession
	err := t.getDoc("player session", id, &p, `SELECT data FROM player_sessions WHERE id = ?1`, id)
	return p, err
}

// psRow is a player session ready to insert. ReservePlayerSessions builds
// these on the caller's goroutine so that JSON encoding stays off the writer.
type psRow struct {
	id, gameSessionID, playerID, status string
	created                             int64
	data                                []byte
}

func newPSRow(p model.PlayerSession) (psRow, error) {
	p = normPlayerSession(p)
	data, err := encode(p)
	if err != nil {
		return psRow{}, err
	}
	return psRow{id: p.ID, gameSessionID: p.GameSessionID, playerID: p.PlayerID,
		status: string(p.Status), created: timeKey(p.CreationTime), data: data}, nil
}

const playerSessionInsert = `INSERT INTO player_sessions (id, game_session_id, player_id, status, creation_time, data)
	VALUES (?1, ?2, ?3, ?4, ?5, ?6)`

func (t *tx) PutPlayerSession(p model.PlayerSession) error {
	r, err := newPSRow(p)
	if err != nil {
		return err
	}
	_, err = t.exec(playerSessionInsert+` ON CONFLICT (id) DO UPDATE SET
		game_session_id = excluded.game_session_id, player_id = excluded.player_id,
		status = excluded.status, creation_time = excluded.creation_time, data = excluded.data`,
		r.id, r.gameSessionID, r.playerID, r.status, r.created, r.data)
	return err
}

func (t *tx) ListPlayerSessions(f store.PlayerSessionFilter) ([]model.PlayerSession, error) {
	var q where
	q.eq("game_session_id", f.GameSessionID)
	q.eq("player_id", f.PlayerID)
	q.in("status", stringsOf(f.Statuses))
	return listDocs[model.PlayerSession](t,
		`SELECT data FROM player_sessions`+q.String()+` ORDER BY creation_time, id`, q.args...)
}

// Events.

func (t *tx) InsertEvent(e model.Event) error {
	e = normEvent(e)
	data, err := encode(e)
	if err != nil {
		return err
	}
	return t.insert("event", e.ID,
		`INSERT INTO events (id, fleet_id, time, data) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING`,
		e.ID, e.ResourceID, timeKey(e.Time), data)
}

func (t *tx) ListEvents(fleetID string, start, end time.Time) ([]model.Event, error) {
	var q where
	q.eq("fleet_id", fleetID)
	if !start.IsZero() {
		q.cmp("time", ">=", timeKey(start))
	}
	if !end.IsZero() {
		q.cmp("time", "<", timeKey(end))
	}
	return listDocs[model.Event](t, `SELECT data FROM events`+q.String()+` ORDER BY time DESC, id DESC`, q.args...)
}

// where builds a WHERE clause from optional conditions. Only column names we
// write ourselves are spliced into the SQL; values are always bound. Each
// distinct shape becomes its own cached statement, and there are few shapes.
type where struct {
	conds []string
	args  []any
}

func (w *where) param() string { return fmt.Sprintf("?%d", len(w.args)) }

func (w *where) eq(col, v string) {
	if v == "" {
		return
	}
	w.args = append(w.args, v)
	w.conds = append(w.conds, col+" = "+w.param())
}

func (w *where) cmp(col, op string, v int64) {
	w.args = append(w.args, v)
	w.conds = append(w.conds, col+" "+op+" "+w.param())
}

func (w *where) cond(c string) { w.conds = append(w.conds, c) }

func (w *where) in(col string, vs []string) {
	if len(vs) == 0 {
		return
	}
	ps := make([]string, len(vs))
	for i, v := range vs {
		w.args = append(w.args, v)
		ps[i] = w.param()
	}
	w.conds = append(w.conds, col+" IN ("+strings.Join(ps, ", ")+")")
}

func (w *where) String() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

func stringsOf[S ~string](vs []S) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}
