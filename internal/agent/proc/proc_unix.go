//go:build unix

package proc

import (
	"errors"
	"os"
	"syscall"
)

// xOK is access(2)'s X_OK, which package syscall does not name.
const xOK = 1

func access(path string) error {
	return syscall.Access(path, xOK)
}

func killGroup(pgid int, sig syscall.Signal) error {
	err := syscall.Kill(-pgid, sig)
	if errors.Is(err, syscall.ESRCH) {
		return nil
	}
	return err
}

func statusOf(ps *os.ProcessState) Status {
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return Status{Code: 128 + int(ws.Signal()), Signal: ws.Signal()}
	}
	return Status{Code: ps.ExitCode()}
}
