package load

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// listeningPrefix is the line both `openlift serve` and the echo child print
// once they accept connections.
const listeningPrefix = "openlift listening on "

// child is a server process this run started.
type child struct {
	cmd    *exec.Cmd
	URL    string
	stderr *tailBuffer
	exited chan struct{}
}

// startChild runs bin with args and waits for its listening line.
func startChild(ctx context.Context, bin string, args, env []string) (*child, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	tail := &tailBuffer{max: 8 << 10}
	cmd.Stderr = tail
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &child{cmd: cmd, stderr: tail, exited: make(chan struct{})}
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), listeningPrefix); ok {
				u, _, _ := strings.Cut(rest, " ")
				select {
				case urlc <- u:
				default:
				}
			}
		}
		// Keep draining so the child never blocks on a full pipe.
		io.Copy(io.Discard, out)
	}()
	go func() { cmd.Wait(); close(c.exited) }()
	timer := time.NewTimer(30 * time.Second)
	defer timer.Stop()
	select {
	case c.URL = <-urlc:
		return c, nil
	case <-c.exited:
		return nil, fmt.Errorf("%s exited before listening: %s", bin, strings.TrimSpace(tail.String()))
	case <-timer.C:
		c.stop()
		return nil, fmt.Errorf("%s did not print %q within 30s", bin, listeningPrefix)
	case <-ctx.Done():
		c.stop()
		return nil, ctx.Err()
	}
}

// Pid is the child's process id.
func (c *child) Pid() int { return c.cmd.Process.Pid }

// stop interrupts the child so that it shuts down cleanly (and writes its CPU
// profile), killing it if it takes too long.
func (c *child) stop() error {
	c.cmd.Process.Signal(os.Interrupt)
	select {
	case <-c.exited:
	case <-time.After(15 * time.Second):
		c.cmd.Process.Kill()
		<-c.exited
		return errors.New("child did not stop within 15s and was killed")
	}
	if st := c.cmd.ProcessState; st != nil && !st.Success() {
		return fmt.Errorf("child exited with %v: %s", st, strings.TrimSpace(c.stderr.String()))
	}
	return nil
}

// memory is a process's resident set as /proc reports it, in KiB.
type memory struct {
	RSS int64 `json:"rss_kib"`
	HWM int64 `json:"peak_rss_kib"`
}

// readMemory reads VmRSS and VmHWM of pid; zero values where /proc is
// missing (not Linux).
func readMemory(pid int) memory {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return memory{}
	}
	var m memory
	for line := range strings.Lines(string(b)) {
		name, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		f := strings.Fields(val)
		if len(f) == 0 {
			continue
		}
		n, _ := strconv.ParseInt(f[0], 10, 64)
		switch name {
		case "VmRSS":
			m.RSS = n
		case "VmHWM":
			m.HWM = n
		}
	}
	return m
}

// tailBuffer keeps the last max bytes written, so a failing child can be
// explained without holding all its logs.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
	max int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-t.max:]...)
	}
	t.mu.Unlock()
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}

// echoReply is what the echo child answers every request with: a
// CreatePlayerSession output of the size openlift sends, so both runs move
// the same bytes and the client decodes the same shape.
var echoReply = func() []byte {
	port := int32(7777)
	b, err := cborEnc.Marshal(map[string]any{"PlayerSession": map[string]any{
		"CreationTime":    time.Unix(1700000000, 0),
		"DnsName":         "gs-1.example.internal",
		"FleetArn":        "arn:aws:gamelift:us-west-2:123456789012:fleet/fleet-1a2b3c4d-5678-90ab-cdef-1234567890ab",
		"FleetId":         "fleet-1a2b3c4d-5678-90ab-cdef-1234567890ab",
		"GameSessionId":   "arn:aws:gamelift:us-west-2::gamesession/fleet-1a2b3c4d-5678-90ab-cdef-1234567890ab/gsess-0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
		"IpAddress":       "127.0.0.1",
		"PlayerId":        "load-player",
		"PlayerSessionId": "psess-0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
		"Port":            port,
		"Status":          "RESERVED",
	}})
	if err != nil {
		panic(err)
	}
	return b
}()

// EchoHandler is the baseline server's handler: it reads the request and
// sends the canned reply with the headers openlift's CBOR responses carry.
// It does no signature check, no decoding and no storage: it is the floor.
func EchoHandler() http.Handler {
	length := []string{strconv.Itoa(len(echoReply))}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		h := w.Header()
		h["Smithy-Protocol"] = []string{"rpc-v2-cbor"}
		h["Content-Type"] = []string{"application/cbor"}
		h["X-Amzn-Requestid"] = []string{"00000000-0000-0000-0000-000000000000"}
		h["Content-Length"] = length
		w.Write(echoReply)
	})
}

// ServeEcho runs the echo server on 127.0.0.1:0 until ctx ends, printing the
// same listening line as `openlift serve`.
func ServeEcho(ctx context.Context, stdout io.Writer) error {
	srv := &http.Server{Handler: EchoHandler(), ReadHeaderTimeout: 10 * time.Second}
	ln, err := listenLocal()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%shttp://%s\n", listeningPrefix, ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}
