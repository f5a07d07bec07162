package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/gatehouse/gatehouse/apim"
)

const policyCheckUsage = `usage: gatehouse policy check [--scope SCOPE] [--json] FILE|DIR...
Parses APIM policy XML (rawxml and escaped forms, <policies> and <fragment>
roots) and prints "OK FILE" or FILE:LINE:COL: PROBLEM per problem; exit 1
if any. A directory stands for the .xml files below it.
`

// cmdPolicyCheck parses policy files the way the gateway loads them and
// prints "OK FILE" or one "FILE:line:col: problem" line per problem.
// Named values and fragments that belong to another environment are not
// problems here (the files are checked on their own).
func cmdPolicyCheck(args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("policy check", flag.ContinueOnError)
	scopeName := fl.String("scope", "", "check at one `SCOPE` only: global, product, api or operation (default: a file is OK if it loads at some scope)")
	asJSON := fl.Bool("json", false, `print {"ok", "files": [{"file", "ok"}], "problems": [{"file", "line", "col", "message"}]}`)
	pos, code, ok := parseArgs(fl, args, policyCheckUsage, stdout, stderr)
	if !ok {
		return code
	}
	if len(pos) == 0 {
		fmt.Fprint(stderr, policyCheckUsage)
		return 2
	}
	scopes := []apim.Scope{apim.ScopeGlobal, apim.ScopeProduct, apim.ScopeAPI, apim.ScopeOperation}
	if *scopeName != "" {
		s, ok := parseScope(*scopeName)
		if !ok {
			fmt.Fprintf(stderr, "gatehouse: unknown scope %q (global, product, api, operation)\n", *scopeName)
			return 2
		}
		scopes = []apim.Scope{s}
	}
	files, err := expandPolicyArgs(pos)
	if err != nil {
		fmt.Fprintln(stderr, "gatehouse:", err)
		return 1
	}
	failed := 0
	if *asJSON {
		type fileJSON struct {
			File string `json:"file"`
			OK   bool   `json:"ok"`
		}
		out := struct {
			OK       bool       `json:"ok"`
			Files    []fileJSON `json:"files"`
			Problems []problem  `json:"problems"`
		}{Files: []fileJSON{}, Problems: []problem{}}
		for _, f := range files {
			problems := checkPolicyFile(f, scopes)
			if len(problems) > 0 {
				failed++
			}
			out.Files = append(out.Files, fileJSON{f, len(problems) == 0})
			out.Problems = append(out.Problems, toProblems(f, problems)...)
		}
		out.OK = failed == 0
		writeJSON(stdout, out)
		if failed > 0 {
			return 1
		}
		return 0
	}
	for _, f := range files {
		problems := checkPolicyFile(f, scopes)
		if len(problems) == 0 {
			fmt.Fprintln(stdout, "OK", f)
			continue
		}
		failed++
		for _, p := range problems {
			fmt.Fprintln(stdout, p)
		}
	}
	fmt.Fprintf(stderr, "%d of %d files OK\n", len(files)-failed, len(files))
	if failed > 0 {
		return 1
	}
	return 0
}

func parseScope(s string) (apim.Scope, bool) {
	for _, sc := range []apim.Scope{apim.ScopeGlobal, apim.ScopeProduct, apim.ScopeAPI, apim.ScopeOperation} {
		if sc.String() == s {
			return sc, true
		}
	}
	return 0, false
}

// expandPolicyArgs turns directories into the .xml files below them.
func expandPolicyArgs(args []string) ([]string, error) {
	var files []string
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			files = append(files, a)
			continue
		}
		var found []string
		err = filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.EqualFold(filepath.Ext(p), ".xml") {
				found = append(found, p)
			}
			return err
		})
		if err != nil {
			return nil, err
		}
		sort.Strings(found)
		files = append(files, found...)
	}
	return files, nil
}

// checkPolicyFile returns the problems of one file as printable lines. A
// <fragment> root is checked as a fragment; a <policies> document at each
// given scope, keeping the scope with the fewest problems.
func checkPolicyFile(file string, scopes []apim.Scope) []string {
	src, err := os.ReadFile(file)
	if err != nil {
		return []string{fmt.Sprintf("%s:1:1: %v", file, err)}
	}
	opts := &apim.LoadOptions{Lenient: true}
	if isFragment(src) {
		_, err := apim.ParseFragment(file, src, opts)
		return problemLines(file, err)
	}
	var best []string
	for i, s := range scopes {
		_, err := apim.ParseDocument(file, src, s, opts)
		lines := problemLines(file, err)
		if i == 0 || len(lines) < len(best) {
			best = lines
		}
		if len(best) == 0 {
			break
		}
	}
	return best
}

// isFragment peeks at the root element name without a full parse.
func isFragment(src []byte) bool {
	s := src
	for {
		s = bytes.TrimLeft(s, "\ufeff \t\r\n")
		switch {
		case bytes.HasPrefix(s, []byte("<!--")):
			end := bytes.Index(s, []byte("-->"))
			if end < 0 {
				return false
			}
			s = s[end+3:]
		case bytes.HasPrefix(s, []byte("<?")):
			end := bytes.Index(s, []byte("?>"))
			if end < 0 {
				return false
			}
			s = s[end+2:]
		default:
			return bytes.HasPrefix(s, []byte("<fragment"))
		}
	}
}

func problemLines(file string, err error) []string {
	if err == nil {
		return nil
	}
	var ps apim.Problems
	if errors.As(err, &ps) {
		lines := make([]string, len(ps))
		for i, p := range ps {
			lines[i] = p.Error()
		}
		return lines
	}
	return []string{fmt.Sprintf("%s:1:1: %v", file, err)}
}
