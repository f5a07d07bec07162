package tenant

import (
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/clientip"
	"github.com/gatehouse/gatehouse/internal/config"
)

// Limit is N events per fixed window (counted in store.Throttles).
type Limit struct {
	N      int
	Window time.Duration
}

// Limits are the identity role's bounds on anonymous callers, resolved
// from identity.lockout, identity.throttle and identity.trustedProxies
// with their defaults.
type Limits struct {
	LockoutThreshold int           // lockout.threshold (10)
	LockoutDuration  time.Duration // lockout.duration (60 s)
	FamiliarDevices  time.Duration // lockout.familiarDevices (90 d)

	SignInFailuresPerIP           Limit // 20 per 5 min
	CodesPerEmail                 Limit // 10 per hour
	CodesPerIP                    Limit // 30 per hour
	CodeGuessesPerEmail           Limit // 20 per hour
	CodeGuessesPerIP              Limit // 60 per hour
	ClientSecretFailuresPerClient Limit // 20 per 5 min
	ClientSecretFailuresPerIP     Limit // 20 per 5 min
	AuthorizePerIP                Limit // 600 per 5 min
	GraphRequestsPerApp           Limit // 1,000 per 10 s

	// TrustedProxies are identity.trustedProxies: only from these peers
	// is X-Forwarded-For believed (ClientIP).
	TrustedProxies []netip.Prefix
}

// Default limits.
var (
	DefaultSignInFailuresPerIP           = Limit{20, 5 * time.Minute}
	DefaultCodesPerEmail                 = Limit{10, time.Hour}
	DefaultCodesPerIP                    = Limit{30, time.Hour}
	DefaultCodeGuessesPerEmail           = Limit{20, time.Hour}
	DefaultCodeGuessesPerIP              = Limit{60, time.Hour}
	DefaultClientSecretFailuresPerClient = Limit{20, 5 * time.Minute}
	DefaultClientSecretFailuresPerIP     = Limit{20, 5 * time.Minute}
	// Sign-in transactions started per client address: B2C allows 6,000
	// requests of any kind per address per 5 minutes, and a sign-in makes
	// several.
	DefaultAuthorizePerIP = Limit{600, 5 * time.Minute}
	// Graph's own: thousands of requests per 10 seconds per app.
	DefaultGraphRequestsPerApp = Limit{1000, 10 * time.Second}
	DefaultFamiliarDevices     = 90 * 24 * time.Hour
)

// NewLimits resolves the limits of an identity config (nil: defaults).
// The config was validated; an unparsable trusted proxy is skipped.
func NewLimits(src *config.Identity) *Limits {
	l := &Limits{
		LockoutThreshold: 10, LockoutDuration: time.Minute, FamiliarDevices: DefaultFamiliarDevices,
		SignInFailuresPerIP: DefaultSignInFailuresPerIP, CodesPerEmail: DefaultCodesPerEmail, CodesPerIP: DefaultCodesPerIP,
		CodeGuessesPerEmail: DefaultCodeGuessesPerEmail, CodeGuessesPerIP: DefaultCodeGuessesPerIP,
		ClientSecretFailuresPerClient: DefaultClientSecretFailuresPerClient, ClientSecretFailuresPerIP: DefaultClientSecretFailuresPerIP,
		AuthorizePerIP: DefaultAuthorizePerIP, GraphRequestsPerApp: DefaultGraphRequestsPerApp,
	}
	if src == nil {
		return l
	}
	if lk := src.Lockout; lk != nil {
		if lk.Threshold > 0 {
			l.LockoutThreshold = lk.Threshold
		}
		l.LockoutDuration = lk.Duration.Or(l.LockoutDuration)
		l.FamiliarDevices = lk.FamiliarDevices.Or(l.FamiliarDevices)
	}
	if t := src.Throttle; t != nil {
		set := func(dst *Limit, c *config.Limit) {
			if c != nil && c.Limit > 0 {
				*dst = Limit{c.Limit, c.Window.Or(dst.Window)}
			}
		}
		set(&l.SignInFailuresPerIP, t.SignInFailuresPerIP)
		set(&l.CodesPerEmail, t.CodesPerEmail)
		set(&l.CodesPerIP, t.CodesPerIP)
		set(&l.CodeGuessesPerEmail, t.CodeGuessesPerEmail)
		set(&l.CodeGuessesPerIP, t.CodeGuessesPerIP)
		set(&l.ClientSecretFailuresPerClient, t.ClientSecretFailuresPerClient)
		set(&l.ClientSecretFailuresPerIP, t.ClientSecretFailuresPerIP)
		set(&l.AuthorizePerIP, t.AuthorizePerIP)
		set(&l.GraphRequestsPerApp, t.GraphRequestsPerApp)
	}
	for _, s := range src.TrustedProxies {
		var p netip.Prefix
		var err error
		if strings.Contains(s, "/") {
			p, err = netip.ParsePrefix(s)
		} else {
			var a netip.Addr
			if a, err = netip.ParseAddr(s); err == nil {
				p = netip.PrefixFrom(a, a.BitLen())
			}
		}
		if err == nil {
			l.TrustedProxies = append(l.TrustedProxies, p.Masked())
		}
	}
	return l
}

func (l *Limits) isTrusted(a netip.Addr) bool {
	for _, p := range l.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ClientIP is the caller's address: the TCP peer, or — only when the peer
// is a trusted proxy — the right-most untrusted X-Forwarded-For hop
// (internal/clientip, the gateway's rule). A header alone is never
// believed. The zero Addr when RemoteAddr is not an address.
func (l *Limits) ClientIP(r *http.Request) netip.Addr {
	peer, err := netip.ParseAddr(clientip.Host(r.RemoteAddr))
	if err != nil {
		return netip.Addr{}
	}
	peer = peer.Unmap()
	if l == nil || len(l.TrustedProxies) == 0 || !l.isTrusted(peer) {
		return peer
	}
	return clientip.Forwarded(r.Header, peer, l.isTrusted, netip.Addr.Unmap)
}

// ThrottleKey is the part of a throttle key that names a client address:
// the address itself for IPv4, its /64 for IPv6 (one subscriber holds a
// whole /64, so counting single IPv6 addresses would count nothing).
func ThrottleKey(a netip.Addr) string {
	if !a.IsValid() {
		return "unknown"
	}
	if a.Is6() && !a.Is4In6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.Unmap().String()
}
