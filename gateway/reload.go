package gateway

import (
	"github.com/gatehouse/gatehouse/internal/config"
)

// Reload loads cfg completely and, when it has no problem, makes it the
// gateway's configuration in one atomic step: requests already running
// finish on the old configuration, new ones use the new one, none is
// dropped. On error the old configuration stays and the error lists every
// problem (config.Errors, one "file:line:col: message" per line).
//
// Rate-limit, quota and cache stores are kept when gateway.redis and
// gateway.redisFailureMode are unchanged, so in-memory counters survive a
// reload. Stores that are replaced (a Redis client, the memory limiter's
// janitor) are closed once the last request using them has finished.
func (g *Gateway) Reload(cfg *config.Gateway) error {
	g.reloadMu.Lock()
	defer g.reloadMu.Unlock()
	if g.closed {
		return errClosed
	}
	old := g.cur.Load()
	st, err := g.build(cfg, old)
	if err != nil {
		g.metrics.reloads.WithLabelValues("failure").Inc()
		g.log.Warn("gateway reload failed; the previous configuration stays in use", "error", err)
		return err
	}
	g.budget.limit.Store(st.maxBuffered)
	g.cur.Store(st)
	if old != nil {
		old.retire()
	}
	g.metrics.reloads.WithLabelValues("success").Inc()
	g.log.Info("gateway reloaded", "apis", len(st.apis), "products", len(st.products),
		"stores_kept", old != nil && old.stores == st.stores)
	return nil
}
