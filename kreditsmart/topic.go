package kreditsmart

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// AWS IoT Core limits for topics and filters (developer guide, quotas).
const (
	maxTopicSlashes = 7
	maxTopicBytes   = 256
	// MaxPayloadBytes is AWS IoT Core's message size limit (128 KB); larger
	// MQTT payloads are reported as ErrPayloadTooLarge.
	MaxPayloadBytes = 128 * 1024
)

// ValidateFilter checks an MQTT topic filter against AWS IoT Core's rules:
// at most 7 slashes, at most 256 bytes of UTF-8, # only as the whole last
// level, + only as a whole level, and no leading $ (reserved topics). The
// error matches ErrInvalidTopicFilter.
func ValidateFilter(f string) error {
	bad := func(why string) error { return fmt.Errorf("%w: %q %s", ErrInvalidTopicFilter, clip(f), why) }
	switch {
	case f == "":
		return bad("is empty")
	case !utf8.ValidString(f) || strings.ContainsRune(f, 0):
		return bad("is not valid UTF-8")
	case len(f) > maxTopicBytes:
		return bad(fmt.Sprintf("is longer than %d bytes", maxTopicBytes))
	case strings.Count(f, "/") > maxTopicSlashes:
		return bad(fmt.Sprintf("has more than %d slashes", maxTopicSlashes))
	case strings.HasPrefix(f, "$"):
		return bad("starts with the reserved $")
	}
	levels := strings.Split(f, "/")
	for i, l := range levels {
		if strings.Contains(l, "#") && (l != "#" || i != len(levels)-1) {
			return bad("uses # other than as the whole last level")
		}
		if strings.Contains(l, "+") && l != "+" {
			return bad("uses + inside a level")
		}
	}
	return nil
}

// filtersFor returns the filters to subscribe for topic T: T/# and, when
// parent is set, T itself, because AWS's # does not match the parent level.
// T must be a valid Partnerbaum whose T/# passes ValidateFilter.
func filtersFor(topic Partnerbaum, parent bool) ([]string, error) {
	if err := topic.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTopicUnresolved, err)
	}
	all := string(topic) + "/#"
	if err := ValidateFilter(all); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTopicUnresolved, err)
	}
	if parent {
		return []string{all, string(topic)}, nil
	}
	return []string{all}, nil
}

// matchesTopic reports whether topic lies under T the way AWS matches
// filters T/# (and T when parent is set).
func matchesTopic(t Partnerbaum, parent bool, topic string) bool {
	if parent && topic == string(t) {
		return true
	}
	return strings.HasPrefix(topic, string(t)+"/")
}
