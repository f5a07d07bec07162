package roles

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"

	"github.com/gatehouse/gatehouse/identity/keyring"
	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/store/storeopen"
)

// checkStore is the store Check builds the identity role on: private and in
// memory, so validation never creates, migrates or writes a database.
const checkStore = "sqlite::memory:"

// Check validates cfg as Build does — registry, custom policies, policy
// keys, API connectors, mail, policy files, TLS files, guard and site —
// without opening the configured store and without listening: the identity
// role is built on a private in-memory store and everything is closed
// again. All problems are reported together. `gatehouse validate` runs only
// this; `gatehouse serve` runs it before it binds its listeners and opens
// the store with Build.
func Check(cfg *config.Config, o Options) error {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	// A registry of its own: Check's metrics are thrown away.
	o.Registry = nil
	c := *cfg
	var errs []error
	if cfg.Identity != nil {
		id := *cfg.Identity
		if err := storeopen.CheckURL(id.Storage); id.Storage != "" && err != nil {
			errs = append(errs, &config.Error{Pos: id.Pos, Msg: "identity.storage: " + err.Error()})
		}
		id.Storage = checkStore
		c.Identity = &id
	}
	set, err := Build(&c, o)
	if err != nil {
		errs = append(errs, err)
	} else {
		set.Close()
	}
	return errors.Join(errs...)
}

// wrongMasterKey turns the keyring's "no usable signing key" into a message
// naming the database and what to do.
func wrongMasterKey(id *config.Identity, storeURL string, err error) error {
	if !errors.Is(err, keyring.ErrNoUsableKey) {
		return err
	}
	return &config.Error{Pos: id.Pos, Msg: fmt.Sprintf("identity.masterKey cannot decrypt the token-signing keys stored in %s: "+
		"set identity.masterKey to the key this database was made with (or point identity.storage at another database)", redactURL(storeURL))}
}

// redactURL hides a database URL's password.
func redactURL(s string) string {
	if strings.HasPrefix(s, "sqlite:") {
		return strings.TrimPrefix(s, "sqlite://")
	}
	u, err := url.Parse(s)
	if err != nil {
		return "the configured database"
	}
	return u.Redacted()
}
