// Package model holds openlift's domain records and their statuses. It is pure:
// no I/O, no wire formats.
package model
