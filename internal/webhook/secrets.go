package webhook

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// SecretsFile is the file in the data directory that keeps generated secrets.
const SecretsFile = "webhook-secrets.json"

// Secrets hands out each webhook URL's signing secret: the one configured
// for it, else the one generated for it earlier, else a new random one,
// written to the file (mode 0600) before it is first used so that the
// receiver's copy stays valid across restarts.
type Secrets struct {
	path       string
	mu         sync.Mutex
	configured map[string]string
	generated  map[string]string
}

// OpenSecrets loads the secrets file at path (it need not exist yet).
func OpenSecrets(path string) (*Secrets, error) {
	s := &Secrets{path: path, configured: map[string]string{}, generated: map[string]string{}}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &s.generated); err != nil {
		return nil, fmt.Errorf("webhook secrets %s: %w", path, err)
	}
	return s, nil
}

// Configure sets the secret of every endpoint in r that names one.
func (s *Secrets) Configure(r Routes) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, es := range r {
		for _, e := range es {
			if e.Secret != "" {
				s.configured[e.URL] = e.Secret
			}
		}
	}
}

// For returns url's secret, generating and persisting one if it has none.
func (s *Secrets) For(url string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, ok := s.configured[url]; ok {
		return v, nil
	}
	if v, ok := s.generated[url]; ok {
		return v, nil
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	v := "whsec_" + hex.EncodeToString(b)
	s.generated[url] = v
	if err := s.saveLocked(); err != nil {
		delete(s.generated, url)
		return "", err
	}
	return v, nil
}

// Path is the secrets file.
func (s *Secrets) Path() string { return s.path }

// saveLocked writes the file whole, through a temporary file and a rename,
// so that a crash leaves the old or the new file, never half of one.
func (s *Secrets) saveLocked() error {
	b, err := json.MarshalIndent(s.generated, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(s.path), ".webhook-secrets-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), s.path)
}
