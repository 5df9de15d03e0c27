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

// openliftBin and tcpgameBin are the binaries TestMain builds once for every
// test: openlift itself and the example game (examples/tcpgame) that
// `openlift agent` runs.
var openliftBin, tcpgameBin string

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
	tcpgameBin = filepath.Join(dir, "tcpgame")
	for _, b := range []struct{ out, pkg string }{
		{openliftBin, "./cmd/openlift"},
		{tcpgameBin, "./examples/tcpgame"},
	} {
		args := []string{"build", "-o", b.out}
		if os.Getenv("OPENLIFT_E2E_RACE") != "" {
			// The race detector in the binaries makes a data race fail the
			// test through the process's exit code (66), at some cost in speed.
			args = append(args, "-race")
		}
		args = append(args, b.pkg)
		cmd := exec.Command("go", args...)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "e2e: go build %s: %v\n%s", b.pkg, err, out)
			return 1
		}
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
