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

	"github.com/gatehouse/gatehouse/identity/password"
	"github.com/gatehouse/gatehouse/identity/tenant"
	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/internal/ids"
	"github.com/gatehouse/gatehouse/internal/roles"
	"github.com/gatehouse/gatehouse/store"
	"github.com/gatehouse/gatehouse/store/storeopen"
)

// defaultDataDir is where `gatehouse dev` and the state commands keep their
// data when given neither --config nor --data.
const defaultDataDir = ".gatehouse"

// devTenant is the tenant of `gatehouse dev`.
const devTenant = "contoso"

// stateTarget is the store (and tenant) a state command works on: the
// identity section of --config, or the store `gatehouse dev --data DIR` uses.
type stateTarget struct {
	storeURL string
	tenant   string
}

func stateFlags(fl *flag.FlagSet) (cfgFile, dataDir *string) {
	cfgFile = fl.String("config", "", "use the store of this config `FILE`'s identity section (default $"+configEnv+")")
	dataDir = fl.String("data", "", "use the store in `DIR`, as 'gatehouse dev --data DIR' made it (default ./"+defaultDataDir+")")
	return
}

// stateDefaults: without --config and --data, GATEHOUSE_CONFIG names the
// config.
func stateDefaults(cfgFile, dataDir *string) {
	if *cfgFile == "" && *dataDir == "" {
		*cfgFile = os.Getenv(configEnv)
	}
}

func resolveState(cfgFile, dataDir string) (stateTarget, error) {
	if cfgFile != "" && dataDir != "" {
		return stateTarget{}, errors.New("give --config or --data, not both")
	}
	if cfgFile != "" {
		cfg, err := config.Load(cfgFile)
		if err != nil {
			return stateTarget{}, err
		}
		if cfg.Identity == nil {
			return stateTarget{}, fmt.Errorf("%s has no identity section", cfgFile)
		}
		return stateTarget{storeURL: roles.StorageURL(cfg.Identity.Storage, filepath.Dir(cfg.File)), tenant: cfg.Identity.Tenant.Name}, nil
	}
	if dataDir == "" {
		dataDir = defaultDataDir
	}
	return stateTarget{storeURL: devStoreURL(dataDir), tenant: devTenant}, nil
}

// devStoreURL is the SQLite database of a dev data directory.
func devStoreURL(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	return "sqlite://" + filepath.Join(abs, "gatehouse.db")
}

// openStateStore resolves and opens the store a state command works on;
// done closes it and ends the command's time budget. Only commands that
// add state (create) may create the database, and never the folder of a
// --data DIR: a mistyped path must not leave an empty database behind.
func openStateStore(cfgFile, dataDir string, create bool) (context.Context, store.Store, stateTarget, func(), error) {
	target, err := resolveState(cfgFile, dataDir)
	if err != nil {
		return nil, nil, target, nil, err
	}
	if cfgFile == "" {
		dir := dataDir
		if dir == "" {
			dir = defaultDataDir
		}
		if _, err := os.Stat(dir); err != nil {
			return nil, nil, target, nil, fmt.Errorf("the data directory %s does not exist: run `gatehouse dev --data %s` once first, or give --config FILE", dir, dir)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	var st store.Store
	if create {
		st, err = roles.OpenStore(ctx, target.storeURL)
	} else {
		st, err = storeopen.Open(ctx, target.storeURL, storeopen.WithMustExist())
		if errors.Is(err, os.ErrNotExist) {
			hint := "run `gatehouse serve --config " + cfgFile + "` once first"
			if cfgFile == "" {
				hint = "run `gatehouse dev --data " + dataDir + "` once first"
				if dataDir == "" {
					hint = "run `gatehouse dev` once first, or give --data DIR or --config FILE"
				}
			}
			err = fmt.Errorf("no database at %s: %s (is the path right?)", strings.TrimPrefix(target.storeURL, "sqlite://"), hint)
		}
	}
	if err != nil {
		cancel()
		return nil, nil, target, nil, err
	}
	return ctx, st, target, func() { st.Close(); cancel() }, nil
}

// graphUser is Microsoft Graph's user shape (the subset B2C uses), and
// Gatehouse's roles of the account.
type graphUser struct {
	ID              string           `json:"id"`
	DisplayName     string           `json:"displayName"`
	GivenName       string           `json:"givenName,omitempty"`
	Surname         string           `json:"surname,omitempty"`
	Identities      []store.Identity `json:"identities"`
	CreatedDateTime time.Time        `json:"createdDateTime"`
	Roles           []string         `json:"roles,omitempty"`
}

func toGraph(u *store.User) graphUser {
	g := graphUser{ID: u.ID, DisplayName: u.DisplayName, GivenName: u.GivenName, Surname: u.Surname, Identities: u.Identities, CreatedDateTime: u.CreatedAt.UTC()}
	if r := u.Attributes[store.RolesAttribute]; r != "" {
		g.Roles = strings.Split(r, ",")
	}
	return g
}

const usersUsage = `usage:
  gatehouse users create --email E (--password P | --password-file F | --password-stdin) [--display-name N] [--admin]
  gatehouse users list [--json]
  gatehouse users delete --email E
  gatehouse users reset-mfa --email E
  gatehouse users import --file users.jsonl   (one Graph user per line; ids and password hashes kept)
  gatehouse users export [--file users.jsonl]
with --config FILE (default $GATEHOUSE_CONFIG) or --data DIR (default ./.gatehouse).
Run 'gatehouse users SUBCOMMAND --help' for its flags.
`

// cmdUsers manages local accounts, as Graph's /users does for B2C.
func cmdUsers(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usersUsage)
		return 2
	}
	sub, args := args[0], args[1:]
	if isHelp(sub) {
		fmt.Fprint(stdout, usersUsage)
		return 0
	}
	fl := flag.NewFlagSet("users "+sub, flag.ContinueOnError)
	cfgFile, dataDir := stateFlags(fl)
	var email, pw, pwFile, name, file *string
	var asJSON, pwStdin, admin *bool
	switch sub {
	case "create":
		email = fl.String("email", "", "the sign-in email `ADDRESS` (required)")
		pw = fl.String("password", "", "the `PASSWORD` (B2C's Strong rules); visible to other local users in the process list: prefer --password-file or --password-stdin")
		pwFile = fl.String("password-file", "", "read the password from `FILE` (a trailing newline is dropped)")
		pwStdin = fl.Bool("password-stdin", false, "read the password from standard input")
		name = fl.String("display-name", "", "display `NAME` (default: the part of the email before @)")
		admin = fl.Bool("admin", false, "give the account the admin role (the admin console's sign-in)")
	case "list":
		asJSON = fl.Bool("json", false, "print Graph-like JSON")
	case "delete":
		email = fl.String("email", "", "the sign-in email address (required)")
	case "reset-mfa":
		email = fl.String("email", "", "the sign-in email address (required)")
	case "import", "export":
		file = fl.String("file", "", "the JSON lines `FILE` (import: required; export: default standard output)")
	default:
		fmt.Fprintf(stderr, "gatehouse users: unknown subcommand %q (create, list, delete, reset-mfa, import, export)\n", sub)
		return 2
	}
	pos, code, ok := parseArgs(fl, args, "usage: gatehouse users "+sub+" [flags]\n"+usersUsage, stdout, stderr)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		fmt.Fprintf(stderr, "gatehouse users %s: unexpected argument %q\n", sub, pos[0])
		return 2
	}
	stateDefaults(cfgFile, dataDir)
	var password string
	if sub == "create" {
		p, err := readPassword(*pw, *pwFile, *pwStdin, os.Stdin)
		if err != nil {
			fmt.Fprintln(stderr, "gatehouse users create:", err)
			return 2
		}
		password = p
	}
	if sub == "import" && *file == "" {
		fmt.Fprintln(stderr, "gatehouse users import: --file is required")
		return 2
	}
	ctx, st, target, done, err := openStateStore(*cfgFile, *dataDir, sub == "create" || sub == "import")
	if err != nil {
		fmt.Fprintln(stderr, "gatehouse users:", err)
		return 1
	}
	defer done()

	audit := newAdminLog(stderr, *cfgFile, *dataDir, target, st)
	switch sub {
	case "create":
		return usersCreate(ctx, st, target, audit, strings.TrimSpace(*email), password, strings.TrimSpace(*name), *admin, stdout, stderr)
	case "list":
		users, err := st.Users().List(ctx)
		if err != nil {
			fmt.Fprintln(stderr, "gatehouse users:", err)
			return 1
		}
		if *asJSON {
			out := struct {
				Value []graphUser `json:"value"`
			}{Value: []graphUser{}}
			for _, u := range users {
				out.Value = append(out.Value, toGraph(u))
			}
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			enc.Encode(out)
			return 0
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tEMAIL\tDISPLAY NAME\tCREATED")
		for _, u := range users {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", u.ID, u.Email, u.DisplayName, u.CreatedAt.UTC().Format(time.RFC3339))
		}
		tw.Flush()
		return 0
	case "reset-mfa":
		return usersResetMFA(ctx, st, audit, strings.TrimSpace(*email), stdout, stderr)
	case "import":
		return usersImport(st, target, audit, *file, stderr)
	case "export":
		return usersExport(st, target, *file, stdout, stderr)
	default: // delete
		if *email == "" {
			fmt.Fprintln(stderr, "gatehouse users delete: --email is required")
			return 2
		}
		u, err := st.Users().GetByEmail(ctx, *email)
		if errors.Is(err, store.ErrNotFound) {
			fmt.Fprintf(stderr, "gatehouse users delete: no user with email %s\n", *email)
			return 1
		}
		if err == nil {
			// Restorable for 30 days through the directory API; its
			// sessions and refresh tokens end.
			err = store.DeleteUser(ctx, u, time.Now(), st.Users(), st.DeletedUsers(), st.Sessions(), st.Refresh())
		}
		if err != nil {
			fmt.Fprintln(stderr, "gatehouse users delete:", err)
			return 1
		}
		audit.emit(ctx, "users.delete", u.Email, slog.String("userId", u.ID))
		fmt.Fprintf(stdout, "deleted %s (%s)\n", u.Email, u.ID)
		return 0
	}
}

func usersCreate(ctx context.Context, st store.Store, t stateTarget, audit *adminLog, email, pw, name string, admin bool, stdout, stderr io.Writer) int {
	if email == "" || pw == "" {
		fmt.Fprintln(stderr, "gatehouse users create: --email and a password (--password, --password-file or --password-stdin) are required")
		return 2
	}
	if at := strings.IndexByte(email, '@'); at < 1 || at == len(email)-1 || strings.ContainsAny(email, " \t<>") {
		fmt.Fprintf(stderr, "gatehouse users create: %q is not an email address\n", email)
		return 1
	}
	if err := password.Check(password.Strong, pw); err != nil {
		fmt.Fprintln(stderr, "gatehouse users create:", err)
		return 1
	}
	hash, err := password.DefaultHasher().Hash(ctx, pw)
	if err != nil {
		fmt.Fprintln(stderr, "gatehouse users create:", err)
		return 1
	}
	if name == "" {
		name = email[:strings.IndexByte(email, '@')]
	}
	if !tenant.PlainName(name) {
		fmt.Fprintf(stderr, "gatehouse users create: --display-name %q: %s\n", name, tenant.MsgNameCharacters)
		return 1
	}
	now := time.Now().UTC()
	u := &store.User{
		ID:           ids.NewGUID(),
		DisplayName:  name,
		Email:        strings.ToLower(email),
		PasswordHash: hash,
		Identities: []store.Identity{{
			SignInType: "emailAddress", Issuer: t.tenant + ".onmicrosoft.com", IssuerAssignedID: strings.ToLower(email),
		}},
		CreatedAt: now,
		UpdatedAt: now,
	}
	if admin {
		// The admin role: who may sign in to the admin console.
		u.Attributes = map[string]string{store.RolesAttribute: "admin"}
	}
	if err := st.Users().Create(ctx, u); err != nil {
		if errors.Is(err, store.ErrConflict) {
			fmt.Fprintf(stderr, "gatehouse users create: a user with email %s already exists\n", email)
			return 1
		}
		fmt.Fprintln(stderr, "gatehouse users create:", err)
		return 1
	}
	audit.emit(ctx, "users.create", u.Email, slog.String("userId", u.ID))
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	enc.Encode(toGraph(u))
	return 0
}

// mfaAttributes are what an account's second factors keep: the
// authenticator app's sealed secret and last step, the phone number.
var mfaAttributes = []string{"totpSecret", "totpLastStep", "strongAuthenticationPhoneNumber"}

// usersResetMFA is the administrator's recovery of a user who lost their
// authenticator app or phone: the next sign-in enrols again. Sessions and
// refresh tokens end, so nobody stays signed in on the old factor.
func usersResetMFA(ctx context.Context, st store.Store, audit *adminLog, email string, stdout, stderr io.Writer) int {
	if email == "" {
		fmt.Fprintln(stderr, "gatehouse users reset-mfa: --email is required")
		return 2
	}
	u, err := st.Users().GetByEmail(ctx, email)
	if errors.Is(err, store.ErrNotFound) {
		fmt.Fprintf(stderr, "gatehouse users reset-mfa: no user with email %s\n", email)
		return 1
	}
	if err == nil {
		for _, a := range mfaAttributes {
			delete(u.Attributes, a)
		}
		u.UpdatedAt = time.Now().UTC()
		err = st.Users().Update(ctx, u)
	}
	if err == nil {
		err = endSessions(ctx, st, u.ID)
	}
	if err != nil {
		fmt.Fprintln(stderr, "gatehouse users reset-mfa:", err)
		return 1
	}
	audit.emit(ctx, "users.reset-mfa", u.Email, slog.String("userId", u.ID))
	fmt.Fprintf(stdout, "reset the second factors of %s (%s): the next sign-in enrols again\n", u.Email, u.ID)
	return 0
}

// endSessions ends an account's SSO sessions and revokes its refresh
// tokens.
func endSessions(ctx context.Context, st store.Store, userID string) error {
	if err := st.Sessions().DeleteUser(ctx, userID); err != nil {
		return err
	}
	return st.Refresh().RevokeUser(ctx, userID)
}
