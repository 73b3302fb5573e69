package dsgo

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// TokenStore keeps the access tokens a TokenEndpoint issued, by the SHA-256
// of the token (the token itself is never stored). The default is in
// memory; several provider instances behind a load balancer share one
// store (a database) so that a token issued by one is accepted by all.
type TokenStore interface {
	// SaveToken records that the token with hash was issued to party
	// until expires.
	SaveToken(ctx context.Context, hash [32]byte, party string, expires time.Time) error
	// LookupToken returns the party and expiry of a token, or an error
	// matching ErrNotFound. Expired entries may be returned; the caller
	// checks the expiry.
	LookupToken(ctx context.Context, hash [32]byte) (party string, expires time.Time, err error)
	// DeleteToken forgets a token; unknown hashes are not an error.
	DeleteToken(ctx context.Context, hash [32]byte) error
}

// WithTokenStore sets where a TokenEndpoint keeps issued tokens (default:
// in memory). NewTokenEndpoint.
func WithTokenStore(s TokenStore) Option {
	return func(o *options) error {
		if s == nil {
			return optErr("nil token store")
		}
		o.tokenStore = s
		return nil
	}
}

// MemoryTokenStore is the in-process TokenStore. Expired tokens are swept
// at most once a minute, when a token is saved.
type MemoryTokenStore struct {
	mu        sync.Mutex
	tokens    map[[32]byte]issuedToken
	nextSweep time.Time
}

type issuedToken struct {
	party   string
	expires time.Time
}

// NewMemoryTokenStore returns an empty MemoryTokenStore.
func NewMemoryTokenStore() *MemoryTokenStore {
	return &MemoryTokenStore{tokens: map[[32]byte]issuedToken{}}
}

// SaveToken implements TokenStore.
func (m *MemoryTokenStore) SaveToken(_ context.Context, hash [32]byte, party string, expires time.Time) error {
	now := time.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if now.After(m.nextSweep) {
		for k, t := range m.tokens {
			if !now.Before(t.expires) {
				delete(m.tokens, k)
			}
		}
		m.nextSweep = now.Add(time.Minute)
	}
	m.tokens[hash] = issuedToken{party: party, expires: expires}
	return nil
}

// LookupToken implements TokenStore.
func (m *MemoryTokenStore) LookupToken(_ context.Context, hash [32]byte) (string, time.Time, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.tokens[hash]
	if !ok {
		return "", time.Time{}, fmt.Errorf("%w: access token", ErrNotFound)
	}
	return t.party, t.expires, nil
}

// DeleteToken implements TokenStore.
func (m *MemoryTokenStore) DeleteToken(_ context.Context, hash [32]byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.tokens, hash)
	return nil
}
