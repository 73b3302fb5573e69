package main

import (
	"strings"
	"testing"
)

func TestProgramTBTurnsFatalIntoErrorAndRunsCleanups(t *testing.T) {
	tb := newProgramTB(discardLogger())
	var order []int
	tb.Cleanup(func() { order = append(order, 1) })
	tb.Cleanup(func() { order = append(order, 2) })
	err := withTB(func() {
		tb.Helper()
		tb.Logf("setting up %d", 1)
		tb.Fatalf("no port: %s", "busy")
	})
	if err == nil || !strings.Contains(err.Error(), "no port: busy") {
		t.Fatalf("err = %v", err)
	}
	tb.close()
	if len(order) != 2 || order[0] != 2 {
		t.Fatalf("clean-ups ran as %v, want last first", order)
	}
	if err := withTB(func() {}); err != nil {
		t.Fatal(err)
	}
}
