package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// completionWords are the commands, subcommands and flags the completion
// scripts offer ("" is the top level; "users create" a subcommand).
var completionWords = map[string][]string{
	"":                    {"dev", "serve", "validate", "policy", "import", "users", "keys", "completion", "healthcheck", "version", "help"},
	"policy":              {"check"},
	"import":              {"apiops"},
	"import apiops":       {"--configuration", "--out"},
	"users":               {"create", "list", "delete", "reset-mfa"},
	"keys":                {"add", "list", "delete", "rotate-signing"},
	"completion":          {"bash", "zsh", "fish"},
	"dev":                 {"--data", "--host", "--ports", "--print-config"},
	"serve":               {"--config", "--log-format", "--log-level", "--shutdown-timeout", "--pprof-listen"},
	"validate":            {"--config", "--json"},
	"policy check":        {"--scope", "--json"},
	"users create":        {"--config", "--data", "--email", "--password", "--password-file", "--password-stdin", "--display-name"},
	"users list":          {"--config", "--data", "--json"},
	"users delete":        {"--config", "--data", "--email"},
	"keys add":            {"--config", "--data", "--name", "--secret-file", "--pfx", "--password", "--password-file", "--password-stdin", "--pem", "--generate", "--use", "--not-before", "--expires"},
	"keys list":           {"--config", "--data", "--json"},
	"keys delete":         {"--config", "--data", "--name"},
	"keys rotate-signing": {"--config", "--data"},
	"healthcheck":         {"--url", "--timeout", "--insecure", "--any-host"},
}

const completionUsage = `usage: gatehouse completion bash|zsh|fish
prints a completion script:
  bash: source <(gatehouse completion bash)        (or save it in /etc/bash_completion.d/gatehouse)
  zsh:  source <(gatehouse completion zsh)         (in ~/.zshrc)
  fish: gatehouse completion fish > ~/.config/fish/completions/gatehouse.fish
`

func cmdCompletion(args []string, stdout, stderr io.Writer) int {
	if len(args) == 1 && isHelp(args[0]) {
		fmt.Fprint(stdout, completionUsage)
		return 0
	}
	if len(args) != 1 {
		fmt.Fprint(stderr, completionUsage)
		return 2
	}
	switch args[0] {
	case "bash":
		fmt.Fprint(stdout, bashCompletion())
	case "zsh":
		fmt.Fprint(stdout, "#compdef gatehouse\nautoload -U +X bashcompinit && bashcompinit\n"+bashCompletion())
	case "fish":
		fmt.Fprint(stdout, fishCompletion())
	default:
		fmt.Fprintf(stderr, "gatehouse completion: unknown shell %q\n%s", args[0], completionUsage)
		return 2
	}
	return 0
}

func completionKeys() []string {
	keys := make([]string, 0, len(completionWords))
	for k := range completionWords {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func bashCompletion() string {
	var b strings.Builder
	b.WriteString(`# bash completion for gatehouse
_gatehouse() {
  local cur="${COMP_WORDS[COMP_CWORD]}" key="" words=""
  if [ "$COMP_CWORD" -ge 2 ]; then key="${COMP_WORDS[1]}"; fi
  if [ "$COMP_CWORD" -ge 3 ]; then
    case "${COMP_WORDS[1]}" in policy|users|keys) key="${COMP_WORDS[1]} ${COMP_WORDS[2]}";; esac
  fi
  case "$key" in
`)
	for _, k := range completionKeys() {
		fmt.Fprintf(&b, "    %q) words=%q;;\n", k, strings.Join(completionWords[k], " "))
	}
	b.WriteString(`  esac
  if [ -n "$words" ] && { [[ "$cur" == -* ]] || [ "$key" = "" ] || [[ "$words" != -* ]]; }; then
    COMPREPLY=($(compgen -W "$words" -- "$cur"))
  else
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
}
complete -o filenames -o bashdefault -F _gatehouse gatehouse
`)
	return b.String()
}

func fishCompletion() string {
	var b strings.Builder
	b.WriteString("# fish completion for gatehouse\ncomplete -c gatehouse -f -n __fish_use_subcommand -a " + fmt.Sprintf("%q", strings.Join(completionWords[""], " ")) + "\n")
	for _, k := range completionKeys() {
		if k == "" {
			continue
		}
		parts := strings.Fields(k)
		cond := "__fish_seen_subcommand_from " + parts[0]
		if len(parts) == 2 {
			cond += "; and __fish_seen_subcommand_from " + parts[1]
		}
		for _, w := range completionWords[k] {
			if name, ok := strings.CutPrefix(w, "--"); ok {
				fmt.Fprintf(&b, "complete -c gatehouse -n %q -l %s\n", cond, name)
			} else {
				fmt.Fprintf(&b, "complete -c gatehouse -f -n %q -a %s\n", cond, w)
			}
		}
	}
	return b.String()
}
