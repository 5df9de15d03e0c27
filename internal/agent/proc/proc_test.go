package proc

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestSplitArgs(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want []string
	}{
		{"empty", "", nil},
		{"blank", "   ", nil},
		{"words", "-port 7777 -map dust", []string{"-port", "7777", "-map", "dust"}},
		{"runs of spaces", "  a \t b  ", []string{"a", "b"}},
		{"quoted", `-map "two words" x`, []string{"-map", "two words", "x"}},
		{"quote inside word", `--name="a b"`, []string{"--name=a b"}},
		{"empty quoted", `-name "" x`, []string{"-name", "", "x"}},
		{"escaped quote", `"say \"hi\""`, []string{`say "hi"`}},
		{"backslash outside quotes", `C:\game\server.exe`, []string{`C:\game\server.exe`}},
		{"unterminated quote", `"a b`, []string{"a b"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := SplitArgs(tc.in); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("SplitArgs(%q) = %q; want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestStartInvalidPath(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain")
	noShebang := filepath.Join(dir, "noshebang")
	if err := os.WriteFile(plain, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(noShebang, []byte{0x7f, 'E', 'L', 'F', 0, 0, 0}, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, path string }{
		{"missing", filepath.Join(dir, "nope")},
		{"directory", dir},
		{"not executable", plain},
		{"not a program", noShebang},
	} {
		t.Run(tc.name, func(t *testing.T) {
			log := filepath.Join(dir, tc.name+".log")
			p, err := Start(Spec{Path: tc.path, LogPath: log})
			if !errors.Is(err, ErrInvalidPath) {
				if p != nil {
					p.Signal(syscall.SIGKILL)
				}
				t.Fatalf("Start(%s) = %v; want ErrInvalidPath", tc.path, err)
			}
		})
	}
}

func TestStartExitAndLog(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "p.log")
	p, err := Start(Spec{
		Path:    "/bin/sh",
		Args:    []string{"-c", `echo out $FOO; echo err >&2; pwd; exit 3`},
		Dir:     dir,
		Env:     []string{"FOO=bar"},
		LogPath: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	st := waitStatus(t, p)
	if st.Code != 3 || st.Signal != 0 {
		t.Errorf("status = %+v; want exit code 3", st)
	}
	b, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"out bar\n", "err\n", dir + "\n"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("log %q lacks %q", b, want)
		}
	}
}

func TestProcessGroupAndSignal(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "child.pid")
	// The shell backgrounds a child in the same group and waits: a signal to
	// the group must reach both.
	p, err := Start(Spec{Path: "/bin/sh", Args: []string{"-c", "sleep 60 & echo $! > " + pidFile + "; wait"}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Signal(syscall.SIGKILL)
	if pgid, err := syscall.Getpgid(p.Pid()); err != nil || pgid != p.Pid() {
		t.Fatalf("Getpgid(%d) = %d, %v; want its own group", p.Pid(), pgid, err)
	}
	child := readPid(t, pidFile)
	if err := p.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	st := waitStatus(t, p)
	if st.Signal != syscall.SIGTERM || st.Code != 128+int(syscall.SIGTERM) {
		t.Errorf("status = %+v; want killed by SIGTERM (143)", st)
	}
	waitGone(t, child)
	if err := p.Signal(syscall.SIGTERM); err != nil {
		t.Errorf("Signal after exit = %v; want nil", err)
	}
}

func TestStragglersKilled(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "child.pid")
	p, err := Start(Spec{Path: "/bin/sh", Args: []string{"-c", "sleep 60 & echo $! > " + pidFile + "; exit 0"}})
	if err != nil {
		t.Fatal(err)
	}
	if st := waitStatus(t, p); st.Code != 0 {
		t.Fatalf("status = %+v; want 0", st)
	}
	waitGone(t, readPid(t, pidFile))
}

func waitStatus(t *testing.T, p *Process) Status {
	t.Helper()
	select {
	case <-p.Done():
		return p.Status()
	case <-time.After(10 * time.Second):
		p.Signal(syscall.SIGKILL)
		t.Fatal("process did not exit")
		return Status{}
	}
}

func readPid(t *testing.T, path string) int {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		b, err := os.ReadFile(path)
		if err == nil && strings.HasSuffix(string(b), "\n") {
			pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
			if err != nil {
				t.Fatal(err)
			}
			return pid
		}
		if time.Now().After(deadline) {
			t.Fatalf("no pid in %s", path)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitGone waits until pid no longer exists (or is a zombie of someone else's:
// the orphaned sleep is reparented to init, which reaps it).
func waitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			return
		}
		if b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat"); err == nil {
			if f := strings.Fields(string(b)); len(f) > 2 && f[2] == "Z" {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("process %d still exists", pid)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
