package banqup_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/notifykit/notifykit/banqup"
)

func TestDecimalJSON(t *testing.T) {
	cases := []struct {
		in, want string
		err      bool
	}{
		{in: `"1.15"`, want: "1.15"},
		{in: `1.15`, want: "1.15"},
		{in: `"-0.10"`, want: "-0.10"},
		{in: `12345678901234567890.123456789`, want: "12345678901234567890.123456789"},
		{in: `1E-3`, want: "1E-3"},
		{in: `null`, want: "0"},
		{in: `""`, want: "0"},
		{in: `"1,15"`, err: true},
		{in: `"abc"`, err: true},
		{in: `true`, err: true},
		{in: `"1."`, err: true},
		{in: `"1e99999"`, err: true},
	}
	for _, tc := range cases {
		var d banqup.Decimal
		err := json.Unmarshal([]byte(tc.in), &d)
		if tc.err {
			if !errors.Is(err, banqup.ErrMalformed) {
				t.Errorf("%s: err = %v, want ErrMalformed", tc.in, err)
			}
			continue
		}
		if err != nil || d.String() != tc.want {
			t.Errorf("%s: got %q, %v; want %q", tc.in, d, err, tc.want)
		}
	}
	if !banqup.MustDecimal("1.10").Equal(banqup.MustDecimal("1.1")) {
		t.Error("1.10 != 1.1")
	}
	if got := banqup.MustDecimal("0.1").Value().Add(banqup.MustDecimal("0.2").Value()).String(); got != "0.3" {
		t.Errorf("0.1+0.2 = %s", got)
	}
	b, _ := json.Marshal(banqup.MustDecimal("1.15"))
	if string(b) != `"1.15"` {
		t.Errorf("marshal = %s", b)
	}
}

func TestTimeSpan(t *testing.T) {
	cases := []struct {
		in   string
		want time.Duration
		err  bool
	}{
		{in: "00:00:00.0143177", want: 14317700 * time.Nanosecond},
		{in: "01:02:03", want: time.Hour + 2*time.Minute + 3*time.Second},
		{in: "1.02:03:04.5", want: 26*time.Hour + 3*time.Minute + 4*time.Second + 500*time.Millisecond},
		{in: "-00:00:01", want: -time.Second},
		{in: "10675199.02:48:05.4775807", err: true}, // TimeSpan.MaxValue exceeds time.Duration
		{in: "24:00:00", err: true},
		{in: "00:60:00", err: true},
		{in: "1:2", err: true},
		{in: "00:00:00.12345678", err: true},
		{in: "x.00:00:00", err: true},
		{in: "", err: true},
	}
	for _, tc := range cases {
		got, err := banqup.ParseTimeSpan(tc.in)
		if tc.err {
			if !errors.Is(err, banqup.ErrMalformed) {
				t.Errorf("%q: err = %v", tc.in, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q: %v, %v; want %v", tc.in, got, err, tc.want)
		}
		if back, _ := banqup.ParseTimeSpan(banqup.FormatTimeSpan(got)); back != got {
			t.Errorf("%q: round trip %q -> %v", tc.in, banqup.FormatTimeSpan(got), back)
		}
	}
	var ts banqup.TimeSpan
	if err := json.Unmarshal([]byte(`12`), &ts); !errors.Is(err, banqup.ErrMalformed) {
		t.Errorf("number TimeSpan: %v", err)
	}
}

func TestTimeVariants(t *testing.T) {
	want := time.Date(2021, 2, 25, 6, 52, 21, 95172700, time.UTC)
	for _, in := range []string{`"2021-02-25T06:52:21.0951727Z"`, `"2021-02-25T06:52:21.0951727"`, `"2021-02-25T07:52:21.0951727+01:00"`} {
		var v banqup.Time
		if err := json.Unmarshal([]byte(in), &v); err != nil || !v.Equal(want) {
			t.Errorf("%s: %v %v", in, v, err)
		}
	}
	var d banqup.Time
	if err := json.Unmarshal([]byte(`"2024-03-01"`), &d); err != nil || !d.Equal(time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("date only: %v %v", d, err)
	}
}

func TestEnumsCaseAndUnknown(t *testing.T) {
	var m struct {
		Op     banqup.Operation         `json:"op"`
		St     banqup.TransactionStatus `json:"st"`
		Scope  banqup.ConsentScope      `json:"scope"`
		Init   banqup.Initiator         `json:"init"`
		Rel    []banqup.PSURelation     `json:"rel"`
		Status banqup.ConsentStatus     `json:"status"`
		Num    banqup.Operation         `json:"num"`
	}
	in := `{"op":"CREATED","st":"Weird","scope":"AIS","init":"BACKGROUNDTASK","rel":["Owner","proxyownergeneral","x"],"status":"Invalid","num":2}`
	if err := json.Unmarshal([]byte(in), &m); err != nil {
		t.Fatal(err)
	}
	if m.Op != banqup.OperationCreated || m.St != "Weird" || m.Scope != banqup.ConsentScopeAIS ||
		m.Init != banqup.InitiatorBackgroundTask || m.Rel[0] != banqup.PSURelationOwner ||
		m.Rel[1] != banqup.PSURelationProxyOwnerGeneral || m.Rel[2] != "x" || m.Status != banqup.ConsentInvalid || m.Num != "2" {
		t.Errorf("%+v", m)
	}
	var bal map[banqup.BalanceType]banqup.Balance
	if err := json.Unmarshal([]byte(`{"ClosingBooked":{"value":1},"custom":{}}`), &bal); err != nil {
		t.Fatal(err)
	}
	if _, ok := bal[banqup.BalanceClosingBooked]; !ok || len(bal) != 2 {
		t.Errorf("balances %v", bal)
	}
	var op banqup.Operation
	if err := json.Unmarshal([]byte(`{"a":1}`), &op); !errors.Is(err, banqup.ErrMalformed) {
		t.Errorf("object as enum: %v", err)
	}
}

func TestHeaderString(t *testing.T) {
	ts := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	d := &banqup.Delivery{Headers: amqp.Table{
		"s": "x", "i": int32(-7), "l": int64(1 << 40), "b": true, "t": ts, "bytes": []byte("raw"),
		"dec": amqp.Decimal{Scale: 2, Value: -5}, "f": 1.5, "tbl": amqp.Table{"k": "v"},
		"arr": []any{"a", int32(1)}, "nil": nil, "MT-Reason": "fault",
	}}
	want := map[string]string{"s": "x", "i": "-7", "l": "1099511627776", "b": "true", "t": "2024-01-02T03:04:05Z",
		"bytes": "raw", "dec": "-0.05", "f": "1.5", "tbl": `{"k":"v"}`, "arr": `["a",1]`, "nil": "", "mt-reason": "fault"}
	for k, w := range want {
		if got, ok := d.HeaderString(k); !ok || got != w {
			t.Errorf("%s = %q, %v; want %q", k, got, ok, w)
		}
	}
	if _, ok := d.HeaderString("absent"); ok {
		t.Error("absent header reported present")
	}
}

func TestStreams(t *testing.T) {
	for _, s := range banqup.Streams() {
		if got, ok := banqup.StreamForURN(s.URN()); !ok || got != s {
			t.Errorf("URN %s -> %s", s.URN(), got)
		}
		if got, ok := banqup.StreamForExchange(s.Exchange()); !ok || got != s {
			t.Errorf("exchange %s -> %s", s.Exchange(), got)
		}
	}
	if banqup.Stream("x").Valid() || banqup.Stream("x").URN() != "" {
		t.Error("invalid stream accepted")
	}
}
