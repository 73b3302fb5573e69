package banqup

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// TimeSpan is a .NET System.TimeSpan decoded to a time.Duration.
//
// .NET writes TimeSpan values as [-][d.]hh:mm:ss[.fffffff] (for example
// "00:00:00.0143177" or "1.02:03:04.5"), which time.ParseDuration cannot
// read. Durations beyond time.Duration's range (about 292 years) are
// rejected.
type TimeSpan struct{ time.Duration }

// ParseTimeSpan parses the .NET TimeSpan "c" format. Errors match
// ErrMalformed.
func ParseTimeSpan(s string) (time.Duration, error) {
	bad := func() (time.Duration, error) {
		return 0, fmt.Errorf("%w: %q is not a .NET TimeSpan", ErrMalformed, truncate(s, 40))
	}
	rest := strings.TrimSpace(s)
	neg := strings.HasPrefix(rest, "-")
	if neg {
		rest = rest[1:]
	}
	clock, frac, hasFrac := strings.Cut(rest, ".")
	var days int64
	// "d.hh:mm:ss" puts the day count before the first dot; a dot after
	// the seconds starts the fraction.
	if hasFrac && !strings.Contains(clock, ":") {
		d, err := strconv.ParseInt(clock, 10, 64)
		if err != nil || d < 0 || clock == "" || clock[0] == '+' {
			return bad()
		}
		days = d
		clock, frac, hasFrac = strings.Cut(frac, ".")
	}
	parts := strings.Split(clock, ":")
	if len(parts) != 3 {
		return bad()
	}
	var hms [3]int64
	limits := [3]int64{23, 59, 59}
	for i, p := range parts {
		if len(p) == 0 || len(p) > 2 || digits(p) != len(p) {
			return bad()
		}
		v, _ := strconv.ParseInt(p, 10, 64)
		if v > limits[i] {
			return bad()
		}
		hms[i] = v
	}
	var nanos int64
	if hasFrac {
		if len(frac) == 0 || len(frac) > 7 || digits(frac) != len(frac) {
			return bad()
		}
		v, _ := strconv.ParseInt(frac+strings.Repeat("0", 9-len(frac)), 10, 64)
		nanos = v
	}
	const maxDays = math.MaxInt64 / int64(24*time.Hour)
	if days >= maxDays {
		return bad()
	}
	d := time.Duration(days)*24*time.Hour + time.Duration(hms[0])*time.Hour +
		time.Duration(hms[1])*time.Minute + time.Duration(hms[2])*time.Second + time.Duration(nanos)
	if d < 0 {
		return bad()
	}
	if neg {
		d = -d
	}
	return d, nil
}

// FormatTimeSpan writes d in the .NET TimeSpan "c" format with seven
// fractional digits when there is a fraction.
func FormatTimeSpan(d time.Duration) string {
	var b strings.Builder
	if d < 0 {
		b.WriteByte('-')
		d = -d // time.Duration's minimum cannot be negated; it is ~292 years and never sent
	}
	days := d / (24 * time.Hour)
	d -= days * 24 * time.Hour
	if days > 0 {
		fmt.Fprintf(&b, "%d.", days)
	}
	h, m, s := d/time.Hour, (d%time.Hour)/time.Minute, (d%time.Minute)/time.Second
	fmt.Fprintf(&b, "%02d:%02d:%02d", h, m, s)
	if ticks := (d % time.Second) / 100; ticks > 0 {
		fmt.Fprintf(&b, ".%07d", ticks)
	}
	return b.String()
}

// UnmarshalJSON accepts a TimeSpan string or null (zero).
func (t *TimeSpan) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		t.Duration = 0
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("%w: TimeSpan must be a string: %v", ErrMalformed, err)
	}
	if s == "" {
		t.Duration = 0
		return nil
	}
	d, err := ParseTimeSpan(s)
	if err != nil {
		return err
	}
	t.Duration = d
	return nil
}

// MarshalJSON writes the .NET TimeSpan format.
func (t TimeSpan) MarshalJSON() ([]byte, error) { return json.Marshal(FormatTimeSpan(t.Duration)) }
