package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/gatehouse/gatehouse/identity"
	"github.com/gatehouse/gatehouse/identity/mail"
	"github.com/gatehouse/gatehouse/identity/userflow"
	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/store"
)

// identityRole is the OpenID provider with its hosted pages and store.
type identityRole struct {
	handler http.Handler
	store   store.Store
	stop    context.CancelFunc
}

func (r *identityRole) close() {
	r.stop()
	r.store.Close()
}

// buildIdentity wires the identity section: registry (validated config),
// store, provider, hosted pages, mail. configDir resolves a relative
// sqlite:// storage path.
func buildIdentity(cfg *config.Identity, configDir string, log *slog.Logger) (*identityRole, error) {
	reg, err := identity.NewRegistry(cfg)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := openState(ctx, stateTarget{storeURL: storageURL(cfg.Storage, configDir)})
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
	return &identityRole{handler: p, store: st, stop: stop}, nil
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
