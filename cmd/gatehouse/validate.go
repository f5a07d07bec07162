package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/internal/roles"
)

// cmdValidate loads a config and everything it references exactly as serve
// would, without listening, and reports every problem.
func cmdValidate(args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("validate", flag.ContinueOnError)
	file := configFlag(fl, "the config `FILE` (YAML)")
	asJSON := fl.Bool("json", false, `print {"file", "ok", "problems": [{"file", "line", "col", "message"}]}`)
	pos, code, ok := parseArgs(fl, args, validateUsage, stdout, stderr)
	if !ok {
		return code
	}
	if *file == "" || len(pos) > 0 {
		fmt.Fprint(stderr, validateUsage)
		return 2
	}
	err := validateConfig(*file)
	if *asJSON {
		var lines []string
		if err != nil {
			lines = strings.Split(err.Error(), "\n")
		}
		writeJSON(stdout, struct {
			File     string    `json:"file"`
			OK       bool      `json:"ok"`
			Problems []problem `json:"problems"`
		}{*file, err == nil, toProblems(*file, lines)})
	} else if err != nil {
		fmt.Fprintln(stdout, err)
	} else {
		fmt.Fprintf(stdout, "OK %s\n", *file)
	}
	if err != nil {
		return 1
	}
	return 0
}

const validateUsage = `usage: gatehouse validate --config FILE [--json]
Checks a config and every file it references (policies, custom policies,
certificates, secrets) as serve would, without opening its database or
listening. Problems are printed as FILE:LINE:COL: MESSAGE; exit 1 on any.
`

// validateConfig loads and checks a config; Check never opens the
// configured store: validate is read-only.
func validateConfig(file string) error {
	cfg, err := config.Load(file)
	if err != nil {
		return err
	}
	return roles.Check(cfg, roles.Options{Logger: slog.New(slog.DiscardHandler)})
}
