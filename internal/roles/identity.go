package roles

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/identity"
	"github.com/gatehouse/gatehouse/identity/mail"
	"github.com/gatehouse/gatehouse/identity/userflow"
	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/store"
	"github.com/gatehouse/gatehouse/store/storeopen"
)

// Identity is the OpenID provider with its hosted pages and store.
type Identity struct {
	Handler  http.Handler
	Provider *identity.Provider
	Store    store.Store
	stop     context.CancelFunc
}

// Close stops the store sweeper and closes the store.
func (r *Identity) Close() {
	r.stop()
	r.Store.Close()
}

// BuildIdentity wires the identity section: registry (validated config),
// store, provider, hosted pages, mail. configDir resolves a relative
// sqlite:// storage path.
func BuildIdentity(cfg *config.Identity, configDir string, log *slog.Logger) (*Identity, error) {
	reg, err := identity.NewRegistry(cfg)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := OpenStore(ctx, StorageURL(cfg.Storage, configDir))
	if err != nil {
		return nil, &config.Error{Pos: cfg.Pos, Msg: "identity.storage: " + err.Error()}
	}
	p, err := identity.NewProvider(reg, st, identity.Options{Logger: log})
	if err != nil {
		st.Close()
		return nil, err
	}
	var sender mail.Sender
	if cfg.Email != nil {
		if sender, err = mail.FromConfig(cfg.Email, log); err != nil {
			st.Close()
			return nil, &config.Error{Pos: cfg.Email.Pos, Msg: "identity.email: " + err.Error()}
		}
	} else if needsMail(reg) {
		st.Close()
		return nil, &config.Error{Pos: cfg.Pos, Msg: "identity.email is required: a user flow verifies email addresses or resets passwords (use outbox: DIR in development, smtp: in production)"}
	} else {
		log.Warn("identity.email is not configured: self-service password reset cannot send codes")
	}
	flows, err := userflow.New(userflow.Options{Registry: reg, Store: st, Completer: p, Mail: sender, Logger: log})
	if err != nil {
		st.Close()
		return nil, err
	}
	p.SetInteraction(flows)
	sweepCtx, stop := context.WithCancel(context.Background())
	go sweep(sweepCtx, st, log)
	return &Identity{Handler: p, Provider: p, Store: st, stop: stop}, nil
}

// StorageURL resolves a relative sqlite:// path against the config's folder,
// as every other path in a config is; the default is ./data/gatehouse.db
// beside the config.
func StorageURL(u, dir string) string {
	if u == "" {
		return "sqlite://" + filepath.Join(dir, "data", "gatehouse.db")
	}
	if p, ok := strings.CutPrefix(u, "sqlite://"); ok && !filepath.IsAbs(p) && p != ":memory:" {
		return "sqlite://" + filepath.Join(dir, p)
	}
	return u
}

// OpenStore opens a store, creating the folder of a SQLite file.
func OpenStore(ctx context.Context, url string) (store.Store, error) {
	if p, ok := strings.CutPrefix(url, "sqlite://"); ok && p != ":memory:" {
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			return nil, err
		}
	}
	return storeopen.Open(ctx, url)
}

// needsMail reports whether some flow cannot work without sending codes.
// (Self-service password reset inside sign-in also sends them; without
// identity.email it answers with an error page, and start-up warns.)
func needsMail(reg *identity.Registry) bool {
	for _, f := range reg.Flows {
		if f.EmailVerification || f.Type == "passwordReset" {
			return true
		}
	}
	return false
}

// sweep removes expired codes, sessions and transactions every few minutes.
func sweep(ctx context.Context, st store.Store, log *slog.Logger) {
	s, ok := st.(store.Sweeper)
	if !ok {
		return
	}
	t := time.NewTicker(5 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.Sweep(ctx); err != nil && !errors.Is(err, context.Canceled) {
				log.Warn("store sweep failed", "err", err)
			}
		}
	}
}
