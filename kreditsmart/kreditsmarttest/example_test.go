package kreditsmarttest_test

import (
	"fmt"

	"github.com/notifykit/notifykit/kreditsmart/kreditsmarttest"
)

// Start runs the fake without a testing.TB, as the notifykit CLI's sandbox
// does; Close stops it.
func ExampleStart() {
	srv, err := kreditsmarttest.Start()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	dev, err := srv.CreateDevice("partner-1", "ECHTGESCHAEFT/ABC12")
	if err != nil {
		fmt.Println(err)
		return
	}
	doc, _ := srv.Shadow(dev.Name, "")
	fmt.Println(dev.Name, len(doc) > 0)
	// Output: partner-1 true
}
