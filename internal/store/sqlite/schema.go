package sqlite

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the embedded migrations in order. Files are named
// NNNN_description.sql and must number 1, 2, 3, … without gaps, because the
// schema version stored in the file is simply the number of the last one
// applied.
func migrations() ([]migration, error) {
	files, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, f := range files {
		base := path.Base(f)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("sqlite: migration %s: name must start with a positive number and '_'", base)
		}
		b, err := migrationFS.ReadFile(f)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: base, sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("sqlite: migration %s: expected version %d", m.name, i+1)
		}
	}
	return ms, nil
}

// migrate brings the schema to the newest version in one IMMEDIATE
// transaction, so a crash mid-way leaves the previous version intact and two
// processes opening a fresh file cannot both apply it. The version lives in
// PRAGMA user_version, which is part of the database header and so commits
// atomically with the schema changes.
func migrate(c *conn) (from, to int, err error) {
	ms, err := migrations()
	if err != nil {
		return 0, 0, err
	}
	if err := c.script("BEGIN IMMEDIATE"); err != nil {
		return 0, 0, err
	}
	defer func() {
		if err != nil && c.inTx() {
			_ = c.script("ROLLBACK")
		}
	}()
	s, err := c.prep("PRAGMA user_version")
	if err != nil {
		return 0, 0, err
	}
	if err := s.bind(); err != nil {
		return 0, 0, err
	}
	if _, err := s.step(); err != nil {
		s.reset()
		return 0, 0, err
	}
	from = int(s.int64(0))
	s.reset()
	switch {
	case from > len(ms):
		return from, from, fmt.Errorf("sqlite: database schema version %d is newer than this binary supports (%d); use a newer openlift", from, len(ms))
	case from == len(ms):
		return from, from, c.script("COMMIT")
	}
	for _, m := range ms[from:] {
		if err := c.script(m.sql); err != nil {
			return from, 0, fmt.Errorf("sqlite: migration %s: %w", m.name, err)
		}
	}
	// PRAGMA takes no bound parameters; the value is an int we produced.
	if err := c.script("PRAGMA user_version = " + strconv.Itoa(len(ms))); err != nil {
		return from, 0, err
	}
	return from, len(ms), c.script("COMMIT")
}
