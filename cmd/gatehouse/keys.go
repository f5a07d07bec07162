package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gatehouse/gatehouse/identity/keyring"
	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/keys"
	"github.com/gatehouse/gatehouse/store"
)

const keysUsage = `usage:
  gatehouse keys add --name N (--secret-file F | --pfx F [--password P] | --pem F | --generate rsa|ec|oct)
                     [--use sig|enc] [--not-before T] [--expires T]
  gatehouse keys list [--json]
  gatehouse keys delete --name N
  gatehouse keys rotate-signing       start a token-signing key rotation now (published at once, signs 24 h later)
with --config FILE (default $GATEHOUSE_CONFIG) or --data DIR (default ./` + defaultDataDir + `). T is RFC 3339, a date or Unix seconds.
The PFX password may come from --password-file F or --password-stdin instead of --password.
Run 'gatehouse keys SUBCOMMAND --help' for its flags.`

// cmdKeys manages policy keys (B2C's Identity Experience Framework > Policy
// keys). It never prints key material.
func cmdKeys(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, keysUsage)
		return 2
	}
	sub, args := args[0], args[1:]
	fl := flag.NewFlagSet("keys "+sub, flag.ContinueOnError)
	cfgFile, dataDir := stateFlags(fl)
	var (
		name, secretFile, pfxFile, password, pwFile, pemFile, gen, use, nbf, exp *string
		asJSON, pwStdin                                                          *bool
	)
	switch sub {
	case "add":
		name = fl.String("name", "", "the key container `NAME` (B2C_1A_ is added when missing; required)")
		secretFile = fl.String("secret-file", "", "Manual: a `FILE` holding the secret (a trailing newline is dropped)")
		pfxFile = fl.String("pfx", "", "Upload: a PKCS#12 `FILE` with the certificate and its private key")
		password = fl.String("password", "", "the PFX `PASSWORD` (visible in the process list: prefer --password-file or --password-stdin)")
		pwFile = fl.String("password-file", "", "read the PFX password from `FILE` (a trailing newline is dropped)")
		pwStdin = fl.Bool("password-stdin", false, "read the PFX password from standard input")
		pemFile = fl.String("pem", "", "Upload: a PEM `FILE` with the certificate and its unencrypted private key")
		gen = fl.String("generate", "", "Generate: `TYPE` rsa (2048), ec (P-256) or oct (32 random bytes)")
		use = fl.String("use", "", "key usage `USE`: sig (default, as the B2C portal) or enc")
		nbf = fl.String("not-before", "", "activation date `T` (RFC 3339, date or Unix seconds)")
		exp = fl.String("expires", "", "expiration date `T` (RFC 3339, date or Unix seconds)")
	case "list":
		asJSON = fl.Bool("json", false, "print JSON")
	case "delete":
		name = fl.String("name", "", "the key container `NAME` (required); a copy NAME.bak is kept, as in B2C")
	case "rotate-signing":
	case "-h", "--help", "help":
		fmt.Fprintln(stdout, keysUsage)
		return 0
	default:
		fmt.Fprintf(stderr, "gatehouse keys: unknown subcommand %q (add, list, delete, rotate-signing)\n", sub)
		return 2
	}
	pos, code, ok := parseArgs(fl, args, "usage: gatehouse keys "+sub+" [flags]\n"+keysUsage, stdout, stderr)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		fmt.Fprintf(stderr, "gatehouse keys %s: unexpected argument %q\n", sub, pos[0])
		return 2
	}
	stateDefaults(cfgFile, dataDir)
	if sub == "add" {
		p, err := readPassword(*password, *pwFile, *pwStdin, os.Stdin)
		if err != nil {
			fmt.Fprintln(stderr, "gatehouse keys add:", keysMsg(err))
			return 2
		}
		*password = p
	}
	var opts keys.AddOptions
	if sub == "add" {
		sources := 0
		for _, s := range []string{*secretFile, *pfxFile, *pemFile, *gen} {
			if s != "" {
				sources++
			}
		}
		switch {
		case strings.TrimSpace(*name) == "":
			fmt.Fprintln(stderr, "gatehouse keys add: --name is required")
			return 2
		case sources != 1:
			fmt.Fprintln(stderr, "gatehouse keys add: give exactly one of --secret-file, --pfx, --pem, --generate")
			return 2
		case *password != "" && *pfxFile == "":
			fmt.Fprintln(stderr, "gatehouse keys add: --password goes with --pfx")
			return 2
		}
		opts = keys.AddOptions{Use: *use, Origin: "cli"}
		var err error
		if opts.NotBefore, err = keys.ParseTime(*nbf); err == nil {
			opts.Expires, err = keys.ParseTime(*exp)
		}
		if err != nil {
			fmt.Fprintln(stderr, "gatehouse keys add:", keysMsg(err))
			return 2
		}
	}
	if sub == "delete" && strings.TrimSpace(*name) == "" {
		fmt.Fprintln(stderr, "gatehouse keys delete: --name is required")
		return 2
	}

	master, err := keysMasterKey(*cfgFile, *dataDir)
	if err != nil {
		fmt.Fprintln(stderr, "gatehouse keys:", keysMsg(err))
		return 1
	}
	ctx, st, target, done, err := openStateStore(*cfgFile, *dataDir, sub == "add")
	if err != nil {
		fmt.Fprintln(stderr, "gatehouse keys:", keysMsg(err))
		return 1
	}
	defer done()
	audit := newAdminLog(stderr, *cfgFile, *dataDir, target, st)
	if sub == "rotate-signing" {
		return keysRotateSigning(ctx, st, master, *cfgFile, audit, stdout, stderr)
	}
	m, err := keys.NewManager(st.PolicyKeys(), master, keys.Options{})
	if err != nil {
		fmt.Fprintln(stderr, "gatehouse keys:", keysMsg(err))
		return 1
	}

	switch sub {
	case "add":
		k, err := keysAdd(ctx, m, *name, *secretFile, *pfxFile, *password, *pemFile, *gen, opts)
		if err != nil {
			fmt.Fprintln(stderr, "gatehouse keys add:", keysMsg(err))
			return 1
		}
		audit.emit(ctx, "keys.add", "", slog.String("container", keys.Name(strings.TrimSpace(*name))), slog.String("kid", k.KID),
			slog.String("type", k.Type), slog.String("use", k.Use))
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(toKeyJSON(*k))
		return 0
	case "list":
		list, err := m.List(ctx)
		if err != nil {
			fmt.Fprintln(stderr, "gatehouse keys list:", keysMsg(err))
			return 1
		}
		if *asJSON {
			out := struct {
				Containers []containerJSON `json:"containers"`
			}{Containers: []containerJSON{}}
			for _, c := range list {
				cj := containerJSON{Name: c.Name, Type: c.Type, Backup: c.Backup, Keys: []keyJSON{}}
				for _, k := range c.Keys {
					cj.Keys = append(cj.Keys, toKeyJSON(k))
				}
				out.Containers = append(out.Containers, cj)
			}
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			enc.Encode(out)
			return 0
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "CONTAINER\tKID\tTYPE\tUSE\tNOT BEFORE\tEXPIRES\tACTIVE")
		for _, c := range list {
			for _, k := range c.Keys {
				active := ""
				if k.Active {
					active = "yes"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c.Name, k.KID, k.Type, k.Use, tableTime(k.NotBefore), tableTime(k.Expires), active)
			}
		}
		tw.Flush()
		return 0
	default: // delete
		bak, err := m.Delete(ctx, *name)
		if err != nil {
			fmt.Fprintln(stderr, "gatehouse keys delete:", keysMsg(err))
			return 1
		}
		audit.emit(ctx, "keys.delete", "", slog.String("container", keys.Name(strings.TrimSpace(*name))), slog.String("backup", bak))
		if bak != "" {
			fmt.Fprintf(stdout, "deleted %s (a copy is kept as %s)\n", keys.Name(strings.TrimSpace(*name)), bak)
		} else {
			fmt.Fprintf(stdout, "deleted %s\n", keys.Name(strings.TrimSpace(*name)))
		}
		return 0
	}
}

func keysAdd(ctx context.Context, m *keys.Manager, name, secretFile, pfxFile, password, pemFile, gen string, o keys.AddOptions) (*keys.Key, error) {
	switch {
	case gen != "":
		return m.Generate(ctx, name, gen, o)
	case secretFile != "":
		b, err := os.ReadFile(secretFile)
		if err != nil {
			return nil, err
		}
		// As config's file: secrets: a trailing newline is an editor's.
		b = []byte(strings.TrimRight(string(b), "\r\n"))
		defer clear(b)
		return m.AddSecret(ctx, name, b, o)
	case pfxFile != "":
		b, err := os.ReadFile(pfxFile)
		if err != nil {
			return nil, err
		}
		k, err := m.AddPFX(ctx, name, b, password, o)
		if errors.Is(err, keys.ErrWrongPassword) {
			return nil, fmt.Errorf("%s: the PFX password is wrong (or missing: --password)", pfxFile)
		}
		return k, err
	default:
		b, err := os.ReadFile(pemFile)
		if err != nil {
			return nil, err
		}
		return m.AddPEM(ctx, name, o, b)
	}
}

// keysMasterKey is identity.masterKey of --config, or the masterKey that
// `gatehouse dev --data DIR` keeps in DIR/tenant.json.
func keysMasterKey(cfgFile, dataDir string) ([]byte, error) {
	if cfgFile != "" {
		cfg, err := config.Load(cfgFile)
		if err != nil {
			return nil, err
		}
		if cfg.Identity == nil {
			return nil, fmt.Errorf("%s has no identity section", cfgFile)
		}
		return keyring.MasterKey(cfg.Identity)
	}
	if dataDir == "" {
		dataDir = defaultDataDir
	}
	file := filepath.Join(dataDir, "tenant.json")
	b, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s does not exist: run `gatehouse dev --data %s` once first (it makes the master key that encrypts policy keys)", file, dataDir)
	}
	if err != nil {
		return nil, err
	}
	var t struct {
		MasterKey string `json:"masterKey"`
	}
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	mk, err := keyring.MasterKey(&config.Identity{MasterKey: config.NewSecret(t.MasterKey), Pos: config.Pos{File: file, Line: 1, Col: 1}})
	if err != nil {
		return nil, fmt.Errorf("%s: masterKey: %w", file, err)
	}
	return mk, nil
}

// keyJSON is one key as `keys list --json` prints it: Graph's
// trustFrameworkKey names (nbf and exp in Unix seconds), never material.
type keyJSON struct {
	KID         string         `json:"kid"`
	Type        string         `json:"type"`
	Use         string         `json:"use"`
	NBF         int64          `json:"nbf,omitempty"`
	EXP         int64          `json:"exp,omitempty"`
	Active      bool           `json:"active"`
	Created     time.Time      `json:"created"`
	Origin      string         `json:"origin,omitempty"`
	Certificate *keys.CertInfo `json:"certificate,omitempty"`
}

type containerJSON struct {
	Name   string    `json:"name"`
	Type   string    `json:"type"`
	Backup bool      `json:"backup,omitempty"`
	Keys   []keyJSON `json:"keys"`
}

func toKeyJSON(k keys.Key) keyJSON {
	j := keyJSON{KID: k.KID, Type: k.Type, Use: k.Use, Active: k.Active, Created: k.Created.UTC(), Origin: k.Origin,
		Certificate: k.Certificate}
	if !k.NotBefore.IsZero() {
		j.NBF = k.NotBefore.Unix()
	}
	if !k.Expires.IsZero() {
		j.EXP = k.Expires.Unix()
	}
	return j
}

func tableTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// keysRotateSigning starts a token-signing key rotation through the shared
// store: every identity process picks the successor up within a minute and
// switches to it when it starts signing.
func keysRotateSigning(ctx context.Context, st store.Store, master []byte, cfgFile string, audit *adminLog, stdout, stderr io.Writer) int {
	alg := "RS256"
	if cfgFile != "" {
		cfg, err := config.Load(cfgFile)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		if s := cfg.Identity.Signing; s != nil && s.Algorithm != "" {
			alg = s.Algorithm
		}
	}
	// The predecessor stays published for B2C's longest token lifetime
	// (24 h), which covers every flow's lifetimes.
	// The keyring's own log lines would mix into the command's output: the
	// audit line and the sentence below say what happened.
	kr, err := keyring.New(ctx, st.SigningKeys(), master, keyring.Options{Algorithm: alg, MaxTokenLifetime: 24 * time.Hour,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		fmt.Fprintln(stderr, "gatehouse keys rotate-signing:", keysMsg(err))
		return 1
	}
	next, err := kr.RotateNow(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "gatehouse keys rotate-signing:", keysMsg(err))
		return 1
	}
	audit.emit(ctx, "keys.rotate-signing", "", slog.String("kid", next.ID), slog.String("algorithm", next.Algorithm),
		slog.Time("notBefore", next.NotBefore.UTC()))
	fmt.Fprintf(stdout, "new signing key %s (%s) is published now and signs from %s\n", next.ID, next.Algorithm, next.NotBefore.UTC().Format(time.RFC3339))
	return 0
}

// keysMsg is err's message without the keys package's own "keys: " prefix:
// the command's name already says where it comes from.
func keysMsg(err error) string {
	return strings.TrimPrefix(err.Error(), "keys: ")
}
