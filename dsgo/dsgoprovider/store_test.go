package dsgoprovider_test

import (
	"path/filepath"
	"testing"

	"github.com/notifykit/notifykit/dsgo/dsgoprovider"
	"github.com/notifykit/notifykit/dsgo/dsgoprovider/storetest"
)

func TestMemoryStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) dsgoprovider.Store { return dsgoprovider.NewMemoryStore() })
}

func TestBoltStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) dsgoprovider.Store {
		s, err := dsgoprovider.OpenBoltStore(filepath.Join(t.TempDir(), "provider.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}
