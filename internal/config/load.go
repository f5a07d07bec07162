// Package config reads gatehouse's YAML configuration. Decoding is strict:
// an unknown key, a wrong type or a missing env:/file: value is an error that
// names file:line:col and the key, and all errors of a file are reported at
// once so a user fixes them in one pass.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	yaml "go.yaml.in/yaml/v3"
)

// Pos is a position in a config file.
type Pos struct {
	File      string
	Line, Col int
}

func (p Pos) String() string { return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col) }

// Error is one configuration problem.
type Error struct {
	Pos Pos
	Msg string
}

func (e *Error) Error() string { return e.Pos.String() + ": " + e.Msg }

// Errors is every problem found in a file.
type Errors []*Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Secret is a value that may be written inline or read at start-up from
// env:NAME or file:PATH. Its String and LogValue never show the value.
type Secret struct {
	Pos   Pos
	Value string
	// Bytes is the value exactly as read: for file: the file's bytes
	// untrimmed (binary content such as a PFX), otherwise Value's bytes.
	Bytes []byte
	// External is true for env: and file: values: those are treated as
	// secret (named values from them are never logged).
	External bool
	// Env is the environment variable an APIOps secret (a named value or
	// subscription key) was read from, so `gatehouse import apiops` writes
	// the reference, never the value.
	Env string
	set bool
}

// IsSet reports whether the key was present.
func (s Secret) IsSet() bool { return s.set }

// NewSecret is a secret given in code (`gatehouse dev` builds its config
// without a file).
func NewSecret(v string) Secret { return Secret{Value: v, Bytes: []byte(v), set: true} }

func (s Secret) String() string { return "[secret]" }

// LogValue keeps secrets out of structured logs.
func (s Secret) LogValue() slog.Value { return slog.StringValue("[secret]") }

// Path is a file path written in the config, resolved against the config
// file's directory.
type Path struct {
	Pos Pos
	Raw string // as written
	Abs string // resolved; empty when not set
}

// IsSet reports whether the key was present.
func (p Path) IsSet() bool { return p.Abs != "" }

// Duration is a length of time written as Go durations ("90s", "60m",
// "24h") or with a day suffix ("14d").
type Duration struct {
	Pos Pos
	D   time.Duration
	set bool
}

// IsSet reports whether the key was present.
func (d Duration) IsSet() bool { return d.set }

// Or returns the duration, or def when it was not set.
func (d Duration) Or(def time.Duration) time.Duration {
	if d.set {
		return d.D
	}
	return def
}

func parseDuration(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("%q is not a number of days", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q is not a duration (examples: 90s, 60m, 24h, 14d)", s)
	}
	return d, nil
}

// Load reads, decodes and validates a config file.
func Load(file string) (*Config, error) {
	abs, err := filepath.Abs(file)
	if err != nil {
		return nil, err
	}
	src, err := os.ReadFile(abs)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(abs, src, os.LookupEnv)
}

// Parse decodes src as the config file named file. lookupEnv resolves env:
// references (os.LookupEnv in production).
func Parse(file string, src []byte, lookupEnv func(string) (string, bool)) (*Config, error) {
	d := &decoder{file: file, dir: filepath.Dir(file), env: lookupEnv}
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(src))
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, Errors{{Pos{file, 1, 1}, "the file is empty: it needs at least one of identity, gateway, guard, site"}}
		}
		return nil, Errors{d.yamlError(err)}
	}
	cfg := &Config{File: file}
	if len(root.Content) == 1 {
		d.decode(root.Content[0], reflect.ValueOf(cfg).Elem(), "")
	}
	if g := cfg.Gateway; len(d.errs) == 0 && g != nil && g.APIOps != nil {
		// The folder becomes APIs, products ... of the config, checked
		// with the rest below.
		d.errs = append(d.errs, applyAPIOps(g, lookupEnv)...)
	}
	if len(d.errs) == 0 {
		d.errs = append(d.errs, validate(cfg)...)
	}
	if len(d.errs) > 0 {
		sort.SliceStable(d.errs, func(i, j int) bool {
			a, b := d.errs[i].Pos, d.errs[j].Pos
			return a.Line < b.Line || a.Line == b.Line && a.Col < b.Col
		})
		return nil, d.errs
	}
	return cfg, nil
}

type decoder struct {
	file string
	dir  string
	env  func(string) (string, bool)
	errs Errors
}

func (d *decoder) pos(n *yaml.Node) Pos { return Pos{d.file, n.Line, n.Column} }

func (d *decoder) errorf(n *yaml.Node, format string, args ...any) {
	d.errs = append(d.errs, &Error{d.pos(n), fmt.Sprintf(format, args...)})
}

// yamlError turns yaml.v3's "yaml: line N: msg" into a positioned error.
func (d *decoder) yamlError(err error) *Error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 1
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if i := strings.Index(rest, ":"); i > 0 {
			if n, e := strconv.Atoi(rest[:i]); e == nil {
				line, msg = n, strings.TrimSpace(rest[i+1:])
			}
		}
	}
	return &Error{Pos{d.file, line, 1}, "invalid YAML: " + msg}
}

var (
	posType      = reflect.TypeOf(Pos{})
	keyPosType   = reflect.TypeOf(map[string]Pos{})
	secretType   = reflect.TypeOf(Secret{})
	durationType = reflect.TypeOf(Duration{})
	pathType     = reflect.TypeOf(Path{})
	apiopsType   = reflect.TypeOf(APIOps{})
)

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// decode fills v from n; key is the dotted path used in messages.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, key string) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return // an empty value leaves the zero value
	}
	switch v.Type() {
	case secretType:
		if s, ok := d.scalar(n, key); ok {
			v.Set(reflect.ValueOf(d.secret(n, s, key)))
		}
		return
	case durationType:
		if s, ok := d.scalar(n, key); ok {
			dur, err := parseDuration(s)
			if err != nil {
				d.errorf(n, "%s: %v", key, err)
				return
			}
			v.Set(reflect.ValueOf(Duration{Pos: d.pos(n), D: dur, set: true}))
		}
		return
	case apiopsType:
		if n.Kind == yaml.ScalarNode {
			// apiops: DIR is short for apiops: { dir: DIR }.
			a := APIOps{Pos: d.pos(n)}
			d.decode(n, reflect.ValueOf(&a.Dir).Elem(), key)
			v.Set(reflect.ValueOf(a))
			return
		}
	case pathType:
		if s, ok := d.scalar(n, key); ok && s != "" {
			p := s
			if !filepath.IsAbs(p) {
				p = filepath.Join(d.dir, p)
			}
			v.Set(reflect.ValueOf(Path{Pos: d.pos(n), Raw: s, Abs: p}))
		}
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		nv := reflect.New(v.Type().Elem())
		d.decode(n, nv.Elem(), key)
		v.Set(nv)
	case reflect.Struct:
		d.decodeStruct(n, v, key)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.errorf(n, "%s: expected a list", key)
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, item := range n.Content {
			d.decode(item, s.Index(i), fmt.Sprintf("%s[%d]", key, i))
		}
		v.Set(s)
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			d.errorf(n, "%s: expected a mapping of names to values", key)
			return
		}
		m := reflect.MakeMapWithSize(v.Type(), len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			if m.MapIndex(reflect.ValueOf(k.Value)).IsValid() {
				d.errorf(k, "%s: duplicate key %q", key, k.Value)
				continue
			}
			ev := reflect.New(v.Type().Elem()).Elem()
			d.decode(val, ev, join(key, k.Value))
			m.SetMapIndex(reflect.ValueOf(k.Value), ev)
		}
		v.Set(m)
	case reflect.String:
		if s, ok := d.scalar(n, key); ok {
			v.SetString(s)
		}
	case reflect.Bool:
		if s, ok := d.scalar(n, key); ok {
			switch s {
			case "true":
				v.SetBool(true)
			case "false":
				v.SetBool(false)
			default:
				d.errorf(n, "%s: expected true or false, got %q", key, s)
			}
		}
	case reflect.Float64:
		if s, ok := d.scalar(n, key); ok {
			f, err := strconv.ParseFloat(s, 64)
			if err != nil {
				d.errorf(n, "%s: expected a number, got %q", key, s)
				return
			}
			v.SetFloat(f)
		}
	case reflect.Int:
		if s, ok := d.scalar(n, key); ok {
			i, err := strconv.Atoi(s)
			if err != nil {
				d.errorf(n, "%s: expected a whole number, got %q", key, s)
				return
			}
			v.SetInt(int64(i))
		}
	default:
		d.errorf(n, "%s: unsupported type %s", key, v.Type())
	}
}

func (d *decoder) scalar(n *yaml.Node, key string) (string, bool) {
	if n.Kind != yaml.ScalarNode {
		d.errorf(n, "%s: expected a single value", key)
		return "", false
	}
	return n.Value, true
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, key string) {
	if n.Kind != yaml.MappingNode {
		d.errorf(n, "%s: expected a mapping (key: value lines)", orRoot(key))
		return
	}
	t := v.Type()
	fields := map[string]int{}
	var known []string
	var keyPos reflect.Value // a KeyPos map[string]Pos field: where each key's value is
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Type == posType && f.Name == "Pos" {
			v.Field(i).Set(reflect.ValueOf(d.pos(n)))
			continue
		}
		if f.Type == keyPosType && f.Name == "KeyPos" {
			keyPos = v.Field(i)
			keyPos.Set(reflect.MakeMap(keyPosType))
			continue
		}
		name := strings.Split(f.Tag.Get("yaml"), ",")[0]
		if name == "" || name == "-" {
			continue
		}
		fields[name] = i
		known = append(known, name)
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		idx, ok := fields[k.Value]
		if !ok {
			d.errorf(k, "unknown key %q in %s (known keys: %s)", k.Value, orRoot(key), strings.Join(known, ", "))
			continue
		}
		if seen[k.Value] {
			d.errorf(k, "duplicate key %q in %s", k.Value, orRoot(key))
			continue
		}
		seen[k.Value] = true
		if keyPos.IsValid() {
			keyPos.SetMapIndex(reflect.ValueOf(k.Value), reflect.ValueOf(d.pos(val)))
		}
		if strings.Contains(t.Field(idx).Tag.Get("yaml"), ",resolve") && v.Field(idx).Kind() == reflect.String {
			// A connection URL may carry a password: it may be given as
			// env:NAME or file:PATH like a secret.
			if sv, ok := d.scalar(val, join(key, k.Value)); ok {
				v.Field(idx).SetString(d.secret(val, sv, join(key, k.Value)).Value)
			}
			continue
		}
		d.decode(val, v.Field(idx), join(key, k.Value))
	}
}

func orRoot(key string) string {
	if key == "" {
		return "the top level"
	}
	return key
}

// secret resolves env:NAME and file:PATH references.
func (d *decoder) secret(n *yaml.Node, s, key string) Secret {
	sec := Secret{Pos: d.pos(n), Value: s, Bytes: []byte(s), set: true}
	switch {
	case strings.HasPrefix(s, "env:"):
		name := strings.TrimPrefix(s, "env:")
		val, ok := d.env(name)
		if !ok {
			d.errorf(n, "%s: environment variable %s is not set", key, name)
		}
		sec.Value, sec.Bytes, sec.External = val, []byte(val), true
	case strings.HasPrefix(s, "file:"):
		p := strings.TrimPrefix(s, "file:")
		if !filepath.IsAbs(p) {
			p = filepath.Join(d.dir, p)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			d.errorf(n, "%s: cannot read %s: %v", key, p, unwrapPathError(err))
		}
		// A trailing newline in a secret file is an editor artefact, not
		// part of the secret (as Kubernetes and Docker secrets are written).
		sec.Value, sec.Bytes, sec.External = strings.TrimRight(string(b), "\r\n"), b, true
	}
	return sec
}

func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
