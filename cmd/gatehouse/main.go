// Command gatehouse runs Gatehouse's roles (identity, gateway, guard, site)
// and its maintenance commands. This file only parses the command line and
// wires packages together; the logic lives in the packages.
package main

import (
	"fmt"
	"io"
	"os"
)

const usage = `gatehouse — a self-hosted Azure AD B2C + API Management replacement

Usage:
  gatehouse dev [--data DIR] [--host H] [--ports auto]   the demo stack on embedded defaults
  gatehouse dev --print-config          the YAML config dev runs, for gatehouse serve
  gatehouse serve --config FILE        run the roles present in the config
  gatehouse validate --config FILE [--json]   check a config and every file it references
  gatehouse policy check [--json] FILE|DIR...  check APIM policy XML files
  gatehouse import apiops DIR [--configuration F] --out FILE
                                       an APIOps extractor folder as gateway configuration
  gatehouse users create --email E (--password P | --password-file F | --password-stdin) [--display-name N]
  gatehouse users list [--json] | users delete --email E
                                       local accounts (--config FILE or --data DIR)
  gatehouse keys add|list|delete|rotate-signing
                                       policy keys, B2C_1A_ containers (--config FILE or --data DIR)
  gatehouse completion bash|zsh|fish   shell completion script
  gatehouse healthcheck [--url URL]    exit 0 when a health URL answers 2xx (container HEALTHCHECK)
  gatehouse version

--config defaults to $GATEHOUSE_CONFIG. Flags may come before or after arguments.
Run 'gatehouse help COMMAND' or 'gatehouse COMMAND --help' for a command's flags.
`

// version is set at build time with -ldflags "-X main.version=..."; without
// it the module version of `go install ...@version` is printed.
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run dispatches a command and returns the process exit code: 0 success,
// 1 a problem found (invalid config or policy), 2 bad usage.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "dev":
		return cmdDev(args[1:], stdout, stderr)
	case "serve":
		return cmdServe(args[1:], stdout, stderr)
	case "validate":
		return cmdValidate(args[1:], stdout, stderr)
	case "policy":
		if len(args) >= 2 && isHelp(args[1]) {
			fmt.Fprint(stdout, policyUsage)
			return 0
		}
		if len(args) < 2 || args[1] != "check" {
			fmt.Fprint(stderr, policyUsage)
			return 2
		}
		return cmdPolicyCheck(args[2:], stdout, stderr)
	case "users":
		return cmdUsers(args[1:], stdout, stderr)
	case "import":
		return cmdImport(args[1:], stdout, stderr)
	case "keys":
		return cmdKeys(args[1:], stdout, stderr)
	case "completion":
		return cmdCompletion(args[1:], stdout, stderr)
	case "healthcheck":
		return cmdHealthcheck(args[1:], stdout, stderr)
	case "version", "--version":
		if len(args) > 1 && isHelp(args[1]) {
			fmt.Fprintln(stdout, "usage: gatehouse version\nprints the version, the VCS revision and the Go version of the build")
			return 0
		}
		fmt.Fprintln(stdout, versionString())
		return 0
	case "help", "-h", "--help":
		if len(args) > 1 && args[0] == "help" && !isHelp(args[1]) {
			// gatehouse help X [Y] is gatehouse X [Y] --help.
			return run(append(append([]string(nil), args[1:]...), "--help"), stdout, stderr)
		}
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "gatehouse: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
}

const policyUsage = `usage: gatehouse policy check [--scope S] [--json] FILE|DIR...
Run 'gatehouse policy check --help' for its flags.
`
