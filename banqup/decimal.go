package banqup

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/shopspring/decimal"
)

// Decimal is an exact decimal amount as banqUP's .NET side wrote it.
//
// MassTransit 8.0.3 and later (and its Newtonsoft serializer) write .NET
// decimals as JSON strings ("1.15"); MassTransit 8.0.0–8.0.2 wrote JSON
// numbers (1.15). Decimal accepts both and keeps the exact text, so no
// amount ever passes through float64. The zero value is 0.
type Decimal struct{ text string }

// ParseDecimal parses a plain decimal literal such as "-12.50" or "1E-3".
// It returns an error matching ErrMalformed for anything else.
func ParseDecimal(s string) (Decimal, error) {
	if !isDecimalLiteral(s) {
		return Decimal{}, fmt.Errorf("%w: %q is not a decimal", ErrMalformed, truncate(s, 40))
	}
	return Decimal{text: s}, nil
}

// MustDecimal is ParseDecimal for constants in tests and fixtures; it panics
// on a malformed literal.
func MustDecimal(s string) Decimal {
	d, err := ParseDecimal(s)
	if err != nil {
		panic(err)
	}
	return d
}

// String returns the amount exactly as it was sent ("0" for the zero value).
func (d Decimal) String() string {
	if d.text == "" {
		return "0"
	}
	return d.text
}

// Value converts the amount to an arbitrary-precision
// github.com/shopspring/decimal value for arithmetic and comparison.
func (d Decimal) Value() decimal.Decimal {
	v, err := decimal.NewFromString(d.String())
	if err != nil { // unreachable: text was validated on the way in
		return decimal.Zero
	}
	return v
}

// Equal reports whether d and o denote the same number ("1.10" equals "1.1").
func (d Decimal) Equal(o Decimal) bool { return d.Value().Equal(o.Value()) }

// UnmarshalJSON accepts a JSON number, a JSON string holding a decimal
// literal, or null (the zero value).
func (d *Decimal) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		*d = Decimal{}
		return nil
	}
	s := string(b)
	if b[0] == '"' {
		var ok bool
		if s, ok = asciiString(b); !ok {
			if err := json.Unmarshal(b, &s); err != nil {
				return fmt.Errorf("%w: decimal: %v", ErrMalformed, err)
			}
		}
		if s == "" {
			*d = Decimal{}
			return nil
		}
	}
	v, err := ParseDecimal(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// MarshalJSON writes the amount as a JSON string, as MassTransit 8.0.3+
// does.
func (d Decimal) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// isDecimalLiteral accepts -?digits(.digits)?([eE][+-]?digits)?, the JSON
// number grammar with leading zeros tolerated (.NET never writes them, but
// they are harmless).
func isDecimalLiteral(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	n := digits(s[i:])
	if n == 0 {
		return false
	}
	i += n
	if i < len(s) && s[i] == '.' {
		i++
		n = digits(s[i:])
		if n == 0 {
			return false
		}
		i += n
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		n = digits(s[i:])
		if n == 0 || n > 4 { // exponents beyond 9999 only serve to exhaust memory in Value
			return false
		}
		i += n
	}
	return i == len(s)
}

func digits(s string) int {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
