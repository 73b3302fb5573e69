// Package lenient holds JSON value types that accept the variants partner
// platforms really send: .NET timestamps with seven fractional digits and no
// offset, date-only values, and UNIX seconds written as a string or a number.
// Decoding is lenient; encoding is strict (RFC 3339 in UTC).
package lenient

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ErrTime is matched (errors.Is) by every timestamp that cannot be parsed.
var ErrTime = errors.New("lenient: unrecognised timestamp")

// Time is a time.Time that decodes from any of the forms ParseTime accepts,
// from JSON numbers (UNIX seconds), and from null or "" (the zero time).
// It encodes as RFC 3339 with nanoseconds in UTC, or null when zero.
type Time struct{ time.Time }

// layouts without an offset are read as UTC: .NET's DateTime with
// DateTimeKind.Unspecified is written that way and is UTC in practice.
var layouts = []string{
	time.RFC3339Nano,                // 2024-01-31T10:00:00.1234567+01:00, ...Z
	"2006-01-02T15:04:05.999999999", // no offset
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02",
}

// ParseTime parses RFC 3339 with 0 to 9 fractional digits, with or without
// an offset (none means UTC), a space instead of the T, a date alone
// (midnight UTC), or a decimal count of UNIX seconds.
func ParseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, fmt.Errorf("%w: empty", ErrTime)
	}
	if isUnixSeconds(s) {
		return parseUnix(s)
	}
	for _, l := range layouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%w: %q", ErrTime, truncate(s))
}

func isUnixSeconds(s string) bool {
	if s[0] == '-' {
		s = s[1:]
	}
	if s == "" {
		return false
	}
	for _, r := range s {
		if (r < '0' || r > '9') && r != '.' {
			return false
		}
	}
	return true
}

// minUnix and maxUnix bound UNIX seconds to years 0001..9999, the range
// RFC 3339 can write back.
const (
	minUnix = -62135596800
	maxUnix = 253402300799
)

func parseUnix(s string) (time.Time, error) {
	whole, frac, _ := strings.Cut(s, ".")
	sec, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || sec > maxUnix || sec < minUnix {
		return time.Time{}, fmt.Errorf("%w: UNIX seconds %q out of range", ErrTime, truncate(s))
	}
	var nsec int64
	if frac != "" {
		if len(frac) > 9 {
			frac = frac[:9]
		}
		n, err := strconv.ParseInt(frac+strings.Repeat("0", 9-len(frac)), 10, 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("%w: %q", ErrTime, truncate(s))
		}
		nsec = n
		if strings.HasPrefix(whole, "-") {
			nsec = -nsec
		}
	}
	return time.Unix(sec, nsec).UTC(), nil
}

func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

// UnmarshalJSON accepts a JSON string in any ParseTime form, a JSON number
// of UNIX seconds, or null.
func (t *Time) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		t.Time = time.Time{}
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return fmt.Errorf("%w: %v", ErrTime, err)
		}
		if strings.TrimSpace(s) == "" {
			t.Time = time.Time{}
			return nil
		}
		v, err := ParseTime(s)
		if err != nil {
			return err
		}
		t.Time = v
		return nil
	}
	if !isUnixSeconds(string(b)) {
		return fmt.Errorf("%w: %s is neither a string nor a number", ErrTime, truncate(string(b)))
	}
	v, err := parseUnix(string(b))
	if err != nil {
		return err
	}
	t.Time = v
	return nil
}

// MarshalJSON writes RFC 3339 with nanoseconds in UTC, or null for the zero
// time.
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(t.UTC().Format(time.RFC3339Nano))
}
