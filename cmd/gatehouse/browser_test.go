package main

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
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

// chromium is a headless Chromium tab on `gatehouse dev`, trusting its
// server certificate by pin.
type chromium struct {
	t       *testing.T
	ctx     context.Context
	console lockedBuffer // the page's console and failed requests
	shots   string       // where screenshots go ("" = none)
	prefix  string       // of the screenshots' file names
}

// needChromium skips the test without Debian's Chromium (fails it in CI).
func needChromium(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if isCI() {
			t.Fatalf("%s missing: .ci/run installs Debian's chromium", chromiumPath)
		}
		t.Skipf("%s missing: apt-get install -y chromium", chromiumPath)
	}
}

// newChromium starts Chromium for a test (stopped when it ends); shots,
// when not empty, is the folder screenshots are written to.
func newChromium(t *testing.T, data, shots, prefix string) *chromium {
	t.Helper()
	needChromium(t)
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
	t.Cleanup(cancel)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	c := &chromium{t: t, ctx: ctx, shots: shots, prefix: prefix}
	if err := chromedp.Listen(ctx, func(ev any) {
		switch e := ev.(type) {
		case *cdpruntime.EventConsoleAPICalled:
			for _, a := range e.Args {
				c.console.WriteString(string(e.Type) + ": " + string(a.Value) + a.Description + "\n")
			}
		case *cdpruntime.EventExceptionThrown:
			c.console.WriteString("exception: " + e.ExceptionDetails.Text + "\n")
		case *network.EventLoadingFailed:
			c.console.WriteString("request failed: " + e.ErrorText + " " + string(e.BlockedReason) + "\n")
		}
	}); err != nil {
		t.Fatal(err)
	}
	// The first run starts the browser and ties it to ctx (not to a
	// step's shorter deadline).
	if err := chromedp.Do(ctx); err != nil {
		t.Fatal(err)
	}
	return c
}

// do runs one step with its own deadline, so the tab stays usable for
// diagnostics when a step times out.
func (c *chromium) do(actions ...chromedp.Action[chromedp.Void]) error {
	sctx, cancel := context.WithTimeout(c.ctx, 30*time.Second)
	defer cancel()
	return chromedp.Do(sctx, actions...)
}

// must fails the test when a step failed, saying where the browser is and
// what it shows.
func (c *chromium) must(what string, err error) {
	c.t.Helper()
	if err != nil {
		loc, _ := chromedp.Run(c.ctx, chromedp.Location())
		body, _ := chromedp.Run(c.ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText.slice(0, 600) : ""`))
		c.t.Fatalf("%s: %v\nat %s\n%s\nconsole:\n%s", what, err, loc, body, c.console.String())
	}
}

// shot saves a full-page screenshot named prefix+step+".png".
func (c *chromium) shot(step string) {
	if c.shots == "" {
		return
	}
	png, err := chromedp.Run(c.ctx, chromedp.FullScreenshot(100))
	if err == nil {
		os.WriteFile(filepath.Join(c.shots, c.prefix+step+".png"), png, 0o644)
	}
}

// TestBrowserSeed004 is seed 004 in headless Chromium: a new user signs up
// through the hosted pages from the seed's SPA (MSAL.js), signs in, calls
// the API through the gateway, and the 16th call within a minute shows the
// rate-limit message. Both the seed's MSAL 2.11.1 and MSAL 5 are driven.
func TestBrowserSeed004(t *testing.T) {
	needChromium(t)
	dev := startDev(t)
	info, data := dev.info, dev.data
	shots := os.Getenv("GATEHOUSE_SCREENSHOTS") // set to docs/ to refresh the README's pictures

	// msal2 and msal5 sign up a local account; federated signs in through
	// dev's partner tenant ("Contoso Partner", an OpenID Connect provider).
	for i, page := range []string{info.SPA.URL, info.SPA.MSAL5URL, info.SPA.URL} {
		name := []string{"msal2", "msal5", "federated"}[i]
		t.Run(name, func(t *testing.T) {
			br := newChromium(t, data, shots, "seed004-"+name+"-")
			ctx, do, must, shot := br.ctx, br.do, br.must, br.shot
			message := func() string {
				s, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#message")))
				return s
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

// a11yProblems is a page's accessibility faults the console must not
// have: a form control without a label, not one h1, no main landmark or
// language, a table without a caption, a button or link without a name,
// an id used twice.
const a11yProblems = `(() => {
  const p = [];
  document.querySelectorAll('input:not([type=hidden]), select, textarea').forEach(e => {
    if (!e.labels || e.labels.length === 0) p.push('unlabelled control ' + (e.id || e.name));
  });
  if (document.querySelectorAll('h1').length !== 1) p.push('not one h1');
  if (!document.querySelector('main')) p.push('no main landmark');
  if (!document.documentElement.lang) p.push('no page language');
  document.querySelectorAll('table').forEach(t => {
    if (!t.querySelector('caption') && !t.getAttribute('aria-labelledby')) p.push('table without caption');
  });
  document.querySelectorAll('button, a').forEach(e => {
    if (!(e.innerText || e.getAttribute('aria-label') || '').trim()) p.push('control without a name');
  });
  document.querySelectorAll('[id]').forEach(e => {
    if (document.querySelectorAll('#' + CSS.escape(e.id)).length > 1) p.push('id used twice: ' + e.id);
  });
  return p.join('; ');
})()`

// TestBrowserConsole is the admin console in headless Chromium on
// `gatehouse dev`: the administrator from dev.json signs in through the
// tenant's sign-in page, creates a user (by keyboard), disables it and
// sees both changes in the audit log. Every page visited passes the
// accessibility checks, and the skip link is the first Tab stop.
// GATEHOUSE_SCREENSHOTS=docs refreshes the README's pictures.
func TestBrowserConsole(t *testing.T) {
	needChromium(t)
	dev := startDev(t)
	info := dev.info
	if info.Console.URL == "" || info.Console.Email == "" || info.Console.Password == "" {
		t.Fatalf("dev.json has no console: %+v", info.Console)
	}
	br := newChromium(t, dev.data, os.Getenv("GATEHOUSE_SCREENSHOTS"), "console-")
	accessible := func(page string) {
		t.Helper()
		p, err := chromedp.Run(br.ctx, chromedp.Evaluate[string](a11yProblems))
		br.must("accessibility check of "+page, err)
		if p != "" {
			t.Fatalf("%s: %s", page, p)
		}
	}
	text := func(sel string) string {
		s, _ := chromedp.Run(br.ctx, chromedp.Text(chromedp.CSS(sel)))
		return s
	}
	br.must("open the console", br.do(chromedp.Navigate(info.Console.URL), chromedp.WaitVisible(chromedp.CSS("#signInName"))))
	br.shot("1-sign-in")
	br.must("sign in", br.do(
		chromedp.SendKeys(chromedp.CSS("#signInName"), info.Console.Email),
		chromedp.SendKeys(chromedp.CSS("#password"), info.Console.Password),
		chromedp.Click(chromedp.CSS("#next")),
		chromedp.WaitVisible(chromedp.CSS(".cards")),
	))
	if h := text("h1"); h != "Overview" {
		t.Fatalf("after sign-in: %q", h)
	}
	accessible("overview")
	br.shot("2-overview")
	// The first Tab stop skips to the content.
	br.must("tab to the skip link", br.do(chromedp.KeyEvent("\t")))
	if f, _ := chromedp.Run(br.ctx, chromedp.Evaluate[string](`document.activeElement.className`)); f != "skip" {
		t.Fatalf("first Tab stop: %q", f)
	}
	br.must("follow the skip link", br.do(chromedp.KeyEvent("\r")))
	if f, _ := chromedp.Run(br.ctx, chromedp.Evaluate[string](`document.activeElement.id`)); f != "main" {
		t.Fatalf("the skip link moved the focus to %q", f)
	}

	br.must("users", br.do(chromedp.Click(chromedp.CSS(`nav.sections a[href$="/console/users"]`)), chromedp.WaitVisible(chromedp.CSS("#q"))))
	accessible("users")
	br.must("new user", br.do(chromedp.Click(chromedp.CSS(`a.button[href$="/users/new"]`)), chromedp.WaitVisible(chromedp.CSS("#email"))))
	accessible("new user")
	br.must("create a user by keyboard", br.do(
		chromedp.SendKeys(chromedp.CSS("#email"), "grace@contoso.example"),
		chromedp.SendKeys(chromedp.CSS("#displayName"), "Grace Hopper"),
		chromedp.SendKeys(chromedp.CSS("#password"), "Cobol-1959-Navy"),
		chromedp.KeyEvent("\r"),
		chromedp.WaitVisible(chromedp.CSS("p.message")),
	))
	if m := text("p.message"); m != "The user was created." {
		t.Fatalf("after create: %q", m)
	}
	accessible("user")
	br.shot("3-user-created")
	br.must("disable the user", br.do(
		chromedp.Click(chromedp.CSS(`form[aria-labelledby="access"] button`)),
		chromedp.WaitVisible(chromedp.CSS("dl.facts .badge.bad")),
	))
	if m := text("p.message"); !strings.HasPrefix(m, "The account is disabled") || !strings.Contains(text("dl.facts"), "disabled") {
		t.Fatalf("after disable: %q", m)
	}
	br.shot("4-user-disabled")
	br.must("audit log", br.do(chromedp.Click(chromedp.CSS(`nav.sections a[href$="/console/audit"]`)), chromedp.WaitVisible(chromedp.CSS("#user"))))
	accessible("audit log")
	log := text("table")
	if !strings.Contains(log, "users.create") || !strings.Contains(log, "users.update") || !strings.Contains(log, "disabled=true") {
		t.Fatalf("audit log:\n%s", log)
	}
	br.shot("5-audit-log")
	for _, page := range []string{"apps", "flows", "keys", "connectors", "audit?log=signIns"} {
		br.must(page, br.do(chromedp.Navigate(info.Console.URL+page), chromedp.WaitVisible(chromedp.CSS("main h1"))))
		accessible(page)
		if page == "keys" {
			br.shot("6-keys")
		}
	}
}
