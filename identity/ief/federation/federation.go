// Package federation signs users in at other identity providers for the
// policy engine: OAuth2 providers (Facebook, GitHub, LinkedIn, Twitter
// style: authorization code, access token, claims endpoint) and OpenID
// Connect providers (discovery, code flow with PKCE and nonce, or B2C's
// id_token form post; id_tokens validated by package token). Each is a
// journey.Federation: Start sends the browser to the provider, Finish
// turns its answer into the technical profile's output claims, by their
// PartnerClaimType as B2C maps them.
//
// The browser comes back to the tenant's redirect URI, B2C's
// {host}/{tenant}.onmicrosoft.com/oauth2/authresp: registering Gatehouse
// at a provider means changing the host name of B2C's redirect URI.
package federation

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/identity/claimstx"
	"github.com/gatehouse/gatehouse/identity/ief/journey"
	"github.com/gatehouse/gatehouse/identity/ief/restful"
	"github.com/gatehouse/gatehouse/keys"
)

// Options configure the providers.
type Options struct {
	// Keys resolves the profiles' CryptographicKeys (client_secret).
	Keys keys.Resolver
	// RedirectURI is the tenant's callback (.../oauth2/authresp).
	RedirectURI string
	// Client calls the providers' token and claims endpoints and
	// metadata (nil: 10 s timeout).
	Client *http.Client
	Now    func() time.Time
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.Client == nil {
		o.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// maxBody bounds what a provider's endpoint may answer.
const maxBody = 1 << 20

// Keys of journey.State.Federation.
const (
	keyState    = journey.FederationStateKey
	keyVerifier = "verifier"
	keyNonce    = "nonce"
)

func random() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func challenge(verifier string) string {
	s := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(s[:])
}

// ErrCancelled is the user declining at the provider: B2C answers the app
// access_denied.
var ErrCancelled = journey.ErrProviderCancelled

// answerError turns a provider's error answer (error, error_description)
// into B2C's.
func answerError(answer map[string]string) error {
	code := answer["error"]
	if code == "" {
		return nil
	}
	if code == "access_denied" || code == "user_cancelled" || code == "consent_required" {
		return ErrCancelled
	}
	desc := answer["error_description"]
	if len(desc) > 200 {
		desc = desc[:200]
	}
	return &journey.UserError{Code: "AADB2C90273", Message: fmt.Sprintf("An invalid response was received: Error: %s, Error Description: %s", code, desc)}
}

// invalid is a provider answer Gatehouse cannot use; the log has the cause.
func (o Options) invalid(ctx context.Context, profile string, err error) error {
	o.Logger.WarnContext(ctx, "federation: identity provider", "profile", profile, "err", err)
	return &journey.UserError{Code: "AADB2C90273", Message: "An invalid response was received from the identity provider."}
}

func (o Options) secret(ctx context.Context, c *journey.Call) (string, error) {
	ref := c.Profile.Keys["client_secret"]
	if ref == "" {
		return "", nil
	}
	if o.Keys == nil {
		return "", errors.New("federation: no key store for client_secret")
	}
	b, err := o.Keys.Secret(ctx, ref)
	if err != nil {
		return "", fmt.Errorf("federation: %s: client_secret %s: %w", c.Profile.ID, ref, err)
	}
	return string(b), nil
}

// fetch does an HTTP request and reads at most maxBody of a 2xx answer.
func (o Options) fetch(req *http.Request) ([]byte, http.Header, error) {
	resp, err := o.Client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, nil, err
	}
	if len(b) > maxBody {
		return nil, nil, fmt.Errorf("%s %s: answer larger than %d bytes", req.Method, req.URL.Redacted(), maxBody)
	}
	if resp.StatusCode/100 != 2 {
		return nil, nil, fmt.Errorf("%s %s: %s: %.200s", req.Method, stripQuery(req.URL), resp.Status, b)
	}
	return b, resp.Header, nil
}

func stripQuery(u *url.URL) string {
	c := *u
	c.RawQuery = ""
	return c.String()
}

// decode reads a JSON object, or (format "" or "Default" with a
// form-encoded answer) URL-encoded pairs, as old OAuth2 providers answer.
func decode(b []byte, h http.Header) (map[string]any, error) {
	mt, _, _ := mime.ParseMediaType(h.Get("Content-Type"))
	trimmed := strings.TrimSpace(string(b))
	if mt == "application/x-www-form-urlencoded" || mt == "text/plain" && !strings.HasPrefix(trimmed, "{") {
		q, err := url.ParseQuery(trimmed)
		if err != nil {
			return nil, err
		}
		out := map[string]any{}
		for k := range q {
			out[k] = q.Get(k)
		}
		return out, nil
	}
	dec := json.NewDecoder(strings.NewReader(trimmed))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	return m, nil
}

// claims maps a provider's claims onto the profile's output claims by
// their names on the wire (PartnerClaimType, else ClaimType).
func claims(c *journey.Call, got map[string]any, paths bool) journey.Bag {
	out := journey.Bag{}
	for _, r := range c.Profile.OutputClaims {
		v, ok := restful.Lookup(got, r.Name(), paths)
		if !ok || v == nil {
			continue
		}
		id := c.Policy.ClaimID(r.ClaimType)
		dt := claimstx.String
		if ct := c.Policy.Claim(id); ct != nil {
			dt = claimstx.DataType(ct.DataType)
		}
		cl, err := restful.FromJSON(v, dt)
		if err != nil {
			if s, isStr := v.(json.Number); isStr {
				cl, err = claimstx.Parse(dt, s.String())
			}
			if err != nil {
				continue // a value that does not fit the claim is left out, as B2C does
			}
		}
		out[id] = cl
	}
	return out
}
