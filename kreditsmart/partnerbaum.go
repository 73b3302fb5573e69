package kreditsmart

import (
	"fmt"
	"strings"
)

// Partnerbaum is a partner tree: the "/"-separated path of Plaketten from
// the top node (in KEX-PUSH usually a Datenkontext root such as
// ECHTGESCHAEFT) down to one Plakette. It doubles as the MQTT topic.
//
// A Partnerbaum from a payload is kept as sent; call Validate to check it.
type Partnerbaum string

// ParsePartnerbaum checks s with Validate and returns it as a Partnerbaum.
func ParsePartnerbaum(s string) (Partnerbaum, error) {
	p := Partnerbaum(s)
	if err := p.Validate(); err != nil {
		return "", err
	}
	return p, nil
}

// Validate reports, as an error matching ErrInvalidPartnerbaum, a tree that
// is empty, has empty segments (leading, trailing or double slashes),
// contains the MQTT wildcards + or #, or starts with the reserved $.
func (p Partnerbaum) Validate() error {
	s := string(p)
	switch {
	case s == "":
		return fmt.Errorf("%w: empty", ErrInvalidPartnerbaum)
	case strings.HasPrefix(s, "$"):
		return fmt.Errorf("%w: %q starts with the reserved $", ErrInvalidPartnerbaum, clip(s))
	case strings.ContainsAny(s, "+#\x00"):
		return fmt.Errorf("%w: %q contains a wildcard or NUL", ErrInvalidPartnerbaum, clip(s))
	}
	for _, seg := range strings.Split(s, "/") {
		if seg == "" {
			return fmt.Errorf("%w: %q has an empty segment", ErrInvalidPartnerbaum, clip(s))
		}
	}
	return nil
}

// Segments returns the Plaketten from the top down; nil for an empty tree.
func (p Partnerbaum) Segments() []string {
	if p == "" {
		return nil
	}
	return strings.Split(string(p), "/")
}

// Depth is the number of segments.
func (p Partnerbaum) Depth() int { return len(p.Segments()) }

// Root is the first segment: the Datenkontext root (ECHTGESCHAEFT,
// PROD_TESTUMGEBUNG, ...) in current payloads. An early payload revision
// omitted the root, so do not rely on Root being a Datenkontext: the SDK
// never assumes root names.
func (p Partnerbaum) Root() string {
	root, _, _ := strings.Cut(string(p), "/")
	return root
}

// Leaf is the last segment: the Plakette the tree leads to.
func (p Partnerbaum) Leaf() string {
	s := string(p)
	return s[strings.LastIndexByte(s, '/')+1:]
}

// Parent returns the tree one level up and false when p has one segment
// or none.
func (p Partnerbaum) Parent() (Partnerbaum, bool) {
	i := strings.LastIndexByte(string(p), '/')
	if i <= 0 {
		return "", false
	}
	return p[:i], true
}

// Contains reports whether other is p itself or lies below p. It compares
// whole segments: A/B contains A/B/C but not A/BC.
func (p Partnerbaum) Contains(other Partnerbaum) bool {
	if p == "" {
		return false
	}
	return other == p || strings.HasPrefix(string(other), string(p)+"/")
}

// String returns the tree as written.
func (p Partnerbaum) String() string { return string(p) }

// clip keeps untrusted values short in error messages.
func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
