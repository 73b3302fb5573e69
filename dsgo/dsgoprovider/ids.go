package dsgoprovider

import (
	"crypto/rand"
	"encoding/hex"
)

// newID returns prefix followed by 16 random hex digits, in the style of
// the spec's examples (sub_123, not_123, eve_123).
func newID(prefix string) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

func newClaimToken() string { return newID("claim_") }
