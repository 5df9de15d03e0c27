package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Request headers of every delivery.
const (
	HeaderSignature = "X-Openlift-Signature" // sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>
	HeaderTimestamp = "X-Openlift-Timestamp" // Unix seconds when this attempt was signed
	HeaderEventID   = "X-Openlift-Event-Id"  // the event's id, the same on every retry
)

// Sign returns the X-Openlift-Signature value for body sent at timestamp
// (the X-Openlift-Timestamp value, decimal Unix seconds). The timestamp is
// signed with the body so that a captured request cannot be replayed later
// under a fresh timestamp.
func Sign(secret, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Errors from Verify and CheckTimestamp.
var (
	ErrBadSignature = errors.New("webhook: signature does not match")
	ErrBadTimestamp = errors.New("webhook: timestamp is not decimal Unix seconds")
	ErrStale        = errors.New("webhook: timestamp is outside the tolerance")
)

// Verify checks the X-Openlift-Signature header value against secret, the
// X-Openlift-Timestamp header value and the raw request body, in constant
// time. It does not judge the timestamp's age; CheckTimestamp does.
func Verify(secret, signature, timestamp string, body []byte) error {
	if _, err := strconv.ParseInt(timestamp, 10, 64); err != nil {
		return ErrBadTimestamp
	}
	want := Sign(secret, timestamp, body)
	if !strings.HasPrefix(signature, "sha256=") || !hmac.Equal([]byte(signature), []byte(want)) {
		return ErrBadSignature
	}
	return nil
}

// CheckTimestamp refuses a timestamp further than tolerance from now, so a
// receiver can reject replays of old, validly signed requests (every retry is
// signed afresh, so an honest delivery is always recent).
func CheckTimestamp(timestamp string, now time.Time, tolerance time.Duration) error {
	secs, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return ErrBadTimestamp
	}
	d := now.Sub(time.Unix(secs, 0))
	if d > tolerance || d < -tolerance {
		return ErrStale
	}
	return nil
}
