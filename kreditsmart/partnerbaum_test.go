package kreditsmart

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPartnerbaum(t *testing.T) {
	p, err := ParsePartnerbaum("ECHTGESCHAEFT/ABC12/DEF34")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"ECHTGESCHAEFT", "ABC12", "DEF34"}, p.Segments()); diff != "" {
		t.Error(diff)
	}
	if p.Root() != "ECHTGESCHAEFT" || p.Leaf() != "DEF34" || p.Depth() != 3 {
		t.Errorf("root/leaf/depth = %s %s %d", p.Root(), p.Leaf(), p.Depth())
	}
	parent, ok := p.Parent()
	if !ok || parent != "ECHTGESCHAEFT/ABC12" {
		t.Errorf("Parent = %q %v", parent, ok)
	}
	if _, ok := Partnerbaum("ECHTGESCHAEFT").Parent(); ok {
		t.Error("single segment has a parent")
	}
	for other, want := range map[Partnerbaum]bool{
		"ECHTGESCHAEFT/ABC12/DEF34":       true,
		"ECHTGESCHAEFT/ABC12/DEF34/GHI56": true,
		"ECHTGESCHAEFT/ABC12/DEF345":      false,
		"ECHTGESCHAEFT/ABC12":             false,
		"":                                false,
	} {
		if got := p.Contains(other); got != want {
			t.Errorf("Contains(%q) = %v", other, got)
		}
	}
	for _, bad := range []string{"", "/A", "A/", "A//B", "A/#", "A/+/B", "$aws/things"} {
		if _, err := ParsePartnerbaum(bad); !errors.Is(err, ErrInvalidPartnerbaum) {
			t.Errorf("ParsePartnerbaum(%q) = %v", bad, err)
		}
	}
}

func TestValidateFilter(t *testing.T) {
	ok := []string{"A/#", "A/B/C/D/E/F/G/#", "A/+/C", "#", "A", strings.Repeat("a", 256)}
	for _, f := range ok {
		if err := ValidateFilter(f); err != nil {
			t.Errorf("ValidateFilter(%q) = %v", f, err)
		}
	}
	bad := []string{"", "A/B/C/D/E/F/G/H/#", strings.Repeat("a", 257), "A/#/B", "A#", "A/B+", "$aws/#", "A\x00"}
	for _, f := range bad {
		if err := ValidateFilter(f); !errors.Is(err, ErrInvalidTopicFilter) {
			t.Errorf("ValidateFilter(%q) = %v", f, err)
		}
	}
	if _, err := filtersFor("A/B/C/D/E/F/G/H", false); !errors.Is(err, ErrTopicUnresolved) || !errors.Is(err, ErrInvalidTopicFilter) {
		t.Errorf("8-level topic + /# accepted: %v", err)
	}
	fs, err := filtersFor("A/B", true)
	if err != nil || !cmp.Equal(fs, []string{"A/B/#", "A/B"}) {
		t.Errorf("filtersFor = %v %v", fs, err)
	}
	if !matchesTopic("A/B", false, "A/B/C") || matchesTopic("A/B", false, "A/B") || !matchesTopic("A/B", true, "A/B") || matchesTopic("A/B", true, "A/BC") {
		t.Error("matchesTopic")
	}
}
