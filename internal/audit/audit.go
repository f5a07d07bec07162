// Package audit keeps the audit log: the security events that matter to
// an administrator (sign-ins that succeeded or failed, lockouts, wrong
// codes and client secrets, changes by operators and apps) written to the
// store with their time, actor, target and source address, readable
// through the directory API's /auditLogs and, optionally, copied as JSON
// lines to a file or stdout for a SIEM.
package audit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse/gatehouse/internal/secevent"
	"github.com/gatehouse/gatehouse/store"
)

// Stored are the kinds the log keeps. Each is bounded by a limit of its
// own (sign-in failures per address and lockout, code guesses, client
// secret guesses); events an anonymous caller can repeat without bound
// (rejected requests, codes sent) stay in the logs and metrics only.
var Stored = map[secevent.Kind]bool{secevent.SignInSucceeded: true, secevent.SignInFailed: true, secevent.AccountLocked: true,
	secevent.SignInLocked: true, secevent.CodeFailed: true, secevent.ClientAuthFailed: true, secevent.AdminAction: true,
	secevent.ConnectorFailed: true}

// Options configure a Log.
type Options struct {
	Store store.AuditLog
	// Throttles and PerMinute bound the rows written, across processes
	// (default 10,000 a minute); events over it are counted as dropped.
	Throttles store.Throttles
	PerMinute int
	// Export, when set, receives every stored event as a JSON line.
	Export io.Writer
	Logger *slog.Logger
	Now    func() time.Time
}

// Log writes audit events.
type Log struct {
	o       Options
	mu      sync.Mutex // one line at a time on Export
	dropped atomic.Int64
}

// New returns a Log.
func New(o Options) *Log {
	if o.PerMinute <= 0 {
		o.PerMinute = 10000
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Log{o: o}
}

// Dropped is the number of events not stored because of the write limit.
func (l *Log) Dropped() int64 { return l.dropped.Load() }

// Sink is secevent.Recorder's sink: it stores the events of the Stored
// kinds. A store that fails is logged, never the caller's failure: a
// sign-in does not fail because its record could not be written.
func (l *Log) Sink(ctx context.Context, kind secevent.Kind, attrs []slog.Attr) {
	if !Stored[kind] {
		return
	}
	ctx = context.WithoutCancel(ctx)
	now := l.o.Now()
	if l.o.Throttles != nil {
		n, _, err := l.o.Throttles.Hit(ctx, "audit:writes", 1, now.Truncate(time.Minute), time.Minute)
		if err == nil && n > l.o.PerMinute {
			if l.dropped.Add(1)%1000 == 1 {
				l.o.Logger.Warn("audit: over the write limit, events dropped", "limit_per_minute", l.o.PerMinute, "dropped", l.dropped.Load())
			}
			return
		}
	}
	e := &store.AuditEvent{ID: NewID(now), Time: now.UTC(), Kind: string(kind), Attrs: map[string]string{}}
	for _, a := range attrs {
		e.Attrs[a.Key] = a.Value.String()
	}
	if err := l.o.Store.Append(ctx, e); err != nil {
		l.o.Logger.Error("audit: storing an event", "err", err, "kind", kind)
	}
	if l.o.Export != nil {
		b, err := json.Marshal(map[string]any{"id": e.ID, "time": e.Time.Format(time.RFC3339Nano), "kind": e.Kind, "attrs": e.Attrs})
		if err == nil {
			l.mu.Lock()
			_, _ = l.o.Export.Write(append(b, '\n'))
			l.mu.Unlock()
		}
	}
}

// NewID is a time-ordered event id: the time in hex nanoseconds, then
// random bits against collisions between processes.
func NewID(t time.Time) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%016x%s", t.UnixNano(), hex.EncodeToString(b))
}
