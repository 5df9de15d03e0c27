// Package store defines the persistence interface that every backend (embedded
// SQLite, PostgreSQL) implements, and the errors it returns.
package store
