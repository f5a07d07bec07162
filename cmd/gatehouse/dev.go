package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/gatehouse/gatehouse/internal/devstack"
)

const devUsage = `usage: gatehouse dev [--data DIR] [--host ADDRESS] [--ports auto]
       gatehouse dev --print-config [--data DIR] [--host ADDRESS]
Runs seed 004 whole (identity, gateway, guard, site) over HTTPS on embedded
defaults with a demo tenant, and prints what to open.
`

// cmdDev runs the demo stack on embedded defaults until interrupted.
func cmdDev(args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("dev", flag.ContinueOnError)
	data := fl.String("data", ".gatehouse", "data directory `DIR` (development CA, database, dev.json)")
	host := fl.String("host", "127.0.0.1", "`ADDRESS` to listen on")
	ports := fl.String("ports", "", "`auto` picks free ports instead of the defaults (identity 8080, gateway 8081, guard 7071, site 3000)")
	printConfig := fl.Bool("print-config", false, "write the YAML config dev runs (default ports) to stdout, for gatehouse serve, and exit")
	pos, code, ok := parseArgs(fl, args, devUsage, stdout, stderr)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		fmt.Fprintf(stderr, "gatehouse dev: unexpected argument %q\n", pos[0])
		return 2
	}
	if *ports != "" && *ports != "auto" {
		fmt.Fprintln(stderr, `gatehouse dev: --ports takes "auto"`)
		return 2
	}
	if *printConfig {
		if err := devstack.PrintConfig(stdout, devstack.Options{DataDir: *data, Host: *host}); err != nil {
			fmt.Fprintln(stderr, "gatehouse dev:", err)
			return 1
		}
		return 0
	}
	log, _ := newLogger(stderr, "text", "info")
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	err := devstack.Run(ctx, devstack.Options{DataDir: *data, Host: *host, AutoPorts: *ports == "auto", Logger: log},
		func(i devstack.Info) { fmt.Fprint(stdout, devBanner(i, *data)) })
	if err != nil {
		fmt.Fprintln(stderr, "gatehouse dev:", err)
		if errors.Is(err, syscall.EADDRINUSE) && *ports != "auto" {
			fmt.Fprintln(stderr, "gatehouse dev: a default port is in use (another gatehouse dev?): run `gatehouse dev --ports auto` to pick free ports")
		}
		return 1
	}
	return 0
}

// devBanner is what dev prints once it listens: every URL with what it is
// for, the SPA to open first, and how to trust the development CA.
func devBanner(i devstack.Info, data string) string {
	ca := i.CACertificate
	var b strings.Builder
	fmt.Fprintf(&b, `Gatehouse dev is running: seed 004 on the demo tenant %q.

Open first
  SPA (seed 004's page, MSAL.js 2.11.1)  %s
  the same page on MSAL.js 5             %s
  admin console                          %s   (sign in as %s, password in dev.json)

Roles
  identity   %s
             authority  %s
             discovery  %s
  gateway    %s
             hello API  %s   (SPA -> gateway -> guard -> function)
  guard      %s
             function   %s
  admin      %s   (metrics, health, pprof; loopback only)
  partner    %s   (a second tenant, the "Contoso Partner" button: sign in there as %s, password in dev.json)
  MFA flow   %s   (an email code after sign-in, in the emails folder)

Apps
  SPA        client id %s, redirect URI %s
  API scope  %s
  daemon     client id %s (secret in dev.json)

Files
  dev.json   %s   (every URL, id and secret above)
  emails     %s
  CA         %s

Trust the CA once (HTTPS is required: MSAL.js refuses an http authority):
  Debian/Ubuntu  sudo cp %s /usr/local/share/ca-certificates/gatehouse-dev.crt && sudo update-ca-certificates
  macOS          sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain %s
  Windows        certutil -addstore -f ROOT %s
  Firefox (and Chromium on Linux) keep their own store (NSS): import %s under
                 Settings > Privacy & Security > Certificates > View Certificates > Authorities,
                 or: certutil -d sql:$HOME/.pki/nssdb -A -t C,, -n gatehouse-dev -i %s

Run it with gatehouse serve: gatehouse dev --print-config --data %s > gatehouse.yaml

WARNING  %s holds the master key beside the database (owner-only files):
         anyone who can read this folder can decrypt every key. Demo use only.
`, i.Tenant, i.SPA.URL, i.SPA.MSAL5URL, i.Console.URL, i.Console.Email, i.IdentityURL, i.Authority, i.OpenIDConfiguration, i.GatewayURL, i.HelloURL,
		i.GuardURL, i.HelloFunctionURL, i.AdminURL, i.Partner.IdentityURL, i.Partner.Email, i.MFAAuthority, i.SPA.ClientID, i.SPA.RedirectURI, i.API.Scope, i.Daemon.ClientID,
		filepath.Join(data, "dev.json"), i.Outbox, ca, ca, ca, ca, ca, ca, data, filepath.Join(data, "tenant.json"))
	return b.String()
}
