-- Initial schema. One table per record kind: the key and the columns that
-- queries filter or order on, plus the record itself as JSON in data.
-- Times in columns are Unix nanoseconds (the zero time is the smallest int64).
-- No foreign keys: referential rules (a player session's game session exists,
-- a compute's fleet exists) are enforced by core, and FKs would make the order
-- of Puts inside one transaction matter.

CREATE TABLE locations (
	name TEXT PRIMARY KEY,
	data TEXT NOT NULL
) STRICT;

CREATE TABLE fleets (
	id            TEXT PRIMARY KEY,
	creation_time INTEGER NOT NULL,
	data          TEXT NOT NULL
) STRICT;
CREATE INDEX fleets_by_creation ON fleets (creation_time, id);

CREATE TABLE computes (
	fleet_id      TEXT NOT NULL,
	name          TEXT NOT NULL,
	creation_time INTEGER NOT NULL,
	data          TEXT NOT NULL,
	PRIMARY KEY (fleet_id, name)
) STRICT;
CREATE INDEX computes_by_creation ON computes (fleet_id, creation_time, name);

CREATE TABLE aliases (
	id            TEXT PRIMARY KEY,
	creation_time INTEGER NOT NULL,
	data          TEXT NOT NULL
) STRICT;
CREATE INDEX aliases_by_creation ON aliases (creation_time, id);

CREATE TABLE processes (
	id           TEXT PRIMARY KEY,
	fleet_id     TEXT NOT NULL,
	compute_name TEXT NOT NULL,
	status       TEXT NOT NULL,
	activated_at INTEGER NOT NULL,
	data         TEXT NOT NULL
) STRICT;
CREATE INDEX processes_by_compute ON processes (fleet_id, compute_name, activated_at, id);
CREATE INDEX processes_by_status ON processes (status, activated_at, id);

-- status, player_session_creation_policy and the two counts are authoritative
-- here and absent from data: ReservePlayerSessions updates them in place.
CREATE TABLE game_sessions (
	id                             TEXT PRIMARY KEY,
	fleet_id                       TEXT NOT NULL,
	location                       TEXT NOT NULL,
	status                         TEXT NOT NULL,
	player_session_creation_policy TEXT NOT NULL,
	current_player_session_count   INTEGER NOT NULL,
	maximum_player_session_count   INTEGER NOT NULL,
	creator_id                     TEXT NOT NULL,
	idempotency_token              TEXT NOT NULL,
	creation_time                  INTEGER NOT NULL,
	data                           TEXT NOT NULL
) STRICT;
CREATE INDEX game_sessions_by_fleet ON game_sessions (fleet_id, location, status);
CREATE INDEX game_sessions_by_creation ON game_sessions (creation_time, id);
CREATE INDEX game_sessions_by_status ON game_sessions (status, creation_time, id);
CREATE INDEX game_sessions_by_token ON game_sessions (idempotency_token)
	WHERE idempotency_token <> '';
CREATE INDEX game_sessions_by_creator ON game_sessions (creator_id, creation_time)
	WHERE creator_id <> '';

CREATE TABLE player_sessions (
	id              TEXT PRIMARY KEY,
	game_session_id TEXT NOT NULL,
	player_id       TEXT NOT NULL,
	status          TEXT NOT NULL,
	creation_time   INTEGER NOT NULL,
	data            TEXT NOT NULL
) STRICT;
CREATE INDEX player_sessions_by_game_session ON player_sessions (game_session_id, creation_time, id);
CREATE INDEX player_sessions_by_player ON player_sessions (player_id, creation_time, id);
CREATE INDEX player_sessions_by_status ON player_sessions (status, creation_time, id);

CREATE TABLE events (
	id       TEXT PRIMARY KEY,
	fleet_id TEXT NOT NULL,
	time     INTEGER NOT NULL,
	data     TEXT NOT NULL
) STRICT;
CREATE INDEX events_by_fleet_time ON events (fleet_id, time, id);
