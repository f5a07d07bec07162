package config

// An APIOps folder (what Microsoft's APIOps extractor writes from a live
// API Management instance) read as gateway configuration, so a customer's
// repository is served as it is:
//
//	policy.xml                                 the global ("All APIs") policy
//	named values/{name}/namedValueInformation.json
//	policy fragments/{name}/policy.xml
//	backends/{name}/backendInformation.json
//	version sets/{name}/versionSetInformation.json
//	apis/{name}[;rev=N]/apiInformation.json, specification.yaml|yml|json, policy.xml,
//	    operations/{operation}/policy.xml
//	products/{name}/productInformation.json, policy.xml, apis/{api}/
//	subscriptions/{name}/subscriptionInformation.json
//
// The publisher's override file (configuration.{env}.yaml: namedValues,
// apis[].properties.serviceUrl, backends[].properties.url) is applied over
// the folder. What cannot run here is listed by name in Gateway.NotServed,
// never dropped silently.

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// apiopsReader collects a folder's configuration and problems.
type apiopsReader struct {
	g         *Gateway
	dir       string
	env       func(string) (string, bool)
	over      apiopsOverrides
	errs      Errors
	versionBy map[string]apiopsVersionSet
}

type apiopsOverrides struct {
	NamedValues []struct {
		Name       string `yaml:"name"`
		Properties struct {
			Value    *string `yaml:"value"`
			KeyVault *struct {
				SecretIdentifier string `yaml:"secretIdentifier"`
			} `yaml:"keyVault"`
		} `yaml:"properties"`
	} `yaml:"namedValues"`
	Apis []struct {
		Name       string `yaml:"name"`
		Properties struct {
			ServiceURL string `yaml:"serviceUrl"`
		} `yaml:"properties"`
	} `yaml:"apis"`
	Backends []struct {
		Name       string `yaml:"name"`
		Properties struct {
			URL string `yaml:"url"`
		} `yaml:"properties"`
	} `yaml:"backends"`
}

type apiopsVersionSet struct {
	Scheme, Header, Query string
}

func (r *apiopsReader) fail(file, format string, args ...any) {
	r.errs = append(r.errs, &Error{Pos: Pos{File: file, Line: 1, Col: 1}, Msg: fmt.Sprintf(format, args...)})
}

func (r *apiopsReader) notServed(format string, args ...any) {
	r.g.NotServed = append(r.g.NotServed, fmt.Sprintf(format, args...))
}

// readJSON reads an information file into v (JSON is YAML).
func (r *apiopsReader) readJSON(file string, v any) bool {
	b, err := os.ReadFile(file)
	if err != nil {
		r.fail(file, "%v", err)
		return false
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		r.fail(file, "not valid JSON: %v", err)
		return false
	}
	return true
}

// subdirs are the folders in dir, sorted ("" when dir does not exist).
func subdirs(dir string) []string {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range ents {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

// envName makes an environment variable name of a resource name.
var nonAlnum = regexp.MustCompile(`[^A-Za-z0-9]+`)

func envName(prefix, name string) string {
	return prefix + strings.Trim(strings.ToUpper(nonAlnum.ReplaceAllString(name, "_")), "_")
}

// applyAPIOps adds g.APIOps's folder to g.
func applyAPIOps(g *Gateway, lookupEnv func(string) (string, bool)) Errors {
	a := g.APIOps
	r := &apiopsReader{g: g, dir: a.Dir.Abs, env: lookupEnv, versionBy: map[string]apiopsVersionSet{}}
	if fi, err := os.Stat(r.dir); err != nil || !fi.IsDir() {
		return Errors{{Pos: a.Pos, Msg: fmt.Sprintf("gateway.apiops: %q is not a folder", a.Dir.Raw)}}
	}
	if a.Configuration.IsSet() {
		b, err := os.ReadFile(a.Configuration.Abs)
		if err != nil {
			return Errors{{Pos: a.Configuration.Pos, Msg: "gateway.apiops.configuration: " + err.Error()}}
		}
		if err := yaml.Unmarshal(b, &r.over); err != nil {
			return Errors{{Pos: Pos{File: a.Configuration.Abs, Line: 1, Col: 1}, Msg: "not a valid APIOps configuration file: " + err.Error()}}
		}
	}
	r.namedValues()
	r.backends()
	r.fragments()
	r.globalPolicy()
	r.versionSets()
	r.apis()
	r.products()
	r.subscriptions()
	known := map[string]bool{"named values": true, "backends": true, "policy fragments": true, "version sets": true,
		"apis": true, "products": true, "subscriptions": true}
	for _, d := range subdirs(r.dir) {
		if !known[d] {
			for _, item := range subdirs(filepath.Join(r.dir, d)) {
				r.notServed("%s/%s", d, item)
			}
		}
	}
	return r.errs
}

func (r *apiopsReader) namedValues() {
	over := map[string]int{}
	for i, nv := range r.over.NamedValues {
		over[nv.Name] = i
	}
	for _, name := range subdirs(filepath.Join(r.dir, "named values")) {
		file := filepath.Join(r.dir, "named values", name, "namedValueInformation.json")
		var info struct {
			Properties struct {
				DisplayName string  `yaml:"displayName"`
				Secret      bool    `yaml:"secret"`
				Value       *string `yaml:"value"`
				KeyVault    *struct {
					SecretIdentifier string `yaml:"secretIdentifier"`
				} `yaml:"keyVault"`
			} `yaml:"properties"`
		}
		if !r.readJSON(file, &info) {
			continue
		}
		p := info.Properties
		key := p.DisplayName
		if key == "" {
			key = name
		}
		if _, ok := r.g.NamedValues[key]; ok {
			continue // gateway.namedValues in the config file wins
		}
		value, kv := p.Value, p.KeyVault
		if i, ok := over[name]; ok {
			if o := r.over.NamedValues[i].Properties; o.Value != nil {
				value, kv = o.Value, nil
			} else if o.KeyVault != nil {
				value, kv = nil, o.KeyVault
			}
		}
		fromEnv := ""
		if value == nil {
			// A secret: from the environment (Key Vault references by the
			// secret's name, others by the named value's).
			env := envName("APIM_NAMED_VALUE_", name)
			if kv != nil {
				env = envName("AZURE_KEYVAULT_SECRET_", keyVaultSecret(kv.SecretIdentifier))
			}
			v, ok := r.env(env)
			if !ok {
				r.fail(file, "named value %s has no value here (a secret or a Key Vault reference): set the environment variable %s or give it in the configuration file", name, env)
				continue
			}
			value, fromEnv = &v, env
		}
		if r.g.NamedValues == nil {
			r.g.NamedValues = map[string]Secret{}
		}
		s := NewSecret(*value)
		s.Pos = Pos{File: file, Line: 1, Col: 1}
		s.External = p.Secret || fromEnv != ""
		s.Env = fromEnv
		r.g.NamedValues[key] = s
	}
}

// keyVaultSecret is the secret's name in a Key Vault secret identifier
// (https://vault.vault.azure.net/secrets/{name}[/{version}]).
func keyVaultSecret(id string) string {
	_, rest, ok := strings.Cut(id, "/secrets/")
	if !ok {
		return id
	}
	name, _, _ := strings.Cut(rest, "/")
	return name
}

func (r *apiopsReader) backends() {
	over := map[string]string{}
	for _, b := range r.over.Backends {
		over[b.Name] = b.Properties.URL
	}
	for _, name := range subdirs(filepath.Join(r.dir, "backends")) {
		file := filepath.Join(r.dir, "backends", name, "backendInformation.json")
		var info struct {
			Properties struct {
				URL  string `yaml:"url"`
				Type string `yaml:"type"`
				Pool *struct {
					Services []struct {
						ID       string `yaml:"id"`
						Priority int    `yaml:"priority"`
						Weight   int    `yaml:"weight"`
					} `yaml:"services"`
				} `yaml:"pool"`
				CircuitBreaker *struct {
					Rules []struct {
						FailureCondition struct {
							Count            int    `yaml:"count"`
							Interval         string `yaml:"interval"`
							StatusCodeRanges []struct {
								Min int `yaml:"min"`
								Max int `yaml:"max"`
							} `yaml:"statusCodeRanges"`
						} `yaml:"failureCondition"`
						TripDuration     string `yaml:"tripDuration"`
						AcceptRetryAfter bool   `yaml:"acceptRetryAfter"`
					} `yaml:"rules"`
				} `yaml:"circuitBreaker"`
			} `yaml:"properties"`
		}
		if !r.readJSON(file, &info) {
			continue
		}
		if _, ok := r.g.Backends[name]; ok {
			continue
		}
		p := info.Properties
		pos := Pos{File: file, Line: 1, Col: 1}
		be := Backend{Pos: pos, URL: p.URL}
		if o := over[name]; o != "" {
			be.URL = o
		}
		if p.Pool != nil {
			be.URL = ""
			for _, m := range p.Pool.Services {
				be.Pool = append(be.Pool, PoolMember{Pos: pos, ID: filepath.Base(m.ID), Priority: m.Priority, Weight: m.Weight})
			}
		}
		if cb := p.CircuitBreaker; cb != nil && len(cb.Rules) > 0 {
			// APIM allows one rule per backend.
			rule := cb.Rules[0]
			interval, err1 := parseISODuration(rule.FailureCondition.Interval)
			trip, err2 := parseISODuration(rule.TripDuration)
			if err1 != nil || err2 != nil {
				r.fail(file, "circuitBreaker: interval and tripDuration must be ISO 8601 durations such as PT1M")
				continue
			}
			c := &CircuitBreaker{Pos: pos, Failures: rule.FailureCondition.Count, AcceptRetryAfter: rule.AcceptRetryAfter,
				Interval: Duration{Pos: pos, D: interval, set: true}, TripDuration: Duration{Pos: pos, D: trip, set: true}}
			for _, sr := range rule.FailureCondition.StatusCodeRanges {
				c.StatusCodes = append(c.StatusCodes, fmt.Sprintf("%d-%d", sr.Min, sr.Max))
			}
			be.CircuitBreaker = c
		}
		if r.g.Backends == nil {
			r.g.Backends = map[string]Backend{}
		}
		r.g.Backends[name] = be
	}
}

// isoDuration is an ISO 8601 duration as ARM writes them (P1DT2H3M4.5S).
var isoDuration = regexp.MustCompile(`^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$`)

func parseISODuration(s string) (time.Duration, error) {
	m := isoDuration.FindStringSubmatch(strings.ToUpper(strings.TrimSpace(s)))
	if m == nil || s == "P" || s == "PT" {
		return 0, fmt.Errorf("%q is not an ISO 8601 duration", s)
	}
	var d time.Duration
	for i, unit := range []time.Duration{24 * time.Hour, time.Hour, time.Minute, time.Second} {
		if m[i+1] == "" {
			continue
		}
		f, err := strconv.ParseFloat(m[i+1], 64)
		if err != nil {
			return 0, err
		}
		d += time.Duration(f * float64(unit))
	}
	return d, nil
}

func (r *apiopsReader) fragments() {
	for _, name := range subdirs(filepath.Join(r.dir, "policy fragments")) {
		file := filepath.Join(r.dir, "policy fragments", name, "policy.xml")
		if _, ok := r.g.Fragments[name]; ok || !exists(file) {
			continue
		}
		if r.g.Fragments == nil {
			r.g.Fragments = map[string]Path{}
		}
		r.g.Fragments[name] = filePath(file)
	}
}

func filePath(file string) Path {
	return Path{Pos: Pos{File: file, Line: 1, Col: 1}, Raw: file, Abs: file}
}

func (r *apiopsReader) globalPolicy() {
	file := filepath.Join(r.dir, "policy.xml")
	if !exists(file) {
		return
	}
	if r.g.Policy.IsSet() {
		r.fail(file, "the APIOps folder has a global policy and so has gateway.policy (%s): keep one", r.g.Policy.Raw)
		return
	}
	r.g.Policy = filePath(file)
}

func (r *apiopsReader) versionSets() {
	for _, name := range subdirs(filepath.Join(r.dir, "version sets")) {
		file := filepath.Join(r.dir, "version sets", name, "versionSetInformation.json")
		var info struct {
			Properties struct {
				Scheme string `yaml:"versioningScheme"`
				Header string `yaml:"versionHeaderName"`
				Query  string `yaml:"versionQueryName"`
			} `yaml:"properties"`
		}
		if r.readJSON(file, &info) {
			p := info.Properties
			r.versionBy[name] = apiopsVersionSet{Scheme: p.Scheme, Header: p.Header, Query: p.Query}
		}
	}
}

var revSuffix = regexp.MustCompile(`;rev=(\d+)$`)

func (r *apiopsReader) apis() {
	over := map[string]string{}
	for _, a := range r.over.Apis {
		over[a.Name] = a.Properties.ServiceURL
	}
	taken := map[string]bool{}
	for _, a := range r.g.Apis {
		taken[a.Name] = true
	}
	for _, name := range subdirs(filepath.Join(r.dir, "apis")) {
		dir := filepath.Join(r.dir, "apis", name)
		file := filepath.Join(dir, "apiInformation.json")
		var info struct {
			Properties struct {
				Path                 string `yaml:"path"`
				ServiceURL           string `yaml:"serviceUrl"`
				SubscriptionRequired *bool  `yaml:"subscriptionRequired"`
				Type                 string `yaml:"type"`
				APIVersion           string `yaml:"apiVersion"`
				VersionSetID         string `yaml:"apiVersionSetId"`
				IsCurrent            bool   `yaml:"isCurrent"`
				KeyNames             *struct {
					Header string `yaml:"header"`
					Query  string `yaml:"query"`
				} `yaml:"subscriptionKeyParameterNames"`
			} `yaml:"properties"`
		}
		if !r.readJSON(file, &info) {
			continue
		}
		p := info.Properties
		if t := strings.ToLower(p.Type); t != "" && t != "http" {
			r.notServed("apis/%s (a %s API)", name, p.Type)
			continue
		}
		spec := ""
		for _, s := range []string{"specification.yaml", "specification.yml", "specification.json"} {
			if exists(filepath.Join(dir, s)) {
				spec = filepath.Join(dir, s)
				break
			}
		}
		if spec == "" {
			if m, _ := filepath.Glob(filepath.Join(dir, "specification.*")); len(m) > 0 {
				r.notServed("apis/%s (a %s specification)", name, strings.TrimPrefix(filepath.Ext(m[0]), "."))
				continue
			}
		}
		path := strings.Trim(p.Path, "/")
		var version *APIVersion
		if p.VersionSetID != "" {
			vs := r.versionBy[filepath.Base(p.VersionSetID)]
			switch strings.ToLower(vs.Scheme) {
			case "segment", "":
				if p.APIVersion != "" && !strings.HasSuffix(path, "/"+p.APIVersion) && path != p.APIVersion {
					path = strings.Trim(path+"/"+p.APIVersion, "/")
				}
			case "header":
				version = &APIVersion{Pos: Pos{File: file, Line: 1, Col: 1}, Name: p.APIVersion, Header: vs.Header}
			case "query":
				version = &APIVersion{Pos: Pos{File: file, Line: 1, Col: 1}, Name: p.APIVersion, Query: vs.Query}
			default:
				r.notServed("apis/%s (versioning scheme %s)", name, vs.Scheme)
				continue
			}
		}
		if m := revSuffix.FindStringSubmatch(name); m != nil && !p.IsCurrent {
			// A revision that is not current: APIM serves it at path;rev=N.
			first, rest, _ := strings.Cut(path, "/")
			path = first + ";rev=" + m[1]
			if rest != "" {
				path += "/" + rest
			}
		}
		if taken[name] {
			r.fail(file, "an API named %s is also in gateway.apis", name)
			continue
		}
		taken[name] = true
		api := API{Pos: Pos{File: file, Line: 1, Col: 1}, Name: name, Path: path, ServiceURL: p.ServiceURL,
			SubscriptionRequired: p.SubscriptionRequired, Version: version}
		if o := over[name]; o != "" {
			api.ServiceURL = o
		}
		if k := p.KeyNames; k != nil {
			api.SubscriptionKeyHeader, api.SubscriptionKeyQuery = k.Header, k.Query
		}
		if pol := filepath.Join(dir, "policy.xml"); exists(pol) {
			api.Policy = filePath(pol)
		}
		if spec != "" {
			api.Specification = filePath(spec)
		}
		ops := map[string]bool{}
		if spec != "" {
			for _, op := range r.operations(spec) {
				if pol := filepath.Join(dir, "operations", op.Name, "policy.xml"); exists(pol) {
					op.Policy = filePath(pol)
				}
				ops[op.Name] = true
				api.Operations = append(api.Operations, op)
			}
		}
		for _, op := range subdirs(filepath.Join(dir, "operations")) {
			if !ops[op] {
				r.fail(filepath.Join(dir, "operations", op, "policy.xml"), "operation %s of API %s is not in its specification", op, name)
			}
		}
		for _, d := range subdirs(filepath.Join(dir, "diagnostics")) {
			r.notServed("apis/%s/diagnostics/%s", name, d)
		}
		r.g.Apis = append(r.g.Apis, api)
	}
}

// operations reads an OpenAPI (v2 or v3, YAML or JSON) specification's
// operations: method, URL template and name (operationId).
func (r *apiopsReader) operations(file string) []Operation {
	b, err := os.ReadFile(file)
	if err != nil {
		r.fail(file, "%v", err)
		return nil
	}
	var doc struct {
		Swagger string                          `yaml:"swagger"`
		OpenAPI string                          `yaml:"openapi"`
		Paths   map[string]map[string]yaml.Node `yaml:"paths"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		r.fail(file, "not a valid OpenAPI specification: %v", err)
		return nil
	}
	if doc.Swagger == "" && doc.OpenAPI == "" {
		r.fail(file, "not an OpenAPI specification (no openapi or swagger version)")
		return nil
	}
	var out []Operation
	paths := make([]string, 0, len(doc.Paths))
	for p := range doc.Paths {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		for _, m := range []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"} {
			n, ok := doc.Paths[p][m]
			if !ok {
				continue
			}
			var op struct {
				OperationID string `yaml:"operationId"`
			}
			_ = n.Decode(&op)
			name := op.OperationID
			if name == "" {
				name = m + strings.NewReplacer("/", "-", "{", "", "}", "").Replace(p)
			}
			out = append(out, Operation{Pos: Pos{File: file, Line: n.Line, Col: n.Column}, Name: name,
				Method: strings.ToUpper(m), URLTemplate: p})
		}
	}
	return out
}

func (r *apiopsReader) products() {
	taken := map[string]bool{}
	for _, p := range r.g.Products {
		taken[p.Name] = true
	}
	for _, name := range subdirs(filepath.Join(r.dir, "products")) {
		dir := filepath.Join(r.dir, "products", name)
		file := filepath.Join(dir, "productInformation.json")
		var info struct {
			Properties struct {
				SubscriptionRequired *bool  `yaml:"subscriptionRequired"`
				State                string `yaml:"state"`
			} `yaml:"properties"`
		}
		if !r.readJSON(file, &info) {
			continue
		}
		if taken[name] {
			r.fail(file, "a product named %s is also in gateway.products", name)
			continue
		}
		prod := Product{Pos: Pos{File: file, Line: 1, Col: 1}, Name: name, SubscriptionRequired: info.Properties.SubscriptionRequired}
		if pol := filepath.Join(dir, "policy.xml"); exists(pol) {
			prod.Policy = filePath(pol)
		}
		for _, a := range subdirs(filepath.Join(dir, "apis")) {
			// An API's revisions are in its products, as in APIM.
			for _, served := range r.g.Apis {
				if served.Name == a || strings.HasPrefix(served.Name, a+";rev=") {
					prod.Apis = append(prod.Apis, served.Name)
				}
			}
		}
		r.g.Products = append(r.g.Products, prod)
	}
}

func (r *apiopsReader) subscriptions() {
	for _, name := range subdirs(filepath.Join(r.dir, "subscriptions")) {
		file := filepath.Join(r.dir, "subscriptions", name, "subscriptionInformation.json")
		var info struct {
			Properties struct {
				Scope string `yaml:"scope"`
				State string `yaml:"state"`
			} `yaml:"properties"`
		}
		if !r.readJSON(file, &info) {
			continue
		}
		p := info.Properties
		if p.State != "" && !strings.EqualFold(p.State, "active") {
			r.notServed("subscriptions/%s (state %s)", name, p.State)
			continue
		}
		idx := r.subscriptionProduct(p.Scope)
		if idx < 0 {
			r.notServed("subscriptions/%s (scope %s is not served here)", name, p.Scope)
			continue
		}
		// Keys are secrets the extractor does not write: from the
		// environment.
		primary, secondary := envName("APIM_SUBSCRIPTION_", name)+"_PRIMARY_KEY", envName("APIM_SUBSCRIPTION_", name)+"_SECONDARY_KEY"
		pk, ok1 := r.env(primary)
		sk, ok2 := r.env(secondary)
		if !ok1 && !ok2 {
			r.notServed("subscriptions/%s (no keys: set %s and %s)", name, primary, secondary)
			continue
		}
		s := Subscription{Pos: Pos{File: file, Line: 1, Col: 1}, Name: name}
		if ok1 {
			s.PrimaryKey = NewSecret(pk)
			s.PrimaryKey.External, s.PrimaryKey.Env = true, primary
		}
		if ok2 {
			s.SecondaryKey = NewSecret(sk)
			s.SecondaryKey.External, s.SecondaryKey.Env = true, secondary
		}
		r.g.Products[idx].Subscriptions = append(r.g.Products[idx].Subscriptions, s)
	}
}

// subscriptionProduct is the index of the product a subscription scope
// names: /products/{name}; or, for /apis/{name} and /apis (all APIs), a
// product of its own named like the scope ("apis/basic-api", "apis"),
// made on first use; -1 when there is none.
func (r *apiopsReader) subscriptionProduct(scope string) int {
	scope = strings.TrimPrefix(scope, "/")
	name, isProduct := strings.CutPrefix(scope, "products/")
	for i := range r.g.Products {
		if r.g.Products[i].Name == name && isProduct || r.g.Products[i].Name == scope && !isProduct {
			return i
		}
	}
	if isProduct || scope != "apis" && !strings.HasPrefix(scope, "apis/") {
		return -1
	}
	var apis []string
	for _, a := range r.g.Apis {
		if scope == "apis" || "apis/"+a.Name == scope {
			apis = append(apis, a.Name)
		}
	}
	if len(apis) == 0 {
		return -1
	}
	r.g.Products = append(r.g.Products, Product{Pos: Pos{File: filepath.Join(r.dir, "subscriptions"), Line: 1, Col: 1}, Name: scope, Apis: apis})
	return len(r.g.Products) - 1
}
