package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"

	"go.yaml.in/yaml/v3"

	"github.com/gatehouse/gatehouse/internal/config"
)

const importUsage = `usage:
  gatehouse import apiops DIR [--configuration configuration.{env}.yaml] --out gatehouse.yaml

Writes the gateway configuration an APIOps extractor folder amounts to (the same that
gateway.apiops serves): APIs with their operations and policies, products, subscriptions,
named values, backends, policy fragments and the global policy. Secrets read from the
environment are written as env: references, never as values. What is not served (loggers,
diagnostics, GraphQL/SOAP/WADL APIs ...) is listed on stderr.
`

// cmdImport is `gatehouse import apiops`.
func cmdImport(args []string, stdout, stderr io.Writer) int {
	if slices.ContainsFunc(args, isHelp) {
		fmt.Fprint(stdout, importUsage)
		return 0
	}
	if len(args) < 2 || args[0] != "apiops" {
		fmt.Fprint(stderr, importUsage)
		return 2
	}
	dir := args[1]
	fl := flag.NewFlagSet("import apiops", flag.ContinueOnError)
	fl.SetOutput(stderr)
	overrides := fl.String("configuration", "", "the APIOps publisher's override file (configuration.{env}.yaml)")
	out := fl.String("out", "", "the gateway configuration to write (it must not exist)")
	if err := fl.Parse(args[2:]); err != nil {
		return 2
	}
	if *out == "" || fl.NArg() > 0 {
		fmt.Fprint(stderr, importUsage)
		return 2
	}
	absDir, err := filepath.Abs(dir)
	if err != nil {
		fmt.Fprintln(stderr, "gatehouse import apiops:", err)
		return 1
	}
	src := fmt.Sprintf("gateway:\n  listen: 127.0.0.1:8080\n  apiops:\n    dir: %q\n", absDir)
	if *overrides != "" {
		abs, err := filepath.Abs(*overrides)
		if err != nil {
			fmt.Fprintln(stderr, "gatehouse import apiops:", err)
			return 1
		}
		src += fmt.Sprintf("    configuration: %q\n", abs)
	}
	cwd, _ := os.Getwd()
	cfg, err := config.Parse(filepath.Join(cwd, "(import)"), []byte(src), os.LookupEnv)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	outAbs, err := filepath.Abs(*out)
	if err != nil {
		fmt.Fprintln(stderr, "gatehouse import apiops:", err)
		return 1
	}
	b, err := yaml.Marshal(map[string]any{"gateway": importedGateway(cfg.Gateway, filepath.Dir(outAbs))})
	if err != nil {
		fmt.Fprintln(stderr, "gatehouse import apiops:", err)
		return 1
	}
	f, err := os.OpenFile(outAbs, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			fmt.Fprintf(stderr, "gatehouse import apiops: %s exists; it is not overwritten\n", *out)
		} else {
			fmt.Fprintln(stderr, "gatehouse import apiops:", err)
		}
		return 1
	}
	header := "# Written by `gatehouse import apiops " + dir + "`: the folder as Gatehouse configuration.\n"
	if _, err := f.WriteString(header + string(b)); err != nil {
		f.Close()
		fmt.Fprintln(stderr, "gatehouse import apiops:", err)
		return 1
	}
	if err := f.Close(); err != nil {
		fmt.Fprintln(stderr, "gatehouse import apiops:", err)
		return 1
	}
	for _, n := range cfg.Gateway.NotServed {
		fmt.Fprintln(stderr, "not served:", n)
	}
	fmt.Fprintf(stdout, "wrote %s: %d APIs, %d products\n", *out, len(cfg.Gateway.Apis), len(cfg.Gateway.Products))
	return 0
}

// importedGateway is the YAML of a gateway section read from an APIOps
// folder, with paths relative to base (the output file's folder).
func importedGateway(g *config.Gateway, base string) map[string]any {
	rel := func(p config.Path) string {
		if r, err := filepath.Rel(base, p.Abs); err == nil {
			return r
		}
		return p.Abs
	}
	secret := func(s config.Secret) string {
		if s.Env != "" {
			return "env:" + s.Env
		}
		return s.Value
	}
	out := map[string]any{"listen": g.Listen}
	if g.Policy.IsSet() {
		out["policy"] = rel(g.Policy)
	}
	if len(g.NamedValues) > 0 {
		nv := map[string]string{}
		for k, v := range g.NamedValues {
			nv[k] = secret(v)
		}
		out["namedValues"] = nv
	}
	if len(g.Fragments) > 0 {
		fr := map[string]string{}
		for k, v := range g.Fragments {
			fr[k] = rel(v)
		}
		out["fragments"] = fr
	}
	if len(g.Backends) > 0 {
		bs := map[string]any{}
		for k, v := range g.Backends {
			bs[k] = map[string]string{"url": v.URL}
		}
		out["backends"] = bs
	}
	var apis []map[string]any
	for _, a := range g.Apis {
		m := map[string]any{"name": a.Name, "path": a.Path, "serviceUrl": a.ServiceURL}
		if a.SubscriptionRequired != nil {
			m["subscriptionRequired"] = *a.SubscriptionRequired
		}
		if a.Policy.IsSet() {
			m["policy"] = rel(a.Policy)
		}
		if a.Specification.IsSet() {
			m["specification"] = rel(a.Specification)
		}
		if a.SubscriptionKeyHeader != "" {
			m["subscriptionKeyHeader"] = a.SubscriptionKeyHeader
		}
		if a.SubscriptionKeyQuery != "" {
			m["subscriptionKeyQuery"] = a.SubscriptionKeyQuery
		}
		if v := a.Version; v != nil {
			vm := map[string]string{"name": v.Name}
			if v.Header != "" {
				vm["header"] = v.Header
			} else {
				vm["query"] = v.Query
			}
			m["version"] = vm
		}
		var ops []map[string]any
		for _, o := range a.Operations {
			om := map[string]any{"name": o.Name, "method": o.Method, "urlTemplate": o.URLTemplate}
			if o.Policy.IsSet() {
				om["policy"] = rel(o.Policy)
			}
			ops = append(ops, om)
		}
		if len(ops) > 0 {
			m["operations"] = ops
		}
		apis = append(apis, m)
	}
	if len(apis) > 0 {
		out["apis"] = apis
	}
	var prods []map[string]any
	for _, p := range g.Products {
		m := map[string]any{"name": p.Name, "apis": p.Apis}
		if p.SubscriptionRequired != nil {
			m["subscriptionRequired"] = *p.SubscriptionRequired
		}
		if p.Policy.IsSet() {
			m["policy"] = rel(p.Policy)
		}
		var subs []map[string]string
		for _, s := range p.Subscriptions {
			sm := map[string]string{"name": s.Name}
			if s.PrimaryKey.IsSet() {
				sm["primaryKey"] = secret(s.PrimaryKey)
			}
			if s.SecondaryKey.IsSet() {
				sm["secondaryKey"] = secret(s.SecondaryKey)
			}
			subs = append(subs, sm)
		}
		if len(subs) > 0 {
			m["subscriptions"] = subs
		}
		prods = append(prods, m)
	}
	sort.Slice(prods, func(i, j int) bool { return prods[i]["name"].(string) < prods[j]["name"].(string) })
	if len(prods) > 0 {
		out["products"] = prods
	}
	return out
}
