// Package sqlite is openlift's embedded store.Store: one SQLite file in the
// data directory, in WAL mode with synchronous=FULL, so a write that has been
// acknowledged survives kill -9 and power loss.
//
// # Writes: one writer, group commit
//
// SQLite allows one writer at a time, and each durable commit costs an fsync.
// Rather than have callers contend for the write lock, every write (Update
// and ReservePlayerSessions) is queued for a single writer goroutine, which
// owns the only read-write connection. It repeatedly takes everything queued
// (at most Options.MaxBatch ops), and runs it as one transaction:
//
//	BEGIN IMMEDIATE
//	  SAVEPOINT op; <op 1>; RELEASE op          -- or ROLLBACK TO op if it failed
//	  SAVEPOINT op; <op 2>; RELEASE op
//	  …
//	COMMIT                                      -- one fsync for the whole batch
//
// and only then answers each caller with its own result. An op that fails is
// undone to its savepoint and gets its own error while the rest commit; if
// COMMIT fails every op in the batch gets that error. Ops run in queue order
// and later ops see earlier ones' writes, so the outcome is the same as
// running them one by one. While a batch commits, the next one queues, so
// under load the fsync cost is shared by up to MaxBatch writes.
//
// A caller whose context ends while its op is still queued gets ctx.Err()
// and the op never runs; once the writer has taken it, the caller waits for
// the outcome, so a nil error always means committed.
//
// # Reads
//
// View runs on a pool of read-only connections, concurrently with the writer
// and each other (WAL readers see the last commit and are never blocked).
// Since callers are answered after COMMIT, a View started after an Update
// returned sees it.
//
// # Storage
//
// Each record kind has a table with its key, the columns queries filter and
// order on, and the record as JSON. For game sessions, status, creation
// policy and the two player counts are columns only, never in the JSON, since
// ReservePlayerSessions updates them in place with a single conditional
// UPDATE. The schema is created and upgraded by the embedded migrations in
// migrations/, tracked in PRAGMA user_version; Open refuses a file newer than
// the binary.
//
// The package talks to SQLite through modernc.org/sqlite/lib (SQLite
// translated to Go; no cgo) rather than database/sql, to keep real prepared
// statements cached per connection; see conn.go.
package sqlite
