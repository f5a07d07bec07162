package gateway

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/gatehouse/gatehouse/apim"
	"github.com/gatehouse/gatehouse/internal/config"
)

// tokenSource serves authentication-managed-identity from
// gateway.managedIdentity: OAuth2 client credentials against each
// identity's token endpoint, scope = resource + "/.default" (a resource
// already ending in /.default is used as is). Tokens are cached per
// (client, resource) until tokenSkew before they expire; concurrent callers
// share one acquisition. A token without expires_in is cached for
// tokenDefaultLife.
type tokenSource struct {
	clients   map[string]*clientcredentials.Config // by client id; "" = default
	transport http.RoundTripper
	now       func() time.Time

	mu      sync.Mutex
	entries map[[2]string]*tokenEntry
}

type tokenEntry struct {
	done   chan struct{} // closed when the acquisition finished
	token  string
	expiry time.Time
	err    error
}

const (
	tokenSkew        = 5 * time.Minute
	tokenDefaultLife = 5 * time.Minute
)

// newTokenSource returns nil when mi is nil.
func newTokenSource(mi *config.ManagedIdentity, transport http.RoundTripper, now func() time.Time) (apim.TokenSource, *apim.ManagedIdentityOptions) {
	if mi == nil {
		return nil, nil
	}
	ts := &tokenSource{clients: map[string]*clientcredentials.Config{}, transport: transport, now: now, entries: map[[2]string]*tokenEntry{}}
	opts := &apim.ManagedIdentityOptions{}
	for i, id := range append([]config.ManagedIdentity{*mi}, mi.Identities...) {
		c := &clientcredentials.Config{ClientID: id.ClientID, ClientSecret: id.ClientSecret.Value, TokenURL: id.TokenEndpoint, AuthStyle: oauth2.AuthStyleInParams}
		if i == 0 {
			ts.clients[""] = c
		}
		if _, dup := ts.clients[id.ClientID]; !dup {
			ts.clients[id.ClientID] = c
			opts.ClientIDs = append(opts.ClientIDs, id.ClientID)
		}
	}
	return ts, opts
}

// scopeFor is Entra's v2 scope for a v1 resource.
func scopeFor(resource string) string {
	if strings.HasSuffix(resource, "/.default") {
		return resource
	}
	return strings.TrimRight(resource, "/") + "/.default"
}

// Token implements apim.TokenSource.
func (ts *tokenSource) Token(ctx context.Context, clientID, resource string) (string, error) {
	c, ok := ts.clients[clientID]
	if !ok {
		return "", fmt.Errorf("client-id %q is not configured in gateway.managedIdentity", clientID)
	}
	if resource == "" {
		return "", fmt.Errorf("resource is empty")
	}
	key := [2]string{c.ClientID, resource}
	ts.mu.Lock()
	e := ts.entries[key]
	if e != nil {
		select {
		case <-e.done:
			if e.err != nil || !ts.now().Before(e.expiry) {
				e = nil // failed or expired: acquire again
			}
		default: // an acquisition is under way: wait for it
		}
	}
	if e == nil {
		e = &tokenEntry{done: make(chan struct{})}
		ts.entries[key] = e
		ts.mu.Unlock()
		ts.acquire(c, resource, e)
	} else {
		ts.mu.Unlock()
	}
	select {
	case <-e.done:
		if e.err != nil {
			return "", e.err
		}
		return e.token, nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// acquire fetches a token into e. It does not use the caller's context, so
// a caller going away does not fail the callers waiting on the same entry;
// the request is bounded by its own timeout.
func (ts *tokenSource) acquire(c *clientcredentials.Config, resource string, e *tokenEntry) {
	defer close(e.done)
	cc := *c
	cc.Scopes = []string{scopeFor(resource)}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ctx = context.WithValue(ctx, oauth2.HTTPClient, &http.Client{Transport: ts.transport})
	tok, err := cc.Token(ctx)
	if err != nil {
		e.err = err
		return
	}
	e.token = tok.AccessToken
	life := tokenDefaultLife
	if !tok.Expiry.IsZero() {
		life = time.Until(tok.Expiry)
		if life > 2*tokenSkew {
			life -= tokenSkew
		} else {
			life /= 2 // short-lived token: refresh at half-life
		}
	}
	e.expiry = ts.now().Add(life)
}
