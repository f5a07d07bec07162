package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os/signal"
	"syscall"

	"github.com/gatehouse/gatehouse/internal/devstack"
)

// cmdDev runs the demo stack on embedded defaults until interrupted.
func cmdDev(args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("dev", flag.ContinueOnError)
	fl.SetOutput(stderr)
	data := fl.String("data", ".gatehouse", "data directory (development CA, dev.json)")
	host := fl.String("host", "127.0.0.1", "address to listen on")
	ports := fl.String("ports", "", `"auto" picks free ports instead of the defaults`)
	if err := fl.Parse(args); err != nil {
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
			fmt.Fprintf(stdout, "Gatehouse dev is running:\n  gateway   %s\n  hello API %s\n  function  %s\n  CA        %s (trust it to avoid browser warnings)\n  dev.json  %s/dev.json\n",
				i.GatewayURL, i.HelloURL, i.HelloFunctionURL, i.CACertificate, *data)
		})
	if err != nil {
		fmt.Fprintln(stderr, "gatehouse dev:", err)
		return 1
	}
	return 0
}
