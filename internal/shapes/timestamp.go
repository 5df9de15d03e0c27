package shapes

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/fxamacker/cbor/v2"
)

// Timestamp is a GameLift timestamp. On the JSON wire it is epoch seconds with a
// millisecond fraction (1469498468.057); on the CBOR wire it is tag 1 wrapping
// epoch seconds, as a float64.
type Timestamp struct{ time.Time }

// NewTimestamp returns a *Timestamp for t truncated to milliseconds, or nil for
// the zero time.
func NewTimestamp(t time.Time) *Timestamp {
	if t.IsZero() {
		return nil
	}
	return &Timestamp{t.Truncate(time.Millisecond)}
}

func (t Timestamp) seconds() float64 {
	return float64(t.UnixMilli()) / 1000
}

// MarshalJSON writes epoch seconds.
func (t Timestamp) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, t.seconds(), 'f', -1, 64), nil
}

// UnmarshalJSON reads epoch seconds (integer or fraction), a numeric string, or an
// ISO-8601 string.
func (t *Timestamp) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			t.Time = fromSeconds(f)
			return nil
		}
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return fmt.Errorf("timestamp %q is neither epoch seconds nor ISO-8601", s)
		}
		t.Time = v
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("timestamp %s is not a number", b)
	}
	t.Time = fromSeconds(f)
	return nil
}

// MarshalCBOR writes tag 1 around float64 epoch seconds.
func (t Timestamp) MarshalCBOR() ([]byte, error) {
	return cbor.Marshal(cbor.Tag{Number: 1, Content: t.seconds()})
}

// UnmarshalCBOR reads tag 1 around an integer or float.
func (t *Timestamp) UnmarshalCBOR(b []byte) error {
	var tag cbor.Tag
	if err := cbor.Unmarshal(b, &tag); err != nil {
		return fmt.Errorf("timestamp must be CBOR tag 1: %w", err)
	}
	if tag.Number != 1 {
		return fmt.Errorf("timestamp must be CBOR tag 1, got tag %d", tag.Number)
	}
	switch v := tag.Content.(type) {
	case uint64:
		t.Time = time.Unix(int64(v), 0).UTC()
	case int64:
		t.Time = time.Unix(v, 0).UTC()
	case float64:
		t.Time = fromSeconds(v)
	case float32:
		t.Time = fromSeconds(float64(v))
	default:
		return fmt.Errorf("timestamp tag 1 content must be a number, got %T", v)
	}
	return nil
}

func fromSeconds(f float64) time.Time {
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(math.Round(frac*1000))*int64(time.Millisecond)).UTC()
}
