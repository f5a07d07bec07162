package roles

import (
	"context"
	"log/slog"
	"time"

	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/internal/tracing"
)

// tracingFlushTimeout bounds the export of the last spans at Close.
const tracingFlushTimeout = 5 * time.Second

// startTracing turns tracing on for the config's tracing: section (nil:
// off) before any role is built, so the roles' handlers and transports
// are built traced; Close flushes the spans.
func (s *Set) startTracing(t *config.Tracing, log *slog.Logger) error {
	stop, err := tracing.Start(t, log)
	if err != nil {
		return err
	}
	s.stopTracing = stop
	return nil
}

// closeTracing exports the spans still buffered and stops the exporter.
func (s *Set) closeTracing() {
	if s.stopTracing == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), tracingFlushTimeout)
	defer cancel()
	_ = s.stopTracing(ctx)
	s.stopTracing = nil
}
