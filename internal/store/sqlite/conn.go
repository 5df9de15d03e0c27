package sqlite

import (
	"errors"
	"fmt"
	"math"
	"time"
	"unsafe"

	"modernc.org/libc"
	lib "modernc.org/sqlite/lib"
)

// This file is a deliberately small binding to SQLite's C API (transpiled to Go
// by modernc.org/sqlite/lib, so still no cgo). We do not go through
// database/sql and the modernc driver because that driver re-prepares every
// statement on every execution (its Stmt keeps only the SQL text) and, for
// UPDATE … RETURNING, allocates and frees the statement's temp space with
// mmap/munmap each time: measured at ~120 µs per statement against ~2.5 µs for
// a cached sqlite3_stmt. The writer executes every write serially, so that
// cost would be the throughput ceiling.

func init() {
	// The modernc driver applies this patch in its own init (it fixes the page
	// size probe on linux/arm64); we bypass the driver, so apply it here.
	lib.PatchIssue199()
}

const ptrSize = unsafe.Sizeof(uintptr(0))

// cptr turns an address returned by SQLite into a pointer. SQLite's memory
// comes from modernc's allocator, outside the Go heap, so the garbage
// collector neither moves nor frees it; that is what makes the conversion
// sound. It is written through &p because vet's unsafeptr check cannot know
// where the address came from.
func cptr(p uintptr) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&p)) }

// sqliteError is a failed SQLite call with its extended result code.
type sqliteError struct {
	code int32
	msg  string
}

func (e *sqliteError) Error() string { return "sqlite: " + e.msg }

// primary result code, without the extended bits.
func (e *sqliteError) primary() int32 { return e.code & 0xff }

func isInterrupt(err error) bool {
	var se *sqliteError
	return errors.As(err, &se) && se.primary() == lib.SQLITE_INTERRUPT
}

// conn is one SQLite connection. It is not safe for concurrent use: the
// writer owns one, and each reader is held by a single View at a time.
type conn struct {
	tls   *libc.TLS
	db    uintptr
	out   uintptr // two pointer-sized out-parameters for prepare, allocated once
	stmts map[string]*stmt
}

func openConn(path string, readOnly bool, busyTimeout time.Duration) (*conn, error) {
	tls := libc.NewTLS()
	c := &conn{tls: tls, stmts: make(map[string]*stmt)}
	c.out = lib.Xsqlite3_malloc64(tls, uint64(2*ptrSize))
	if c.out == 0 {
		tls.Close()
		return nil, errors.New("sqlite: out of memory")
	}
	cpath := c.cstring(path)
	defer lib.Xsqlite3_free(tls, cpath)

	// NOMUTEX: a conn is only ever used by one goroutine at a time, so SQLite's
	// per-connection mutex would be pure overhead. Paths are passed as plain
	// file names (no URI flag) so that '?' or '#' in a data dir cannot be
	// misread as URI syntax.
	flags := int32(lib.SQLITE_OPEN_NOMUTEX | lib.SQLITE_OPEN_EXRESCODE)
	if readOnly {
		flags |= lib.SQLITE_OPEN_READONLY
	} else {
		flags |= lib.SQLITE_OPEN_READWRITE | lib.SQLITE_OPEN_CREATE
	}
	rc := lib.Xsqlite3_open_v2(tls, cpath, c.out, flags, 0)
	c.db = *(*uintptr)(cptr(c.out))
	if rc != lib.SQLITE_OK {
		err := c.errorf(rc, "open %s", path)
		c.close()
		return nil, err
	}
	ms := busyTimeout.Milliseconds()
	if ms > math.MaxInt32 {
		ms = math.MaxInt32
	}
	lib.Xsqlite3_busy_timeout(tls, c.db, int32(ms))
	return c, nil
}

// cstring copies s into SQLite-allocated, NUL-terminated memory; the caller frees it.
func (c *conn) cstring(s string) uintptr {
	p := lib.Xsqlite3_malloc64(c.tls, uint64(len(s)+1))
	if p == 0 {
		panic("sqlite: out of memory")
	}
	b := unsafe.Slice((*byte)(cptr(p)), len(s)+1)
	copy(b, s)
	b[len(s)] = 0
	return p
}

func (c *conn) errorf(rc int32, format string, args ...any) error {
	msg := ""
	if c.db != 0 {
		msg = libc.GoString(lib.Xsqlite3_errmsg(c.tls, c.db))
	}
	if msg == "" {
		msg = libc.GoString(lib.Xsqlite3_errstr(c.tls, rc))
	}
	return &sqliteError{code: rc, msg: fmt.Sprintf(format, args...) + ": " + msg}
}

func (c *conn) close() error {
	if c.tls == nil {
		return nil
	}
	for _, s := range c.stmts {
		s.finalize()
	}
	c.stmts = nil
	var err error
	if c.db != 0 {
		// close_v2 rather than close: if something is still open it defers the
		// close instead of failing and leaking the handle.
		if rc := lib.Xsqlite3_close_v2(c.tls, c.db); rc != lib.SQLITE_OK {
			err = c.errorf(rc, "close")
		}
		c.db = 0
	}
	lib.Xsqlite3_free(c.tls, c.out)
	c.tls.Close()
	c.tls = nil
	return err
}

// inTx reports whether a transaction is open. SQLite rolls a transaction back
// by itself on some errors (SQLITE_FULL, SQLITE_IOERR, SQLITE_NOMEM, …); after
// that, statements would silently run in autocommit mode, so the writer checks
// this before trusting that its transaction still exists.
func (c *conn) inTx() bool {
	return lib.Xsqlite3_get_autocommit(c.tls, c.db) == 0
}

func (c *conn) changes() int {
	return int(lib.Xsqlite3_changes(c.tls, c.db))
}

// interrupt makes the statement running on c stop with SQLITE_INTERRUPT. It
// is the one call that may come from another goroutine; it uses its own TLS
// because a TLS is not safe for concurrent use.
func (c *conn) interrupt() {
	tls := libc.NewTLS()
	lib.Xsqlite3_interrupt(tls, c.db)
	tls.Close()
}

// script runs one or more ';'-separated statements without caching them
// (migrations, pragmas).
func (c *conn) script(sql string) error {
	csql := c.cstring(sql)
	defer lib.Xsqlite3_free(c.tls, csql)
	tail := csql
	for *(*byte)(cptr(tail)) != 0 {
		pStmt, pTail := c.out, c.out+ptrSize
		if rc := lib.Xsqlite3_prepare_v2(c.tls, c.db, tail, -1, pStmt, pTail); rc != lib.SQLITE_OK {
			return c.errorf(rc, "prepare")
		}
		h := *(*uintptr)(cptr(pStmt))
		tail = *(*uintptr)(cptr(pTail))
		if h == 0 { // whitespace or comment only
			continue
		}
		var rc int32
		for {
			rc = lib.Xsqlite3_step(c.tls, h)
			if rc != lib.SQLITE_ROW {
				break
			}
		}
		lib.Xsqlite3_finalize(c.tls, h)
		if rc != lib.SQLITE_DONE {
			return c.errorf(rc, "exec")
		}
	}
	return nil
}

// stmt is a cached prepared statement. Text arguments are copied into a
// buffer owned by the statement and bound SQLITE_STATIC, so binding costs no
// allocation on either side; the buffer stays untouched until the statement is
// next bound, which only happens after reset.
type stmt struct {
	c      *conn
	h      uintptr
	query  string
	buf    uintptr
	bufCap int
	busy   bool
}

// prep returns the cached statement for query, preparing it on first use.
func (c *conn) prep(query string) (*stmt, error) {
	if s, ok := c.stmts[query]; ok {
		return s, nil
	}
	cq := c.cstring(query)
	defer lib.Xsqlite3_free(c.tls, cq)
	pStmt, pTail := c.out, c.out+ptrSize
	rc := lib.Xsqlite3_prepare_v3(c.tls, c.db, cq, -1, lib.SQLITE_PREPARE_PERSISTENT, pStmt, pTail)
	if rc != lib.SQLITE_OK {
		return nil, c.errorf(rc, "prepare %q", query)
	}
	h := *(*uintptr)(cptr(pStmt))
	if tail := *(*uintptr)(cptr(pTail)); *(*byte)(cptr(tail)) != 0 {
		lib.Xsqlite3_finalize(c.tls, h)
		return nil, fmt.Errorf("sqlite: %q holds more than one statement", query)
	}
	s := &stmt{c: c, h: h, query: query}
	c.stmts[query] = s
	return s, nil
}

func (s *stmt) finalize() {
	lib.Xsqlite3_finalize(s.c.tls, s.h)
	if s.buf != 0 {
		lib.Xsqlite3_free(s.c.tls, s.buf)
	}
}

// bind binds args to ?1…?n. Supported types: string, []byte, int, int32,
// int64, bool.
func (s *stmt) bind(args ...any) error {
	if s.busy {
		// Two uses of one cached statement overlapping would corrupt both; our
		// Tx methods never nest, so this is a programming error.
		panic("sqlite: statement reused while still in use: " + s.query)
	}
	need := 0
	for _, a := range args {
		switch v := a.(type) {
		case string:
			need += len(v)
		case []byte:
			need += len(v)
		}
	}
	if need >= s.bufCap {
		n := max(need+1, 2*s.bufCap, 256)
		p := lib.Xsqlite3_realloc64(s.c.tls, s.buf, uint64(n))
		if p == 0 {
			return errors.New("sqlite: out of memory")
		}
		s.buf, s.bufCap = p, n
	}
	buf := unsafe.Slice((*byte)(cptr(s.buf)), s.bufCap)
	off := 0
	tls, h := s.c.tls, s.h
	for i, a := range args {
		idx := int32(i + 1)
		var rc int32
		switch v := a.(type) {
		case string:
			// A non-nil pointer even for "" so SQLite binds '' rather than NULL.
			copy(buf[off:], v)
			rc = lib.Xsqlite3_bind_text(tls, h, idx, s.buf+uintptr(off), int32(len(v)), 0)
			off += len(v)
		case []byte:
			copy(buf[off:], v)
			rc = lib.Xsqlite3_bind_text(tls, h, idx, s.buf+uintptr(off), int32(len(v)), 0)
			off += len(v)
		case int64:
			rc = lib.Xsqlite3_bind_int64(tls, h, idx, v)
		case int:
			rc = lib.Xsqlite3_bind_int64(tls, h, idx, int64(v))
		case int32:
			rc = lib.Xsqlite3_bind_int64(tls, h, idx, int64(v))
		case bool:
			var b int64
			if v {
				b = 1
			}
			rc = lib.Xsqlite3_bind_int64(tls, h, idx, b)
		default:
			panic(fmt.Sprintf("sqlite: cannot bind %T", a))
		}
		if rc != lib.SQLITE_OK {
			return s.c.errorf(rc, "bind")
		}
	}
	s.busy = true
	return nil
}

// step advances to the next row; it reports false at the end.
func (s *stmt) step() (bool, error) {
	switch rc := lib.Xsqlite3_step(s.c.tls, s.h); rc {
	case lib.SQLITE_ROW:
		return true, nil
	case lib.SQLITE_DONE:
		return false, nil
	default:
		return false, s.c.errorf(rc, "step")
	}
}

// reset readies the statement for its next use. It must follow every bind,
// or the statement keeps its read snapshot (and COMMIT/ROLLBACK may fail).
func (s *stmt) reset() {
	lib.Xsqlite3_reset(s.c.tls, s.h)
	s.busy = false
}

// exec runs a statement that returns no rows and reports sqlite3_changes.
func (s *stmt) exec(args ...any) (int, error) {
	if err := s.bind(args...); err != nil {
		return 0, err
	}
	defer s.reset()
	for {
		row, err := s.step()
		if err != nil {
			return 0, err
		}
		if !row {
			return s.c.changes(), nil
		}
	}
}

func (s *stmt) int64(col int) int64 {
	return lib.Xsqlite3_column_int64(s.c.tls, s.h, int32(col))
}

func (s *stmt) text(col int) string {
	return string(s.view(col))
}

// view returns column col without copying. It is valid only until the next
// step or reset: use it to decode, never to keep.
func (s *stmt) view(col int) []byte {
	p := lib.Xsqlite3_column_blob(s.c.tls, s.h, int32(col))
	n := lib.Xsqlite3_column_bytes(s.c.tls, s.h, int32(col))
	if p == 0 || n == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(cptr(p)), n)
}
