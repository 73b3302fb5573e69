package kreditsmart

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestDecode(t *testing.T) {
	day := time.Date(2019, 1, 2, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		in      string
		want    Notification
		wantErr error
	}{
		{
			name: "vendor example",
			in:   `{"vorgangsnummer":"VN1245","kundenbetreuerPartnerbaum":"ECHTGESCHAEFT/PARTNER1/PARTNER2/PARTNER3","letztesAenderungsDatum":"2019-01-02","quellsystem":"KREDITSMART"}`,
			want: Notification{Vorgangsnummer: "VN1245", KundenbetreuerPartnerbaum: "ECHTGESCHAEFT/PARTNER1/PARTNER2/PARTNER3",
				LetztesAenderungsDatum: day, LetztesAenderungsDatumRaw: "2019-01-02", Quellsystem: "KREDITSMART"},
		},
		{
			name: "early spelling without root",
			in:   `{"vorgangsnummer":"VN1","kundenbetreuerPartnerBaum":"PARTNER1/PARTNER2","letztesAenderungsDatum":"2019-01-02"}`,
			want: Notification{Vorgangsnummer: "VN1", KundenbetreuerPartnerbaum: "PARTNER1/PARTNER2",
				LetztesAenderungsDatum: day, LetztesAenderungsDatumRaw: "2019-01-02"},
		},
		{
			name: "timestamp without offset is UTC, 7 digits",
			in:   `{"vorgangsnummer":"VN2","letztesAenderungsDatum":"2024-03-01T10:11:12.1234567"}`,
			want: Notification{Vorgangsnummer: "VN2", LetztesAenderungsDatum: time.Date(2024, 3, 1, 10, 11, 12, 123456700, time.UTC),
				LetztesAenderungsDatumRaw: "2024-03-01T10:11:12.1234567"},
		},
		{
			name: "unparseable date keeps event and raw text",
			in:   `{"vorgangsnummer":"VN3","letztesAenderungsDatum":"gestern","quellsystem":"ANDERES","extra":{"x":1}}`,
			want: Notification{Vorgangsnummer: "VN3", LetztesAenderungsDatumRaw: "gestern", Quellsystem: "ANDERES"},
		},
		{
			name: "webhook body with teilantrag",
			in:   `{"vorgangsnummer":"VN1245","teilantragsnummer":"VN1245/1/1"}`,
			want: Notification{Vorgangsnummer: "VN1245", Teilantragsnummer: "VN1245/1/1"},
		},
		{
			name: "webhook body with null teilantrag",
			in:   `{"vorgangsnummer":"VN1245","teilantragsnummer":null}`,
			want: Notification{Vorgangsnummer: "VN1245"},
		},
		{
			name: "numeric id and unix date",
			in:   ` {"vorgangsnummer":12345,"letztesAenderungsDatum":1700000000}`,
			want: Notification{Vorgangsnummer: "12345", LetztesAenderungsDatum: time.Unix(1700000000, 0).UTC(), LetztesAenderungsDatumRaw: "1700000000"},
		},
		{name: "missing vorgangsnummer", in: `{"quellsystem":"KREDITSMART"}`, wantErr: ErrMissingVorgangsnummer},
		{name: "blank vorgangsnummer", in: `{"vorgangsnummer":"  "}`, wantErr: ErrMissingVorgangsnummer},
		{name: "null vorgangsnummer", in: `{"vorgangsnummer":null}`, wantErr: ErrMissingVorgangsnummer},
		{name: "not json", in: `VN1245`, wantErr: ErrMalformedPayload},
		{name: "empty", in: ``, wantErr: ErrMalformedPayload},
		{name: "array", in: `[{"vorgangsnummer":"VN1"}]`, wantErr: ErrMalformedPayload},
		{name: "truncated", in: `{"vorgangsnummer":"VN1"`, wantErr: ErrMalformedPayload},
		{name: "object id", in: `{"vorgangsnummer":{"id":"VN1"}}`, wantErr: ErrMalformedPayload},
		{name: "bool tree", in: `{"vorgangsnummer":"VN1","kundenbetreuerPartnerbaum":true}`, wantErr: ErrMalformedPayload},
		{name: "too large", in: `{"vorgangsnummer":"VN1","x":"` + strings.Repeat("a", MaxPayloadBytes) + `"}`, wantErr: ErrPayloadTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode([]byte(tt.in))
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got.Raw) != tt.in {
				t.Errorf("Raw = %q, want the input", got.Raw)
			}
			if diff := cmp.Diff(tt.want, *got, cmpopts.IgnoreFields(Notification{}, "Raw")); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}

func TestNotificationIsEvent(t *testing.T) {
	a, _ := Decode([]byte(`{"vorgangsnummer":"VN1","letztesAenderungsDatum":"2019-01-02"}`))
	b, _ := Decode([]byte(`{"vorgangsnummer":"VN1","letztesAenderungsDatum":"2019-01-03"}`))
	a2, _ := Decode([]byte(`{"vorgangsnummer":"VN1","letztesAenderungsDatum":"2019-01-02"}`))
	if a.ID() != a2.ID() || a.ID() == b.ID() || len(a.ID()) != 32 {
		t.Errorf("IDs: %s %s %s", a.ID(), a2.ID(), b.ID())
	}
	if a.Source() != "kreditsmart" || a.Type() != EventType || a.Subject() != "VN1" || !a.Time().Equal(time.Date(2019, 1, 2, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("event view: %s %s %s %v", a.Source(), a.Type(), a.Subject(), a.Time())
	}
	if ct, data := a.EventData(); ct != "application/json" || string(data) != string(a.Raw) {
		t.Errorf("EventData = %s %s", ct, data)
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"vorgangsnummer":"VN1245","kundenbetreuerPartnerbaum":"ECHTGESCHAEFT/PARTNER1/PARTNER2/PARTNER3","letztesAenderungsDatum":"2019-01-02","quellsystem":"KREDITSMART"}`,
		`{"vorgangsnummer":"VN1245","teilantragsnummer":null}`,
		`{"vorgangsnummer":1,"letztesAenderungsDatum":-1.5}`,
		`{"kundenbetreuerPartnerBaum":"A/B"}`, `[]`, `{`, `null`, `"x"`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := Decode(b)
		if err != nil {
			if n != nil {
				t.Fatal("non-nil notification with error")
			}
			for _, s := range []error{ErrMalformedPayload, ErrMissingVorgangsnummer, ErrPayloadTooLarge} {
				if errors.Is(err, s) {
					return
				}
			}
			t.Fatalf("untyped error %v", err)
		}
		if n.Vorgangsnummer == "" || string(n.Raw) != string(b) {
			t.Fatalf("bad notification %+v", n)
		}
		// Decoding is deterministic: the same bytes give the same result.
		again, _ := Decode(b)
		if diff := cmp.Diff(n, again); diff != "" {
			t.Fatal(diff)
		}
	})
}
