package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestDev runs `gatehouse dev --ports auto` as a user would, reads dev.json
// and calls the hello API over HTTPS trusting only the development CA.
func TestDev(t *testing.T) {
	data := t.TempDir()
	cmd := exec.Command(os.Args[0], "dev", "--ports", "auto", "--data", data)
	cmd.Env = append(os.Environ(), "GATEHOUSE_TEST_MAIN=1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var logs lockedBuffer
	cmd.Stderr = writerFunc(func(p []byte) (int, error) { logs.WriteString(string(p)); return len(p), nil })
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("logs:\n%s", logs.String())
		}
	}()
	// The banner is printed once every listener is up and dev.json written.
	banner := make([]byte, 4096)
	n, err := io.ReadAtLeast(stdout, banner, 10)
	if err != nil {
		t.Fatalf("no banner: %v", err)
	}
	if !strings.Contains(string(banner[:n]), "Gatehouse dev is running") {
		t.Fatalf("banner = %q", banner[:n])
	}
	var info struct {
		GatewayURL, HelloURL, HelloFunctionURL, CACertificate string
	}
	b, err := os.ReadFile(filepath.Join(data, "dev.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &info); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(info.HelloURL, "https://127.0.0.1:") || info.CACertificate != filepath.Join(data, "tls", "ca.pem") {
		t.Fatalf("dev.json = %s", b)
	}
	caPEM, err := os.ReadFile(info.CACertificate)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := client.Get(info.HelloURL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(string(body), "Hello World, time and date are ") {
		t.Fatalf("hello: %d %q", resp.StatusCode, body)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("dev did not exit cleanly: %v", err)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
