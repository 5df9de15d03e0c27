package e2e

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func testCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 30*time.Second)
}

// logTail keeps the last lines a child process wrote, for failure reports.
type logTail struct {
	mu    sync.Mutex
	lines []string
	max   int
	races int
}

func (l *logTail) add(line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if strings.Contains(line, "WARNING: DATA RACE") {
		l.races++
	}
	l.lines = append(l.lines, line)
	if len(l.lines) > l.max {
		l.lines = l.lines[len(l.lines)-l.max:]
	}
}

func (l *logTail) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// child is one OS process the test started.
type child struct {
	name    string
	cmd     *exec.Cmd
	log     *logTail
	done    chan struct{}
	waitErr error
	lines   chan string // stdout lines, for the caller to scan
}

// startChild starts the binary; the process is killed when owner (the test
// whose lifetime it shares; t if nil) ends.
func startChild(t, owner *testing.T, name string, env []string, args ...string) *child {
	t.Helper()
	if owner == nil {
		owner = t
	}
	cmd := exec.Command(openliftBin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	c := &child{name: name, cmd: cmd, log: &logTail{max: 300}, done: make(chan struct{}), lines: make(chan string, 1024)}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			c.log.add("[stdout] " + sc.Text())
			select {
			case c.lines <- sc.Text():
			default: // nobody is reading; the log keeps it
			}
		}
	}()
	go func() {
		defer wg.Done()
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			c.log.add(sc.Text())
		}
		io.Copy(io.Discard, stderr)
	}()
	go func() {
		wg.Wait()
		c.waitErr = cmd.Wait()
		close(c.lines)
		close(c.done)
	}()
	owner.Cleanup(func() {
		c.kill()
		if owner.Failed() {
			owner.Logf("---- last output of %s (pid %d) ----\n%s", name, cmd.Process.Pid, c.log)
		}
		if n := c.racesSeen(); n > 0 {
			owner.Errorf("%s reported %d data races", name, n)
		}
	})
	return c
}

func (c *child) racesSeen() int {
	c.log.mu.Lock()
	defer c.log.mu.Unlock()
	return c.log.races
}

func (c *child) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// kill ends the process (and its group) at once and waits for it.
func (c *child) kill() {
	if c.exited() {
		return
	}
	syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
	}
}

// exitCode waits up to timeout for the process to end and returns its code.
func (c *child) exitCode(timeout time.Duration) (int, error) {
	select {
	case <-c.done:
	case <-time.After(timeout):
		return -1, fmt.Errorf("%s did not exit within %v", c.name, timeout)
	}
	var ee *exec.ExitError
	if errors.As(c.waitErr, &ee) {
		return ee.ExitCode(), nil
	}
	if c.waitErr != nil {
		return -1, c.waitErr
	}
	return 0, nil
}

// ---------------------------------------------------------------------------
// openlift serve

type serveProc struct {
	*child
	URL     string // http://127.0.0.1:PORT
	Addr    string // 127.0.0.1:PORT
	DataDir string
}

var reListening = regexp.MustCompile(`^openlift listening on (http://(127\.0\.0\.1:\d+)) \(region us-west-2\)$`)

// startServe runs `openlift serve` on listen (127.0.0.1:0 for a new port)
// with the test admin credential and waits for its listening line.
func startServe(t *testing.T, dataDir, listen string, extra ...string) *serveProc {
	t.Helper()
	args := append([]string{"serve", "--listen", listen, "--data-dir", dataDir, "--log-level", "debug"}, extra...)
	c := startChild(t, nil, "openlift serve", []string{
		"OPENLIFT_ADMIN_ACCESS_KEY_ID=" + adminAccessKeyID,
		"OPENLIFT_ADMIN_SECRET_ACCESS_KEY=" + adminSecret,
	}, args...)
	deadline := time.After(30 * time.Second)
	for {
		select {
		case line, ok := <-c.lines:
			if !ok {
				code, _ := c.exitCode(5 * time.Second)
				t.Fatalf("openlift serve exited (code %d) before listening:\n%s", code, c.log)
			}
			if m := reListening.FindStringSubmatch(line); m != nil {
				return &serveProc{child: c, URL: m[1], Addr: m[2], DataDir: dataDir}
			}
		case <-deadline:
			t.Fatalf("openlift serve printed no listening line within 30s:\n%s", c.log)
		}
	}
}

// stop sends SIGTERM and asserts a clean exit (code 0).
func (s *serveProc) stop(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM to serve: %v", err)
	}
	code, err := s.exitCode(40 * time.Second)
	if err != nil {
		t.Fatalf("openlift serve after SIGTERM: %v", err)
	}
	if code != 0 {
		t.Errorf("openlift serve exited with code %d after SIGTERM, want 0", code)
	}
}

// ---------------------------------------------------------------------------
// openlift sim

// simFlags are given to every `openlift sim`: a short heartbeat interval, so
// that a process is eligible for game sessions (first heartbeat after
// activation) within a second.
var simFlags = []string{"-heartbeat", "500ms"}

// simWithholdFlag makes `openlift sim` leave its game sessions ACTIVATING
// until a player sends "activate".
var simWithholdFlag = []string{"-withhold-activation"}

// simEnv is what the Server SDK reads from the environment.
type simEnv struct {
	WebSocketURL, FleetID, HostID, AuthToken, ProcessID string
}

type readyLine struct {
	PID  string
	Addr string // host:port players connect to
}

type simProc struct {
	*child
	mu      sync.Mutex
	ready   []readyLine
	changed chan struct{}
}

var reReady = regexp.MustCompile(`^READY (\S+) (\S+:\d+)$`)

// startSim runs `openlift sim -n n` with the SDK environment and extra flags,
// for the rest of test t.
func startSim(t *testing.T, env simEnv, n int, extra ...string) *simProc {
	t.Helper()
	return startSimFor(t, t, env, n, extra...)
}

// startSimFor is startSim for a process that outlives the (sub)test t that
// starts it and lives as long as owner.
func startSimFor(t, owner *testing.T, env simEnv, n int, extra ...string) *simProc {
	t.Helper()
	vars := []string{
		"GAMELIFT_SDK_WEBSOCKET_URL=" + env.WebSocketURL,
		"GAMELIFT_SDK_FLEET_ID=" + env.FleetID,
		"GAMELIFT_SDK_HOST_ID=" + env.HostID,
		"GAMELIFT_SDK_AUTH_TOKEN=" + env.AuthToken,
	}
	if env.ProcessID != "" {
		vars = append(vars, "GAMELIFT_SDK_PROCESS_ID="+env.ProcessID)
	}
	args := append([]string{"sim", "-n", fmt.Sprint(n)}, simFlags...)
	args = append(args, extra...)
	s := &simProc{child: startChild(t, owner, "openlift sim "+env.HostID, vars, args...), changed: make(chan struct{})}
	go func() {
		for line := range s.lines {
			if m := reReady.FindStringSubmatch(line); m != nil {
				s.mu.Lock()
				s.ready = append(s.ready, readyLine{PID: m[1], Addr: m[2]})
				close(s.changed)
				s.changed = make(chan struct{})
				s.mu.Unlock()
			}
		}
	}()
	return s
}

// readyLines returns every READY line seen so far.
func (s *simProc) readyLines() []readyLine {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]readyLine(nil), s.ready...)
}

// waitReady waits for n READY lines of distinct processes.
func (s *simProc) waitReady(t *testing.T, n int, timeout time.Duration) []readyLine {
	t.Helper()
	deadline := time.After(timeout)
	for {
		s.mu.Lock()
		seen := map[string]bool{}
		var distinct []readyLine
		for _, r := range s.ready {
			if !seen[r.PID] {
				seen[r.PID] = true
				distinct = append(distinct, r)
			}
		}
		ch := s.changed
		s.mu.Unlock()
		if len(distinct) >= n {
			return distinct[:n]
		}
		select {
		case <-ch:
		case <-s.done:
			t.Fatalf("openlift sim exited with %d of %d processes ready:\n%s", len(distinct), n, s.log)
		case <-deadline:
			t.Fatalf("openlift sim: %d of %d processes ready after %v:\n%s", len(distinct), n, timeout, s.log)
		}
	}
}

// ---------------------------------------------------------------------------
// players

// player is one TCP connection to a simulated game server process.
type player struct {
	c   net.Conn
	r   *bufio.Reader
	pID string // from the greeting
}

var reHello = regexp.MustCompile(`^HELLO openlift-sim 1 (\S+)$`)

// dialPlayer connects to a process's player port and reads its greeting.
func dialPlayer(t *testing.T, addr string) *player {
	t.Helper()
	p, err := tryDialPlayer(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.c.Close() })
	return p
}

func tryDialPlayer(addr string) (*player, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, fmt.Errorf("player dial %s: %v", addr, err)
	}
	p := &player{c: c, r: bufio.NewReader(c)}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	hello, err := p.r.ReadString('\n')
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("player %s: no greeting: %v", addr, err)
	}
	m := reHello.FindStringSubmatch(strings.TrimRight(hello, "\r\n"))
	if m == nil {
		c.Close()
		return nil, fmt.Errorf("player %s: greeting %q, want HELLO openlift-sim 1 <pID>", addr, hello)
	}
	p.pID = m[1]
	return p, nil
}

func (p *player) close() { p.c.Close() }

// send writes one line and returns the reply line.
func (p *player) send(t *testing.T, line string) string {
	t.Helper()
	reply, err := p.trySend(line)
	if err != nil {
		t.Fatalf("player %q: %v", line, err)
	}
	return reply
}

func (p *player) trySend(line string) (string, error) {
	p.c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.WriteString(p.c, line+"\n"); err != nil {
		return "", err
	}
	reply, err := p.r.ReadString('\n')
	if err != nil {
		return "", err
	}
	return strings.TrimRight(reply, "\r\n"), nil
}

// playerSay opens a connection, sends one line, and returns the reply.
func playerSay(t *testing.T, addr, line string) string {
	t.Helper()
	return dialPlayer(t, addr).send(t, line)
}
