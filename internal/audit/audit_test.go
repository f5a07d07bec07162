package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/secevent"
	"github.com/gatehouse/gatehouse/store/sqlite"
)

// TestLog: the stored kinds go to the store and the export, others do
// not; over the write limit events are dropped and counted.
func TestLog(t *testing.T) {
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "a.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var export bytes.Buffer
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { now = now.Add(time.Millisecond); return now } // events a millisecond apart
	l := New(Options{Store: st.Audit(), Throttles: st.Throttles(), PerMinute: 3, Export: &export, Now: clock})
	rec, _ := secevent.New(slog.New(slog.DiscardHandler), nil, nil)
	rec.SetSink(l.Sink)
	ctx := context.Background()
	rec.Emit(ctx, secevent.SignInFailed, slog.String("ip", "192.0.2.7"), slog.String("account", "abc"))
	rec.Emit(ctx, secevent.RequestRejected, slog.String("ip", "192.0.2.7")) // not stored: unbounded for anonymous callers
	rec.Emit(ctx, secevent.AdminAction, slog.String("action", "users.create"), slog.String("target", "u1"))
	rec.Emit(ctx, secevent.SignInSucceeded, slog.String("user", "u1"))
	rec.Emit(ctx, secevent.SignInFailed, slog.String("ip", "192.0.2.8")) // the fourth in the minute: over the limit
	page, err := st.Audit().Page(ctx, nil, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(page) != 3 || page[0].Kind != "signin_succeeded" || page[2].Attrs["ip"] != "192.0.2.7" || page[1].Attrs["action"] != "users.create" {
		t.Fatalf("stored %+v", page)
	}
	if l.Dropped() != 1 {
		t.Errorf("dropped %d, want 1", l.Dropped())
	}
	lines := strings.Split(strings.TrimSpace(export.String()), "\n")
	var first map[string]any
	if len(lines) != 3 || json.Unmarshal([]byte(lines[0]), &first) != nil || first["kind"] != "signin_failed" {
		t.Fatalf("export:\n%s", export.String())
	}
	if a := NewID(now); a >= NewID(now.Add(time.Nanosecond)) {
		t.Error("ids do not follow time")
	}
}
