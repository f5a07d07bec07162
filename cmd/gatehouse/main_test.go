package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMain lets the test binary act as the gatehouse command, so tests run
// the real CLI in a real child process without a separate build step.
func TestMain(m *testing.M) {
	if os.Getenv("GATEHOUSE_TEST_MAIN") == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// gatehouse runs the command to completion and returns its output and exit code.
func gatehouse(t *testing.T, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(append(os.Environ(), "GATEHOUSE_TEST_MAIN=1"), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code = 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

// server is a running `gatehouse serve`.
type server struct {
	cmd  *exec.Cmd
	urls map[string]string // role -> base URL
	logs *lockedBuffer
}

// startServe starts `gatehouse serve --config file` and waits until every
// role in want has logged its listening address.
func startServe(t *testing.T, file string, env []string, want ...string) *server {
	t.Helper()
	cmd := exec.Command(os.Args[0], "serve", "--config", file, "--log-level", "debug")
	cmd.Env = append(append(os.Environ(), "GATEHOUSE_TEST_MAIN=1"), env...)
	pr, pw := io.Pipe()
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd, urls: map[string]string{}, logs: &lockedBuffer{}}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		pw.Close()
		if t.Failed() {
			t.Logf("gatehouse logs:\n%s", s.logs.String())
		}
	})
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		signalled := false
		for sc.Scan() {
			line := sc.Text()
			s.logs.WriteString(line + "\n")
			var rec struct{ Msg, Role, URL string }
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "listening" {
				s.logs.mu.Lock()
				s.urls[rec.Role] = rec.URL
				n := len(s.urls)
				s.logs.mu.Unlock()
				if n == len(want) && !signalled {
					signalled = true
					close(ready)
				}
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(60 * time.Second):
		t.Fatalf("gatehouse did not start; logs:\n%s", s.logs.String())
	}
	return s
}

func (s *server) url(role string) string {
	s.logs.mu.Lock()
	defer s.logs.mu.Unlock()
	return s.urls[role]
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestUsageAndUnknownCommand(t *testing.T) {
	_, errOut, code := gatehouse(t, nil)
	if code != 2 || !strings.Contains(errOut, "gatehouse serve --config FILE") {
		t.Errorf("no args: code %d, stderr %q", code, errOut)
	}
	_, errOut, code = gatehouse(t, nil, "frobnicate")
	if code != 2 || !strings.Contains(errOut, `unknown command "frobnicate"`) {
		t.Errorf("unknown: code %d, stderr %q", code, errOut)
	}
}
