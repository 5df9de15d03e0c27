package proc

import "syscall"

func sysProcAttr() *syscall.SysProcAttr {
	// Pdeathsig: if the agent itself dies, its game servers get SIGTERM (and
	// can say ProcessEnding) instead of living on unsupervised next to the
	// ones a restarted agent launches.
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}
