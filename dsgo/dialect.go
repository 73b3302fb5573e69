package dsgo

// Dialect selects how objects are written on the wire. DSGO sources disagree
// on field names and time formats (see the package documentation); decoders
// accept all of them, encoders write exactly one.
type Dialect int

const (
	// DialectWiki is the default: the current DSGO wiki spelling
	// (resource_type, date, subscription_id, event_data) with UNIX seconds
	// as JSON strings. Subscriptions carry both url and href.
	DialectWiki Dialect = iota
	// DialectWikiISO is the older wiki version: wiki spelling with
	// ISO 8601 (RFC 3339, UTC) timestamps.
	DialectWikiISO
	// DialectOAS is the OpenAPI v2.0 spelling (class, dateTime,
	// subscriptionId, eventData, href) with RFC 3339 timestamps.
	DialectOAS
)

func (d Dialect) isoTimes() bool { return d == DialectWikiISO || d == DialectOAS }

// String names the dialect.
func (d Dialect) String() string {
	switch d {
	case DialectWiki:
		return "wiki"
	case DialectWikiISO:
		return "wiki-iso8601"
	case DialectOAS:
		return "oas-v2"
	}
	return "invalid"
}
