package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/internal/roles"
)

// cmdValidate loads a config and everything it references exactly as serve
// would, without listening, and reports every problem.
func cmdValidate(args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("validate", flag.ContinueOnError)
	fl.SetOutput(stderr)
	file := fl.String("config", "", "the config file (YAML)")
	if err := fl.Parse(args); err != nil {
		return 2
	}
	if *file == "" {
		fmt.Fprintln(stderr, "usage: gatehouse validate --config FILE")
		return 2
	}
	cfg, err := config.Load(*file)
	if err != nil {
		fmt.Fprintln(stdout, err)
		return 1
	}
	// Check never opens the configured store: validate is read-only.
	if err := roles.Check(cfg, roles.Options{Logger: slog.New(slog.DiscardHandler)}); err != nil {
		fmt.Fprintln(stdout, err)
		return 1
	}
	fmt.Fprintf(stdout, "OK %s\n", *file)
	return 0
}
