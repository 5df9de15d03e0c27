package sqlite

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/openlift/openlift/internal/store"
	"github.com/openlift/openlift/internal/store/storetest"
)

func openTest(t testing.TB, path string) *Store {
	t.Helper()
	s, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return openTest(t, filepath.Join(t.TempDir(), "openlift.db"))
	})
}

func TestDurable(t *testing.T) {
	storetest.RunDurable(t, func(t *testing.T, dir string) store.Store {
		return openTest(t, filepath.Join(dir, "openlift.db"))
	})
}
