package banquptest_test

import (
	"fmt"
	"log"

	"github.com/notifykit/notifykit/banqup"
	"github.com/notifykit/notifykit/banqup/banquptest"
)

// The Newtonsoft flavour omits nulls and defaults, as older MassTransit
// publishers do; the wire format is otherwise the same.
func ExampleNewPublishing() {
	for _, s := range []banquptest.Serializer{banquptest.SystemTextJSON, banquptest.Newtonsoft} {
		pub, id, err := banquptest.NewPublishing(banqup.StreamConsent, banquptest.Fixture(banqup.StreamConsent),
			banquptest.WithSerializer(s))
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(pub.ContentType, pub.DeliveryMode, pub.MessageId == id)
	}
	// Output:
	// application/vnd.masstransit+json 2 true
	// application/vnd.masstransit+json 2 true
}
