package main

import (
	"context"
	"io"
	"log/slog"
	"os/user"

	"github.com/gatehouse/gatehouse/identity/keyring"
	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/secevent"
	"github.com/gatehouse/gatehouse/store"
)

// adminLog records the admin actions of a state command (users create |
// delete, keys add | delete | rotate-signing): one security event each
// (secevent.AdminAction), a JSON line on stderr. Events carry no secret:
// accounts appear as the tenant's keyed hash (the key derived from the
// master key, as the identity role's events are), never as addresses.
type adminLog struct {
	rec    *secevent.Recorder
	keyed  bool
	target stateTarget
}

func newAdminLog(stderr io.Writer, cfgFile, dataDir string, target stateTarget, st store.Store) *adminLog {
	var key []byte
	if master, err := keysMasterKey(cfgFile, dataDir); err == nil {
		key = keyring.Derive(master, "secevent")
	}
	log := slog.New(slog.NewJSONHandler(stderr, nil))
	rec, _ := secevent.New(log, nil, key)
	// The actions go to the tenant's audit log too (directoryAudits).
	rec.SetSink(audit.New(audit.Options{Store: st.Audit(), Logger: log}).Sink)
	return &adminLog{rec: rec, keyed: key != nil, target: target}
}

// emit records one action; email, when not empty, is logged hashed (and
// not at all without the master key: an unkeyed hash of an address is
// as good as the address).
func (a *adminLog) emit(ctx context.Context, action, email string, attrs ...slog.Attr) {
	all := []slog.Attr{slog.String("action", action), slog.String("tenant", a.target.tenant)}
	if u, err := user.Current(); err == nil {
		all = append(all, slog.String("operator", u.Username))
	}
	if email != "" && a.keyed {
		all = append(all, slog.String("account", a.rec.Hash(email)))
	}
	a.rec.Emit(ctx, secevent.AdminAction, append(all, attrs...)...)
}
