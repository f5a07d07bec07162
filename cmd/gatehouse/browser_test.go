package main

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/gatehouse/gatehouse/internal/devstack"
)

const chromiumPath = "/usr/bin/chromium"

// devRun is a running `gatehouse dev`, killed when the test ends.
type devRun struct {
	info   devstack.Info // dev.json
	data   string        // the data directory
	banner string        // the start of what it printed
	cmd    *exec.Cmd
}

// startDev runs `gatehouse dev --ports auto` and waits for its banner.
func startDev(t *testing.T) devRun {
	t.Helper()
	data := t.TempDir()
	cmd := exec.Command(os.Args[0], "dev", "--ports", "auto", "--data", data)
	cmd.Env = append(os.Environ(), "GATEHOUSE_TEST_MAIN=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var logs lockedBuffer
	cmd.Stderr = writerFunc(func(p []byte) (int, error) { logs.WriteString(string(p)); return len(p), nil })
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("gatehouse dev logs:\n%s", logs.String())
		}
	})
	// The banner is printed once every listener is up and dev.json written.
	banner := make([]byte, 4096)
	n, err := io.ReadAtLeast(out, banner, 10)
	if err != nil {
		t.Fatalf("dev did not start: %v\n%s", err, logs.String())
	}
	var info devstack.Info
	b, err := os.ReadFile(filepath.Join(data, "dev.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &info); err != nil {
		t.Fatal(err)
	}
	return devRun{info: info, data: data, banner: string(banner[:n]), cmd: cmd}
}

// spkiHash pins the dev server certificate for Chromium (instead of
// switching certificate checks off).
func spkiHash(t *testing.T, certFile string) string {
	b, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(c.RawSubjectPublicKeyInfo)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// TestBrowserSeed004 is seed 004 in headless Chromium: a new user signs up
// through the hosted pages from the seed's SPA (MSAL.js), signs in, calls
// the API through the gateway, and the 16th call within a minute shows the
// rate-limit message. Both the seed's MSAL 2.11.1 and MSAL 5 are driven.
func TestBrowserSeed004(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		if isCI() {
			t.Fatalf("%s missing: .ci/run installs Debian's chromium", chromiumPath)
		}
		t.Skipf("%s missing: apt-get install -y chromium", chromiumPath)
	}
	dev := startDev(t)
	info, data := dev.info, dev.data
	shots := os.Getenv("GATEHOUSE_SCREENSHOTS") // set to docs/ to refresh the README's pictures

	// msal2 and msal5 sign up a local account; federated signs in through
	// dev's partner tenant ("Contoso Partner", an OpenID Connect provider).
	for i, page := range []string{info.SPA.URL, info.SPA.MSAL5URL, info.SPA.URL} {
		name := []string{"msal2", "msal5", "federated"}[i]
		t.Run(name, func(t *testing.T) {
			opts := append(chromedp.DefaultExecAllocatorOptions[:],
				chromedp.ExecPath(chromiumPath),
				chromedp.NoSandbox,
				chromedp.DisableGPU,
				chromedp.Flag("disable-quic", true),
				chromedp.Flag("disable-component-update", true),
				chromedp.Flag("ignore-certificate-errors-spki-list", spkiHash(t, filepath.Join(data, "tls", "server.pem"))),
				chromedp.UserDataDir(t.TempDir()),
				chromedp.WindowSize(1100, 800),
			)
			actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
			defer cancel()
			ctx, cancel := chromedp.NewContext(actx)
			defer cancel()
			// The page's console and failed requests explain a failed step.
			var console lockedBuffer
			if err := chromedp.Listen(ctx, func(ev any) {
				switch e := ev.(type) {
				case *cdpruntime.EventConsoleAPICalled:
					for _, a := range e.Args {
						console.WriteString(string(e.Type) + ": " + string(a.Value) + a.Description + "\n")
					}
				case *cdpruntime.EventExceptionThrown:
					console.WriteString("exception: " + e.ExceptionDetails.Text + "\n")
				case *network.EventLoadingFailed:
					console.WriteString("request failed: " + e.ErrorText + " " + string(e.BlockedReason) + "\n")
				}
			}); err != nil {
				t.Fatal(err)
			}
			// The first run starts the browser and ties it to ctx (not to a
			// step's shorter deadline).
			if err := chromedp.Do(ctx); err != nil {
				t.Fatal(err)
			}
			// do runs one step with its own deadline, so the tab stays usable
			// for diagnostics when a step times out.
			do := func(actions ...chromedp.Action[chromedp.Void]) error {
				sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
				defer cancel()
				return chromedp.Do(sctx, actions...)
			}
			shot := func(step string) {
				if shots == "" {
					return
				}
				png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
				if err == nil {
					os.WriteFile(filepath.Join(shots, fmt.Sprintf("seed004-%s-%s.png", name, step)), png, 0o644)
				}
			}
			message := func() string {
				s, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#message")))
				return s
			}
			must := func(what string, err error) {
				t.Helper()
				if err != nil {
					// Say where the browser is and what it shows.
					loc, _ := chromedp.Run(ctx, chromedp.Location())
					body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText.slice(0, 600) : ""`))
					t.Fatalf("%s: %v\nat %s\n%s\nconsole:\n%s", what, err, loc, body, console.String())
				}
			}
			must("open the SPA", do(chromedp.Navigate(page), chromedp.WaitVisible(chromedp.CSS("#signinbtn"))))
			shot("1-start")
			must("sign in", do(chromedp.Click(chromedp.CSS("#signinbtn")), chromedp.WaitVisible(chromedp.CSS("#createAccount"))))
			shot("2-sign-in-page")
			if name == "federated" {
				must("sign in at the partner", do(
					chromedp.Click(chromedp.CSS("#contoso-partner")),
					chromedp.WaitVisible(chromedp.CSS("#signInName")),
					chromedp.SendKeys(chromedp.CSS("#signInName"), info.Partner.Email),
					chromedp.SendKeys(chromedp.CSS("#password"), info.Partner.Password),
					chromedp.Click(chromedp.CSS("#next")),
					// Back from the partner (its form post): the flow's
					// attributes for the new federated account.
					chromedp.WaitVisible(chromedp.CSS("#displayName")),
				))
				must("back in the SPA", do(chromedp.Click(chromedp.CSS("#continue")), chromedp.WaitVisible(chromedp.CSS("#callapibtn"))))
				if m := message(); m != "Welcome, Pat Partner" {
					t.Fatalf("after the federated sign-in the SPA says %q", m)
				}
				must("call the API", do(chromedp.Click(chromedp.CSS("#callapibtn")),
					chromedp.Poll[chromedp.Void](`!document.getElementById("message").innerText.startsWith("Calling backend")`, chromedp.WithPollingTimeout(20*time.Second))))
				if m := message(); !strings.HasPrefix(m, "Hello World, time and date are ") {
					t.Fatalf("API call as the federated user: %q", m)
				}
				return
			}
			email := name + ".user@example.com"
			must("sign up", do(
				chromedp.Click(chromedp.CSS("#createAccount")),
				chromedp.WaitVisible(chromedp.CSS("#email")),
				chromedp.SendKeys(chromedp.CSS("#email"), email),
				chromedp.SendKeys(chromedp.CSS("#newPassword"), "Seed-004-Passw0rd"),
				chromedp.SendKeys(chromedp.CSS("#reenterPassword"), "Seed-004-Passw0rd"),
				chromedp.SendKeys(chromedp.CSS("#displayName"), "Seed User"),
			))
			shot("3-sign-up-page")
			must("back in the SPA", do(chromedp.Click(chromedp.CSS("#continue")), chromedp.WaitVisible(chromedp.CSS("#callapibtn"))))
			if m := message(); m != "Welcome, Seed User" {
				t.Fatalf("after sign-up the SPA says %q", m)
			}
			shot("4-signed-in")
			for call := 1; call <= 16; call++ {
				must("call the API", do(chromedp.Click(chromedp.CSS("#callapibtn")),
					chromedp.Poll[chromedp.Void](`!document.getElementById("message").innerText.startsWith("Calling backend")`, chromedp.WithPollingTimeout(20*time.Second))))
				m := message()
				switch {
				case call <= 15 && !strings.HasPrefix(m, "Hello World, time and date are "):
					t.Fatalf("call %d: %q", call, m)
				case call == 1:
					shot("5-hello")
				case call == 16:
					if !strings.HasPrefix(m, "Error: 429 Rate limit is exceeded. Try again in ") {
						t.Fatalf("16th call: %q", m)
					}
					shot("6-rate-limited")
				}
			}
		})
	}
}
