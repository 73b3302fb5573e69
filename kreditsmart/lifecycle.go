package kreditsmart

import (
	"fmt"
	"time"
)

// Event types of the lifecycle events.
const (
	GapEventType         = "kreditsmart.subscription.gap"
	TopicChangeEventType = "kreditsmart.topic.changed"
)

// Gap is an interval in which the subscriber was not subscribed: from the
// moment the connection was lost (or the first connection attempt) to the
// moment the subscription was back. KreditSmart and AWS IoT store nothing,
// so every change in between is lost: reconcile the Vorgänge of Topic
// through the KEX Vorgang export API for [Start, End].
//
// Gap implements notifykit.Event; handlers set with WithHandler receive it.
type Gap struct {
	Start  time.Time   // when the subscription was lost
	End    time.Time   // when it was back (SUBACK received)
	Reason string      // why it was lost, e.g. the network error
	Topic  Partnerbaum // the topic subscribed after the gap
	Client string      // the MQTT client id
}

// ID is unique per gap of one client.
func (g *Gap) ID() string { return fmt.Sprintf("gap/%s/%d", g.Client, g.Start.UnixNano()) }

// Source returns "kreditsmart".
func (g *Gap) Source() string { return "kreditsmart" }

// Type returns GapEventType.
func (g *Gap) Type() string { return GapEventType }

// Subject returns the topic.
func (g *Gap) Subject() string { return string(g.Topic) }

// Time returns End.
func (g *Gap) Time() time.Time { return g.End }

// Duration is End - Start.
func (g *Gap) Duration() time.Duration { return g.End.Sub(g.Start) }

// TopicChange reports that the shadow announced a new topic and the
// subscriber moved: it subscribed New before it unsubscribed Old, so
// nothing published under New after At is missed.
//
// TopicChange implements notifykit.Event.
type TopicChange struct {
	Old, New Partnerbaum
	At       time.Time // when the new subscription was confirmed
	Client   string
}

// ID is unique per change of one client.
func (c *TopicChange) ID() string { return fmt.Sprintf("topic/%s/%d", c.Client, c.At.UnixNano()) }

// Source returns "kreditsmart".
func (c *TopicChange) Source() string { return "kreditsmart" }

// Type returns TopicChangeEventType.
func (c *TopicChange) Type() string { return TopicChangeEventType }

// Subject returns the new topic.
func (c *TopicChange) Subject() string { return string(c.New) }

// Time returns At.
func (c *TopicChange) Time() time.Time { return c.At }
