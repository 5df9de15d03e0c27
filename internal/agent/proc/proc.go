package proc

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
)

// ErrInvalidPath marks a launch that failed because the launch path is not an
// executable file (missing, a directory, not executable, or not a format the
// kernel can run); GameLift reports these as SERVER_PROCESS_INVALID_PATH
// rather than as crashes.
var ErrInvalidPath = errors.New("launch path is not an executable file")

// Spec describes one launch.
type Spec struct {
	// Path is the executable. A relative path is taken relative to the
	// agent's working directory (not to Dir, as os/exec would have it), and
	// PATH is never searched: a launch path names a file.
	Path string
	Args []string
	// Dir is the working directory ("" = the agent's).
	Dir string
	// Env is the complete environment.
	Env []string
	// LogPath receives stdout and stderr (appended; "" discards them).
	LogPath string
}

// Status is how a process ended.
type Status struct {
	// Code is the exit code, or 128+signal when a signal ended the process
	// (the shell's convention, and what Java's Process.exitValue reports, so
	// numbers read the same as those of Amazon's agent).
	Code int
	// Signal is the signal that ended the process, or 0.
	Signal syscall.Signal
}

func (s Status) String() string {
	if s.Signal != 0 {
		return fmt.Sprintf("killed by signal %d (%v)", int(s.Signal), s.Signal)
	}
	return fmt.Sprintf("exit code %d", s.Code)
}

// Process is a started process.
type Process struct {
	pid    int
	cmd    *exec.Cmd
	done   chan struct{}
	status Status
}

// Check reports whether path names a file this user can execute, wrapping
// ErrInvalidPath when it does not.
func Check(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidPath, err)
	}
	if fi.IsDir() {
		return fmt.Errorf("%w: %s is a directory", ErrInvalidPath, path)
	}
	if err := access(path); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrInvalidPath, path, err)
	}
	return nil
}

// Start checks the launch path, opens the log file and starts the process in
// a new process group. The process is reaped by a goroutine of its own;
// Done says when.
func Start(spec Spec) (*Process, error) {
	path, err := filepath.Abs(spec.Path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidPath, err)
	}
	if err := Check(path); err != nil {
		return nil, err
	}
	cmd := exec.Command(path, spec.Args...)
	cmd.Dir = spec.Dir
	cmd.Env = spec.Env
	if spec.LogPath != "" {
		f, err := os.OpenFile(spec.LogPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			return nil, fmt.Errorf("log file: %w", err)
		}
		// The child gets its own copy of the descriptor; ours is only needed
		// until the fork, and an *os.File target means no copying goroutine.
		defer f.Close()
		cmd.Stdout, cmd.Stderr = f, f
	}
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		// The file can change between Check and exec, and ENOEXEC (a script
		// without #!) only shows up here.
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, os.ErrPermission) || errors.Is(err, syscall.ENOEXEC) {
			return nil, fmt.Errorf("%w: %w", ErrInvalidPath, err)
		}
		return nil, err
	}
	p := &Process{pid: cmd.Process.Pid, cmd: cmd, done: make(chan struct{})}
	go p.wait()
	return p, nil
}

func (p *Process) wait() {
	err := p.cmd.Wait()
	var st Status
	if ps := p.cmd.ProcessState; ps != nil {
		st = statusOf(ps)
	} else if err != nil {
		st.Code = -1
	}
	p.status = st
	// Whatever the game server left behind in its group (a launcher script's
	// children, helpers) would otherwise outlive it and hold its ports.
	killGroup(p.pid, syscall.SIGKILL)
	close(p.done)
}

// Pid is the process id, which is also its process group id.
func (p *Process) Pid() int { return p.pid }

// Done is closed once the process has exited and been reaped.
func (p *Process) Done() <-chan struct{} { return p.done }

// Status is how the process ended; valid once Done is closed.
func (p *Process) Status() Status {
	<-p.done
	return p.status
}

// Signal sends sig to the process's group. Signalling a process that has
// already exited is not an error.
func (p *Process) Signal(sig syscall.Signal) error {
	select {
	case <-p.done:
		return nil
	default:
	}
	return killGroup(p.pid, sig)
}
