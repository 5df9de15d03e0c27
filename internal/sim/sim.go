package sim

import (
	"context"
	"errors"
	"fmt"
	"net"
)

// Sim is a set of running simulated processes.
type Sim struct {
	procs []*Process
	done  chan struct{}
}

// Start opens every process's player port and starts the processes; it
// returns without waiting for them to connect or become ready. The processes
// stop when ctx ends, saying TerminateServerProcess first if they were ready.
func Start(ctx context.Context, cfg Config) (*Sim, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	ids := cfg.processIDs()
	var lns []net.Listener
	closeAll := func() {
		for _, ln := range lns {
			ln.Close()
		}
	}
	s := &Sim{done: make(chan struct{})}
	for i, id := range ids {
		port := 0
		if cfg.BasePort != 0 {
			port = cfg.BasePort + i
		}
		ln, err := listen(cfg.ListenHost, port)
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("player port for %s: %w", id, err)
		}
		lns = append(lns, ln)
		p, err := newProcess(cfg, id, ln)
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
		}
		s.procs = append(s.procs, p)
	}
	for _, p := range s.procs {
		pctx, cancel := context.WithCancel(ctx)
		p.cancel = cancel
		go p.run(pctx)
	}
	go func() {
		for _, p := range s.procs {
			<-p.done
		}
		close(s.done)
	}()
	return s, nil
}

// Run runs the processes until ctx ends or every process has ended. It
// returns nil after a normal stop and the processes' failures otherwise.
func Run(ctx context.Context, cfg Config) error {
	s, err := Start(ctx, cfg)
	if err != nil {
		return err
	}
	return s.Wait()
}

// Processes returns the processes in configuration order.
func (s *Sim) Processes() []*Process { return append([]*Process(nil), s.procs...) }

// Process returns the process with the given id, or nil.
func (s *Sim) Process(id string) *Process {
	for _, p := range s.procs {
		if p.id == id {
			return p
		}
	}
	return nil
}

// Done is closed when every process has ended.
func (s *Sim) Done() <-chan struct{} { return s.done }

// Wait blocks until every process has ended and joins their failures.
func (s *Sim) Wait() error {
	<-s.done
	var errs []error
	for _, p := range s.procs {
		if err := p.Err(); err != nil {
			errs = append(errs, fmt.Errorf("process %s: %w", p.id, err))
		}
	}
	return errors.Join(errs...)
}
