package comnormserver_test

import (
	"path/filepath"
	"testing"

	"github.com/notifykit/notifykit/comnorm/comnormserver"
	"github.com/notifykit/notifykit/comnorm/comnormserver/internal/storetest"
)

func TestMemoryStoreConformance(t *testing.T) {
	storetest.Run(t, storetest.Factory{
		New: func(t *testing.T) comnormserver.Store { return comnormserver.NewMemoryStore() },
	})
}

func TestBoltStoreConformance(t *testing.T) {
	paths := map[comnormserver.Store]string{}
	storetest.Run(t, storetest.Factory{
		New: func(t *testing.T) comnormserver.Store {
			p := filepath.Join(t.TempDir(), "comnorm.db")
			s, err := comnormserver.OpenBoltStore(p)
			if err != nil {
				t.Fatal(err)
			}
			paths[s] = p
			return s
		},
		Reopen: func(t *testing.T, s comnormserver.Store) comnormserver.Store {
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			r, err := comnormserver.OpenBoltStore(paths[s])
			if err != nil {
				t.Fatal(err)
			}
			return r
		},
	})
}

func TestBoltStoreSecondOpenFails(t *testing.T) {
	p := filepath.Join(t.TempDir(), "comnorm.db")
	s, err := comnormserver.OpenBoltStore(p)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s2, err := comnormserver.OpenBoltStore(p); err == nil {
		s2.Close()
		t.Fatal("second open of a locked file succeeded")
	}
}
