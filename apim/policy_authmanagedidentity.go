package apim

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse/apim/rawxml"
)

// authentication-managed-identity: obtains a bearer token for resource from
// Env.Tokens (gateway.managedIdentity: an OAuth2 client-credentials client
// standing in for Azure managed identity) and sets the backend request's
// Authorization to "Bearer <token>", or stores the token in
// output-token-variable-name instead. client-id selects the identity
// (gateway.managedIdentity.clientId or one of its identities); absent, the
// main identity is used. ignore-error="true" continues without a token when
// acquisition fails. Also accepted inside send-request.
//
// Without gateway.managedIdentity the policy is a load error (accepted by
// `policy check`, which loads leniently); a constant client-id that is not
// configured is a load error too.

// TokenSource acquires bearer tokens for authentication-managed-identity.
// clientID is "" for the default identity. Implementations cache tokens.
type TokenSource interface {
	Token(ctx context.Context, clientID, resource string) (string, error)
}

// ManagedIdentityOptions tells the loader which identities the gateway's
// token source serves.
type ManagedIdentityOptions struct {
	ClientIDs []string // the default identity first
}

func init() {
	Register(Spec{Name: "authentication-managed-identity", Sections: []Section{Inbound}, Compile: compileManagedIdentity})
	msgCompilers["authentication-managed-identity"] = compileManagedIdentity
}

type managedIdentity struct {
	resource, clientID, ignoreError Value
	outVar                          string
}

func compileManagedIdentity(b *Builder, n *rawxml.Node) (Policy, error) {
	if err := b.Attrs(n, "resource", "client-id", "output-token-variable-name", "ignore-error"); err != nil {
		return nil, err
	}
	if err := b.Children(n); err != nil {
		return nil, err
	}
	mi := b.ld.opts.ManagedIdentity
	if mi == nil && !b.ld.opts.Lenient {
		return nil, b.Errorf(n.Pos, "authentication-managed-identity needs a token source: configure gateway.managedIdentity (tokenEndpoint, clientId, clientSecret) with an OAuth2 client-credentials client of your identity provider")
	}
	p := &managedIdentity{}
	var err error
	if p.resource, err = b.Attr(n, "resource"); err != nil {
		return nil, err
	}
	if !p.resource.Set || (!p.resource.IsExpr() && strings.TrimSpace(p.resource.Lit) == "") {
		return nil, b.Errorf(n.Pos, "authentication-managed-identity: attribute \"resource\" is required")
	}
	if p.clientID, err = b.Attr(n, "client-id"); err != nil {
		return nil, err
	}
	if p.clientID.Set && !p.clientID.IsExpr() && mi != nil && !slices.Contains(mi.ClientIDs, strings.TrimSpace(p.clientID.Lit)) {
		return nil, b.Errorf(p.clientID.Pos, "authentication-managed-identity: client-id %q is not configured in gateway.managedIdentity (clientId or identities)", p.clientID.Lit)
	}
	out, err := b.ConstAttr(n, "output-token-variable-name")
	if err != nil {
		return nil, err
	}
	if out.Set && strings.TrimSpace(out.Lit) == "" {
		return nil, b.Errorf(out.Pos, "authentication-managed-identity: output-token-variable-name is empty")
	}
	p.outVar = strings.TrimSpace(out.Lit)
	if p.ignoreError, err = b.Attr(n, "ignore-error"); err != nil {
		return nil, err
	}
	if err := checkEnum(b, p.ignoreError, "ignore-error", "true", "false"); err != nil {
		return nil, err
	}
	return p, nil
}

// token returns the token, or "" when acquisition failed and ignore-error is true.
func (p *managedIdentity) token(x *Exec) (string, error) {
	res, err := x.String(p.resource)
	if err != nil {
		return "", err
	}
	cid, err := x.String(p.clientID)
	if err != nil {
		return "", err
	}
	ignore, err := x.Bool(p.ignoreError, false)
	if err != nil {
		return "", err
	}
	var tok string
	if x.Env == nil || x.Env.Tokens == nil {
		err = errString("gateway.managedIdentity is not configured")
	} else {
		tok, err = x.Env.Tokens.Token(x.Context(), strings.TrimSpace(cid), strings.TrimSpace(res))
	}
	if err != nil {
		if ignore {
			x.logger().Warn("apim: managed identity token not acquired; continuing (ignore-error)", "resource", res, "error", err.Error())
			return "", nil
		}
		return "", &PolicyError{Source: "authentication-managed-identity", Reason: "TokenAcquisitionFailure", Message: "could not obtain a token for resource " + res + ": " + err.Error(), Status: http.StatusInternalServerError, ClientMessage: "Internal server error"}
	}
	return tok, nil
}

func (p *managedIdentity) Exec(x *Exec) error {
	tok, err := p.token(x)
	if err != nil || tok == "" {
		return err
	}
	if p.outVar != "" {
		x.Ctx.Variables[p.outVar] = tok
		return nil
	}
	x.requestHeaders().Set("Authorization", "Bearer "+tok)
	return nil
}

func (p *managedIdentity) applyMsg(x *Exec, m *message) error {
	tok, err := p.token(x)
	if err != nil || tok == "" {
		return err
	}
	if p.outVar != "" {
		x.Ctx.Variables[p.outVar] = tok
		return nil
	}
	if m.headers == nil {
		m.headers = http.Header{}
	}
	m.headers.Set("Authorization", "Bearer "+tok)
	return nil
}
