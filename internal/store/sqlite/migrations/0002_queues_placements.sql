-- Game session queues, placements, and the notification outbox.

CREATE TABLE queues (
	name          TEXT PRIMARY KEY,
	creation_time INTEGER NOT NULL,
	data          TEXT NOT NULL
) STRICT;
CREATE INDEX queues_by_creation ON queues (creation_time, name);

-- Placements are kept forever: a PlacementId can never be reused.
CREATE TABLE placements (
	id              TEXT PRIMARY KEY,
	queue_name      TEXT NOT NULL,
	status          TEXT NOT NULL,
	game_session_id TEXT NOT NULL,
	start_time      INTEGER NOT NULL,
	data            TEXT NOT NULL
) STRICT;
CREATE INDEX placements_by_status ON placements (status, start_time, id);
CREATE INDEX placements_by_game_session ON placements (game_session_id)
	WHERE game_session_id <> '';
CREATE INDEX placements_by_queue ON placements (queue_name, start_time, id);

-- One row per notification still to deliver; delivered rows are deleted.
CREATE TABLE outbox (
	id           TEXT PRIMARY KEY,
	next_attempt INTEGER NOT NULL,
	data         TEXT NOT NULL
) STRICT;
CREATE INDEX outbox_by_due ON outbox (next_attempt, id);
