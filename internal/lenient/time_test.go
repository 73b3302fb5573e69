package lenient

import (
	"encoding/json"
	"errors"
	"testing"
	"time"
)

func TestTimeDecodesEveryForm(t *testing.T) {
	cet := time.FixedZone("", 3600)
	cases := []struct {
		in   string
		want time.Time
	}{
		{`"2024-01-31T10:00:00Z"`, time.Date(2024, 1, 31, 10, 0, 0, 0, time.UTC)},
		{`"2024-01-31T10:00:00.1234567"`, time.Date(2024, 1, 31, 10, 0, 0, 123456700, time.UTC)},
		{`"2024-01-31T10:00:00.1234567+01:00"`, time.Date(2024, 1, 31, 10, 0, 0, 123456700, cet)},
		{`"2024-01-31T10:00:00"`, time.Date(2024, 1, 31, 10, 0, 0, 0, time.UTC)},
		{`"2024-01-31 10:00:00.5"`, time.Date(2024, 1, 31, 10, 0, 0, 500000000, time.UTC)},
		{`"2024-01-31"`, time.Date(2024, 1, 31, 0, 0, 0, 0, time.UTC)},
		{`1706695200`, time.Date(2024, 1, 31, 10, 0, 0, 0, time.UTC)},
		{`"1706695200"`, time.Date(2024, 1, 31, 10, 0, 0, 0, time.UTC)},
		{`1706695200.25`, time.Date(2024, 1, 31, 10, 0, 0, 250000000, time.UTC)},
		{`null`, time.Time{}},
		{`""`, time.Time{}},
	}
	for _, c := range cases {
		var got Time
		if err := json.Unmarshal([]byte(c.in), &got); err != nil {
			t.Errorf("%s: %v", c.in, err)
			continue
		}
		if !got.Equal(c.want) {
			t.Errorf("%s: got %v, want %v", c.in, got.Time, c.want)
		}
	}
}

func TestTimeRejectsGarbage(t *testing.T) {
	for _, in := range []string{`"yesterday"`, `true`, `{}`, `"2024-13-45"`, `"99999999999999999999"`, `"-"`} {
		var got Time
		err := json.Unmarshal([]byte(in), &got)
		if !errors.Is(err, ErrTime) {
			t.Errorf("%s: err = %v, want ErrTime", in, err)
		}
	}
}

func TestTimeEncodesUTC(t *testing.T) {
	b, err := json.Marshal(Time{time.Date(2024, 1, 31, 11, 0, 0, 5, time.FixedZone("", 3600))})
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `"2024-01-31T10:00:00.000000005Z"` {
		t.Fatalf("got %s", b)
	}
	if b, _ := json.Marshal(Time{}); string(b) != "null" {
		t.Fatalf("zero time encoded as %s", b)
	}
}

func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"2024-01-31T10:00:00.1234567", "2024-01-31", "1706695200", "-1.5", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseTime(s)
		if err != nil && !errors.Is(err, ErrTime) {
			t.Fatalf("untyped error %v", err)
		}
		if err == nil {
			var back Time
			b, _ := json.Marshal(Time{v})
			if err := json.Unmarshal(b, &back); err != nil || (!v.IsZero() && !back.Equal(v)) {
				t.Fatalf("round trip of %q: %s -> %v (%v)", s, b, back.Time, err)
			}
		}
	})
}
