package comnormserver

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
)

// Authenticator maps a partner key (X-PARTNER-KEY) to a stable partner id.
// Queues are owned by the partner id, so keys can be rotated without losing
// queues and no key is ever stored with the data.
type Authenticator interface {
	// Authenticate returns the partner id for key, or ok == false.
	Authenticate(ctx context.Context, key string) (partnerID string, ok bool, err error)
}

// StaticKeys is an Authenticator over a fixed set of keys. Keys are held as
// SHA-256 hashes and looked up by hash, so the lookup time reveals nothing
// about the keys themselves.
type StaticKeys struct {
	byHash map[[32]byte]string
}

// NewStaticKeys returns an Authenticator for a map from partner id to key.
func NewStaticKeys(keys map[string]string) (*StaticKeys, error) {
	s := &StaticKeys{byHash: make(map[[32]byte]string, len(keys))}
	for id, key := range keys {
		if err := s.add(id, key); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (s *StaticKeys) add(id, key string) error {
	if id == "" || key == "" {
		return errors.New("comnormserver: partner id and key must not be empty")
	}
	if len(key) < 16 {
		return fmt.Errorf("comnormserver: the key of partner %q is shorter than 16 characters", id)
	}
	h := sha256.Sum256([]byte(key))
	if _, dup := s.byHash[h]; dup {
		return fmt.Errorf("comnormserver: partner %q reuses another partner's key", id)
	}
	s.byHash[h] = id
	return nil
}

// Authenticate implements Authenticator.
func (s *StaticKeys) Authenticate(_ context.Context, key string) (string, bool, error) {
	if key == "" {
		return "", false, nil
	}
	id, ok := s.byHash[sha256.Sum256([]byte(key))]
	return id, ok, nil
}

// LoadKeysFile reads partner keys from a file: one partner per line, either
// "<partner-id> <key>" or just "<key>" (the id is then derived from the
// key's hash); blank lines and lines starting with # are ignored. Error
// messages give line numbers, never keys.
func LoadKeysFile(path string) (*StaticKeys, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("comnormserver: partner keys: %w", err)
	}
	defer f.Close()
	s := &StaticKeys{byHash: make(map[[32]byte]string)}
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		fields := strings.Fields(text)
		var id, key string
		switch len(fields) {
		case 1:
			key = fields[0]
			h := sha256.Sum256([]byte(key))
			id = "p-" + hex.EncodeToString(h[:6])
		case 2:
			id, key = fields[0], fields[1]
		default:
			return nil, fmt.Errorf("comnormserver: %s:%d: want \"<partner-id> <key>\" or \"<key>\"", path, line)
		}
		if err := s.add(id, key); err != nil {
			return nil, fmt.Errorf("%w (%s:%d)", err, path, line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("comnormserver: partner keys: %w", err)
	}
	if len(s.byHash) == 0 {
		return nil, fmt.Errorf("comnormserver: %s holds no partner keys", path)
	}
	return s, nil
}
