//go:build !unix

package proc

import (
	"errors"
	"os"
	"syscall"
)

// The agent needs process groups and signals; elsewhere every launch fails.
var errUnsupported = errors.New("openlift agent runs game servers on Unix-like systems only")

func access(string) error                 { return errUnsupported }
func killGroup(int, syscall.Signal) error { return errUnsupported }
func statusOf(ps *os.ProcessState) Status { return Status{Code: ps.ExitCode()} }
func sysProcAttr() *syscall.SysProcAttr   { return nil }
