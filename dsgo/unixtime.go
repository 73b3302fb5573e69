package dsgo

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"

	"github.com/notifykit/notifykit/internal/lenient"
)

// UnixTime is a timestamp as DSGO writes them. It decodes from UNIX seconds
// written as a JSON string ("1663752217", the current wiki) or number
// (iSHARE), from ISO 8601 / RFC 3339 (the older wiki), and from null or ""
// (the zero time). It encodes as UNIX seconds in a JSON string, or null when
// zero.
type UnixTime struct{ time.Time }

// Unix returns t as a UnixTime truncated to whole seconds, the resolution
// DSGO timestamps have.
func Unix(t time.Time) UnixTime { return UnixTime{t.Truncate(time.Second).UTC()} }

// UnmarshalJSON accepts every variant described on UnixTime.
func (t *UnixTime) UnmarshalJSON(b []byte) error {
	var l lenient.Time
	if err := l.UnmarshalJSON(b); err != nil {
		return err
	}
	t.Time = l.Time
	if !t.IsZero() {
		t.Time = t.UTC()
	}
	return nil
}

// MarshalJSON writes "<UNIX seconds>" or null.
func (t UnixTime) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return []byte(`"` + strconv.FormatInt(t.Unix(), 10) + `"`), nil
}

// encodeTime renders t in the dialect's time format.
func encodeTime(t UnixTime, d Dialect) json.RawMessage {
	if t.IsZero() {
		return json.RawMessage("null")
	}
	if d.isoTimes() {
		return json.RawMessage(`"` + t.UTC().Format(time.RFC3339) + `"`)
	}
	b, _ := t.MarshalJSON()
	return b
}

// isNull reports whether raw is JSON null (or absent).
func isNull(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || bytes.Equal(raw, []byte("null"))
}
