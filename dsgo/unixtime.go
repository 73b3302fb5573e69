package dsgo

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
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
	// Fast path for a plain quoted value, the common case.
	if n := len(b); n >= 2 && b[0] == '"' && b[n-1] == '"' && bytes.IndexByte(b[1:n-1], '\\') < 0 &&
		bytes.IndexByte(b[1:n-1], '"') < 0 {
		if t0, ok := unixDigits(b[1 : n-1]); ok {
			t.Time = t0
			return nil
		}
		s := string(b[1 : n-1])
		if strings.TrimSpace(s) == "" {
			t.Time = time.Time{}
			return nil
		}
		v, err := lenient.ParseTime(s)
		if err != nil {
			return err
		}
		t.Time = v.UTC()
		return nil
	}
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

// unixDigits parses plain decimal UNIX seconds ("1663752217") without
// allocating; anything else is left to lenient.ParseTime.
func unixDigits(b []byte) (time.Time, bool) {
	if len(b) == 0 || len(b) > 12 {
		return time.Time{}, false
	}
	var v int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return time.Time{}, false
		}
		v = v*10 + int64(c-'0')
	}
	if v > 253402300799 { // 9999-12-31T23:59:59Z, as lenient allows
		return time.Time{}, false
	}
	return time.Unix(v, 0).UTC(), true
}
