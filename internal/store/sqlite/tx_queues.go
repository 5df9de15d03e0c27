package sqlite

import (
	"time"

	"github.com/openlift/openlift/internal/model"
	"github.com/openlift/openlift/internal/store"
)

// Queues, placements and the outbox, in the same shape as the other record
// kinds: key and filter columns, plus the record as JSON.

func normQueue(q model.Queue) model.Queue {
	q.CreationTime = utc(q.CreationTime)
	return q
}

func normPlacement(p model.Placement) model.Placement {
	p.Deadline = utc(p.Deadline)
	p.StartTime = utc(p.StartTime)
	p.EndTime = utc(p.EndTime)
	return p
}

func normOutbox(m model.OutboxMessage) model.OutboxMessage {
	m.CreationTime = utc(m.CreationTime)
	m.NextAttempt = utc(m.NextAttempt)
	return m
}

// Queues.

func (t *tx) GetQueue(name string) (model.Queue, error) {
	var q model.Queue
	err := t.getDoc("queue", name, &q, `SELECT data FROM queues WHERE name = ?1`, name)
	return q, err
}

const queueUpsert = `INSERT INTO queues (name, creation_time, data) VALUES (?1, ?2, ?3)`

func (t *tx) InsertQueue(q model.Queue) error {
	q = normQueue(q)
	data, err := encode(q)
	if err != nil {
		return err
	}
	return t.insert("queue", q.Name, queueUpsert+` ON CONFLICT DO NOTHING`, q.Name, timeKey(q.CreationTime), data)
}

func (t *tx) PutQueue(q model.Queue) error {
	q = normQueue(q)
	data, err := encode(q)
	if err != nil {
		return err
	}
	_, err = t.exec(queueUpsert+` ON CONFLICT (name) DO UPDATE SET
		creation_time = excluded.creation_time, data = excluded.data`,
		q.Name, timeKey(q.CreationTime), data)
	return err
}

func (t *tx) DeleteQueue(name string) error {
	return t.delete("queue", name, `DELETE FROM queues WHERE name = ?1`, name)
}

func (t *tx) ListQueues() ([]model.Queue, error) {
	return listDocs[model.Queue](t, `SELECT data FROM queues ORDER BY creation_time, name`)
}

// Placements.

func (t *tx) GetPlacement(id string) (model.Placement, error) {
	var p model.Placement
	err := t.getDoc("placement", id, &p, `SELECT data FROM placements WHERE id = ?1`, id)
	return p, err
}

const placementUpsert = `INSERT INTO placements (id, queue_name, status, game_session_id, start_time, data)
	VALUES (?1, ?2, ?3, ?4, ?5, ?6)`

func placementArgs(p model.Placement) ([]any, error) {
	p = normPlacement(p)
	data, err := encode(p)
	if err != nil {
		return nil, err
	}
	return []any{p.ID, p.QueueName, string(p.Status), p.GameSessionID, timeKey(p.StartTime), data}, nil
}

func (t *tx) InsertPlacement(p model.Placement) error {
	args, err := placementArgs(p)
	if err != nil {
		return err
	}
	return t.insert("placement", p.ID, placementUpsert+` ON CONFLICT DO NOTHING`, args...)
}

func (t *tx) PutPlacement(p model.Placement) error {
	args, err := placementArgs(p)
	if err != nil {
		return err
	}
	_, err = t.exec(placementUpsert+` ON CONFLICT (id) DO UPDATE SET
		queue_name = excluded.queue_name, status = excluded.status,
		game_session_id = excluded.game_session_id, start_time = excluded.start_time,
		data = excluded.data`, args...)
	return err
}

func (t *tx) ListPlacements(f store.PlacementFilter) ([]model.Placement, error) {
	var q where
	q.in("status", stringsOf(f.Statuses))
	if f.GameSessionID != "" {
		// The extra condition lets SQLite use the partial index.
		q.eq("game_session_id", f.GameSessionID)
		q.cond("game_session_id <> ''")
	}
	q.eq("queue_name", f.QueueName)
	return listDocs[model.Placement](t,
		`SELECT data FROM placements`+q.String()+` ORDER BY start_time, id`, q.args...)
}

// Outbox.

const outboxUpsert = `INSERT INTO outbox (id, next_attempt, data) VALUES (?1, ?2, ?3)`

func (t *tx) InsertOutbox(m model.OutboxMessage) error {
	m = normOutbox(m)
	data, err := encode(m)
	if err != nil {
		return err
	}
	return t.insert("outbox message", m.ID, outboxUpsert+` ON CONFLICT DO NOTHING`, m.ID, timeKey(m.NextAttempt), data)
}

func (t *tx) PutOutbox(m model.OutboxMessage) error {
	m = normOutbox(m)
	data, err := encode(m)
	if err != nil {
		return err
	}
	_, err = t.exec(outboxUpsert+` ON CONFLICT (id) DO UPDATE SET
		next_attempt = excluded.next_attempt, data = excluded.data`, m.ID, timeKey(m.NextAttempt), data)
	return err
}

func (t *tx) DeleteOutbox(id string) error {
	return t.delete("outbox message", id, `DELETE FROM outbox WHERE id = ?1`, id)
}

func (t *tx) ListOutbox(dueBy time.Time, limit int) ([]model.OutboxMessage, error) {
	var q where
	if !dueBy.IsZero() {
		q.cmp("next_attempt", "<=", timeKey(dueBy))
	}
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	q.args = append(q.args, int64(limit))
	return listDocs[model.OutboxMessage](t,
		`SELECT data FROM outbox`+q.String()+` ORDER BY next_attempt, id LIMIT `+q.param(), q.args...)
}
