package e2e

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Test credentials given to every openlift serve the tests start.
const (
	adminAccessKeyID = "AKIAE2ETESTADMIN0001"
	adminSecret      = "e2e/test+SecretAccessKey0123456789abcdef"
	region           = "us-west-2"
)

// openliftBin is the binary TestMain builds once for every test.
var openliftBin string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	root, err := moduleRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	dir, err := os.MkdirTemp("", "openlift-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	openliftBin = filepath.Join(dir, "openlift")
	args := []string{"build", "-o", openliftBin}
	if os.Getenv("OPENLIFT_E2E_RACE") != "" {
		// The race detector in the service binary makes a data race fail the
		// test through serve's exit code (66), at some cost in speed.
		args = append(args, "-race")
	}
	args = append(args, "./cmd/openlift")
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: go build ./cmd/openlift: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// moduleRoot walks up from the working directory to the directory holding go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}
