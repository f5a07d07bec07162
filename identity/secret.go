package identity

import (
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse/internal/secevent"
)

// ---- client-secret guessing ----
//
// Wrong client secrets are counted in the store (store.Throttles, so every
// process shares the counts) per client address (IPv6: its /64) and per
// client id, in fixed windows (identity.throttle.clientSecretFailuresPerIp
// and ...PerClient, 20 per 5 min each). Only failures are counted, so the
// client-credentials path of a client that knows its secret stays free of
// store round trips.
//
//   - An address over its limit gets 429 temporarily_unavailable
//     (AADB2C90229) for every client authentication until the window
//     ends, its secrets not even compared: it learns nothing more.
//   - A client id over its limit is under attack: until the window ends
//     only addresses without a failure in their own window may
//     authenticate it (one store read each); the others get 429 without a
//     comparison. Its real callers, which do not fail, are not locked out
//     by strangers.
//   - Counting is atomic (one upsert), so exactly limit failures per
//     window get a definite invalid_client; each process learns that a
//     limit was crossed from its own next failure (remembered until the
//     window ends), so a correct guess could only be tested among those
//     limit failures plus, at most, one per process and the requests in
//     flight at that moment — against secrets of 16 characters or more.

// AADB2C90229 is B2C's throttling error.
const throttledDesc = "Azure AD B2C throttled traffic if too many requests are sent from the same source in a short period of time."

type secretGuard struct {
	once   sync.Once
	limits *Limits
	mu     sync.Mutex
	over   map[string]time.Time // throttle key -> end of the window it is over in
}

// maxOver bounds the remembered keys (one per throttled address or
// client); beyond it expired ones are dropped, then all (the store still
// has the counts, and the next failure remembers again).
const maxOver = 10_000

func (g *secretGuard) init(p *Provider) *Limits {
	g.once.Do(func() {
		g.limits = p.limits
		g.over = map[string]time.Time{}
	})
	return g.limits
}

func (g *secretGuard) until(key string, now time.Time) time.Time {
	g.mu.Lock()
	defer g.mu.Unlock()
	t, ok := g.over[key]
	if ok && !t.After(now) {
		delete(g.over, key)
		return time.Time{}
	}
	return t
}

func (g *secretGuard) mark(key string, ends, now time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.over) >= maxOver {
		for k, t := range g.over {
			if !t.After(now) {
				delete(g.over, k)
			}
		}
		if len(g.over) >= maxOver {
			clear(g.over)
		}
	}
	g.over[key] = ends
}

// throttled is the 429 answer, with Retry-After.
func (p *Provider) throttled(retry time.Duration) *oauthError {
	e := p.oerr(http.StatusTooManyRequests, "temporarily_unavailable", "AADB2C90229", throttledDesc)
	e.retryAfter = retry
	return e
}

// checkClientSecret compares secret with client's, under the guessing
// throttle. nil: authenticated.
func (p *Provider) checkClientSecret(r *http.Request, client *App, secret string) *oauthError {
	lim := p.secrets.init(p)
	ctx := r.Context()
	now := p.now()
	ip := lim.ClientIP(r)
	ipKey := "client-fail:ip:" + ThrottleKey(ip)
	clKey := "client-fail:client:" + strings.ToLower(client.ClientID)
	attrs := []slog.Attr{slog.String("ip", ip.String()), slog.String("client_id", client.ClientID)}
	if t := p.secrets.until(ipKey, now); !t.IsZero() {
		p.opts.Events.Emit(ctx, secevent.ClientThrottled, append(attrs, slog.String("by", "ip"))...)
		return p.throttled(t.Sub(now))
	}
	if t := p.secrets.until(clKey, now); !t.IsZero() {
		n, ends, err := p.st.Throttles().Hit(ctx, ipKey, 0, now, lim.ClientSecretFailuresPerIP.Window)
		if err != nil {
			return p.storeError(err)
		}
		if n > 0 {
			p.opts.Events.Emit(ctx, secevent.ClientThrottled, append(attrs, slog.String("by", "client"))...)
			if ends.Before(t) {
				t = ends
			}
			return p.throttled(t.Sub(now))
		}
	}
	if client.CheckSecret(secret) {
		return nil
	}
	th := p.st.Throttles()
	nIP, endIP, err := th.Hit(ctx, ipKey, 1, now, lim.ClientSecretFailuresPerIP.Window)
	if err != nil {
		return p.storeError(err)
	}
	nCl, endCl, err := th.Hit(ctx, clKey, 1, now, lim.ClientSecretFailuresPerClient.Window)
	if err != nil {
		return p.storeError(err)
	}
	var by []string
	retry := time.Duration(0)
	if nIP > lim.ClientSecretFailuresPerIP.N {
		p.secrets.mark(ipKey, endIP, now)
		by, retry = append(by, "ip"), endIP.Sub(now)
	}
	if nCl > lim.ClientSecretFailuresPerClient.N {
		p.secrets.mark(clKey, endCl, now)
		by = append(by, "client")
		if retry == 0 {
			retry = endCl.Sub(now)
		}
	}
	if len(by) > 0 {
		p.opts.Events.Emit(ctx, secevent.ClientThrottled, append(attrs, slog.String("by", strings.Join(by, ",")))...)
		return p.throttled(retry)
	}
	p.opts.Events.Emit(ctx, secevent.ClientAuthFailed, append(attrs, slog.Int("failures_ip", nIP), slog.Int("failures_client", nCl))...)
	return p.oerr(http.StatusUnauthorized, "invalid_client", "AADB2C90081", "The specified client_secret does not match the expected value for this client. Please correct the client_secret and try again.")
}

// storeError answers a store failure during client authentication.
func (p *Provider) storeError(err error) *oauthError {
	p.log.Error("identity: store", "err", err)
	return p.oerr(http.StatusServiceUnavailable, "temporarily_unavailable", "AADB2C90035", "The service is temporarily unavailable. Please retry after a few minutes.")
}
