package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/gatehouse/gatehouse/internal/devstack"
)

const devUsage = `usage: gatehouse dev [--data DIR] [--host ADDRESS] [--ports auto]
Runs seed 004 whole (identity, gateway, guard, site) over HTTPS on embedded
defaults with a demo tenant, and prints what to open.
`

// cmdDev runs the demo stack on embedded defaults until interrupted.
func cmdDev(args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("dev", flag.ContinueOnError)
	data := fl.String("data", ".gatehouse", "data directory `DIR` (development CA, database, dev.json)")
	host := fl.String("host", "127.0.0.1", "`ADDRESS` to listen on")
	ports := fl.String("ports", "", "`auto` picks free ports instead of the defaults (identity 8080, gateway 8081, guard 7071, site 3000)")
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
	log, _ := newLogger(stderr, "text", "info")
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	err := devstack.Run(ctx, devstack.Options{DataDir: *data, Host: *host, AutoPorts: *ports == "auto", Logger: log},
		func(i devstack.Info) {
			fmt.Fprintf(stdout, `Gatehouse dev is running (seed 004 on the demo tenant %q):
  authority   %s
  discovery   %s
  SPA app     client id %s, redirect URI %s
  API scope   %s
  daemon      client id %s (secret in dev.json)
  gateway     %s   hello API %s
  function    %s
  CA          %s (trust it to avoid browser warnings)
  dev.json    %s
  emails      %s
  admin       %s (metrics, health, pprof; loopback only)
  WARNING     %s holds the master key beside the database (owner-only files):
              anyone who can read this folder can decrypt every key. Demo use only.
`, i.Tenant, i.Authority, i.OpenIDConfiguration, i.SPA.ClientID, i.SPA.RedirectURI, i.API.Scope, i.Daemon.ClientID,
				i.GatewayURL, i.HelloURL, i.HelloFunctionURL, i.CACertificate, filepath.Join(*data, "dev.json"), i.Outbox,
				i.AdminURL, filepath.Join(*data, "tenant.json"))
		})
	if err != nil {
		fmt.Fprintln(stderr, "gatehouse dev:", err)
		return 1
	}
	return 0
}
