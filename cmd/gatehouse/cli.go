package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
)

// configEnv names the default of --config.
const configEnv = "GATEHOUSE_CONFIG"

// configFlag defines --config with GATEHOUSE_CONFIG as its default.
func configFlag(fl *flag.FlagSet, usage string) *string {
	return fl.String("config", os.Getenv(configEnv), usage+" (default $"+configEnv+")")
}

// isHelp reports whether a is a request for help.
func isHelp(a string) bool { return a == "-h" || a == "--help" || a == "-help" || a == "help" }

// parseArgs parses fl's flags wherever they appear among args (Go's flag
// package stops at the first argument; "--" still ends the flags) and
// returns the arguments. -h or --help prints help (the synopsis, then the
// flags) on stdout: ok is false and code 0. A bad flag is reported on
// stderr with a pointer to --help: ok false, code 2.
func parseArgs(fl *flag.FlagSet, args []string, synopsis string, stdout, stderr io.Writer) (pos []string, code int, ok bool) {
	for _, a := range args {
		if a == "--" {
			break
		}
		if a == "-h" || a == "--help" || a == "-help" {
			printHelp(stdout, fl, synopsis)
			return nil, 0, false
		}
	}
	fl.SetOutput(io.Discard)
	fl.Usage = func() {}
	for {
		if err := fl.Parse(args); err != nil {
			fmt.Fprintf(stderr, "gatehouse %s: %v\nRun 'gatehouse %s --help' for its flags.\n", fl.Name(), err, fl.Name())
			return nil, 2, false
		}
		rest := fl.Args()
		used := len(args) - len(rest)
		if len(rest) == 0 || (used > 0 && args[used-1] == "--") {
			return append(pos, rest...), 0, true
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// printHelp writes a command's synopsis and flags, each flag as --name
// VALUE with its usage below.
func printHelp(w io.Writer, fl *flag.FlagSet, synopsis string) {
	fmt.Fprint(w, strings.TrimRight(synopsis, "\n")+"\n")
	n := 0
	fl.VisitAll(func(*flag.Flag) { n++ })
	if n == 0 {
		return
	}
	fmt.Fprintln(w, "\nFlags:")
	fl.VisitAll(func(f *flag.Flag) {
		name, usage := flag.UnquoteUsage(f)
		line := "  --" + f.Name
		if name != "" {
			line += " " + name
		}
		fmt.Fprintln(w, line)
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" && f.DefValue != "0s" && !strings.Contains(usage, "(default") {
			usage += fmt.Sprintf(" (default %s)", f.DefValue)
		}
		fmt.Fprintf(w, "        %s\n", usage)
	})
}

// versionString is the -ldflags "-X main.version=..." value or the module
// version, with the VCS revision and the Go version from the build info.
func versionString() string {
	v := version
	var rev, at string
	modified := false
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.time":
				at = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	var extra []string
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if modified {
			rev += "+modified"
		}
		extra = append(extra, "revision "+rev)
	}
	if at != "" {
		extra = append(extra, at)
	}
	extra = append(extra, runtime.Version(), runtime.GOOS+"/"+runtime.GOARCH)
	return "gatehouse " + v + " (" + strings.Join(extra, ", ") + ")"
}

// problem is one entry of --json output (validate, policy check).
type problem struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Col     int    `json:"col"`
	Message string `json:"message"`
}

var problemLine = regexp.MustCompile(`^(.+?):(\d+):(\d+): (.*)$`)

// toProblems splits "file:line:col: message" lines; a line without a
// position is a problem of file at line 0, col 0.
func toProblems(file string, lines []string) []problem {
	out := []problem{}
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		if m := problemLine.FindStringSubmatch(l); m != nil {
			line, _ := strconv.Atoi(m[2])
			col, _ := strconv.Atoi(m[3])
			out = append(out, problem{File: m[1], Line: line, Col: col, Message: m[4]})
			continue
		}
		out = append(out, problem{File: file, Message: l})
	}
	return out
}

func writeJSON(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

// readPassword takes a password from exactly one of --password,
// --password-file (a trailing newline dropped) or --password-stdin.
func readPassword(pw, file string, stdin bool, in io.Reader) (string, error) {
	n := 0
	for _, set := range []bool{pw != "", file != "", stdin} {
		if set {
			n++
		}
	}
	if n > 1 {
		return "", errors.New("give one of --password, --password-file, --password-stdin")
	}
	switch {
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("--password-file: %w", err)
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	case stdin:
		b, err := io.ReadAll(io.LimitReader(in, 1<<16))
		if err != nil {
			return "", fmt.Errorf("--password-stdin: %w", err)
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
	return pw, nil
}
