package userflow

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/gatehouse/gatehouse/identity/claimstx"
	"github.com/gatehouse/gatehouse/identity/idmetrics"
	"github.com/gatehouse/gatehouse/identity/ief/journey"
	"github.com/gatehouse/gatehouse/identity/tenant"
)

// A user flow's API connectors as journey steps (the APIConnector
// provider of identity/ief): PostAttributeCollection validates the
// sign-up page, PreTokenIssuance adds token claims.

// blockPage is a connector's ShowBlockPage answer: the journey ends on a
// page with the API's message.
type blockPage struct{ msg string }

func (b *blockPage) Error() string { return "API connector: block page: " + b.msg }

// connectorFailed is an API that did not answer usably (timeout, bad
// answer): the user sees a generic message, the log the cause.
type connectorFailed struct {
	step string
	err  error
}

func (c *connectorFailed) Error() string { return "API connector " + c.step + ": " + c.err.Error() }
func (c *connectorFailed) Unwrap() error { return c.err }

// apiConnector runs an APIConnector profile.
func (f *Flows) apiConnector(ctx context.Context, jc *journey.Call) (journey.Bag, error) {
	c := callFrom(ctx)
	if c == nil {
		return nil, errors.New("userflow: API connector outside a page request")
	}
	step, name := jc.Profile.Metadata["Step"], jc.Profile.Metadata["Connector"]
	if !strings.EqualFold(tenant.ConnectorName(c.flow, step), name) {
		// The provider serves compiled user flows, whose profiles name
		// the flow's own connectors.
		return nil, fmt.Errorf("userflow: technical profile %s: connector %q is not the %s connector of %s", jc.Profile.ID, name, step, c.flow.Name)
	}
	if f.conn == nil {
		return journey.Bag{}, nil // no connectors configured (Options.Connectors)
	}
	var claims map[string]any
	if step == tenant.StepPreTokenIssuance {
		u, err := f.st.Users().Get(ctx, claimstx.FormatValue(jc.Inputs["objectId"].Value))
		if err != nil {
			return nil, err
		}
		claims = userClaims(u)
	} else {
		// The attributes the user entered, as B2C sends them: the email,
		// the identities the account will have, and the step.
		claims = map[string]any{}
		for name, v := range jc.Inputs {
			if s := claimstx.FormatValue(v.Value); s != "" {
				claims[name] = s
			}
		}
		idp, _ := claims["identityProvider"].(string)
		key, _ := claims["issuerUserId"].(string)
		delete(claims, "identityProvider")
		delete(claims, "issuerUserId")
		if email, _ := claims["email"].(string); idp != "" && key != "" {
			// A federated sign-up: B2C sends the provider's identity.
			claims["identities"] = []map[string]string{{"signInType": "federated", "issuer": idp, "issuerAssignedId": key}}
		} else if email != "" {
			claims["identities"] = []map[string]string{{"signInType": "emailAddress", "issuer": f.reg.Domain(),
				"issuerAssignedId": normEmail(email)}}
		}
		claims["step"] = step
	}
	claims["client_id"] = c.tx.Request.ClientID
	if loc := c.tx.Request.UILocales; loc != "" {
		claims["ui_locales"] = loc
	} else if al := c.r.Header.Get("Accept-Language"); al != "" {
		// The browser's first language, as B2C sends the device locale.
		al, _, _ = strings.Cut(al, ",")
		al, _, _ = strings.Cut(al, ";")
		if al = strings.TrimSpace(al); al != "" && al != "*" && len(al) <= 35 {
			claims["ui_locales"] = al
		}
	}
	out, err := f.conn.Call(ctx, step, c.flow, claims)
	if err != nil {
		return nil, &connectorFailed{step: step, err: err}
	}
	switch out.Action {
	case ShowBlockPage:
		f.metrics.Failed(idmetrics.ReasonBlocked)
		return nil, &blockPage{msg: out.Message}
	case ValidationError:
		if step == tenant.StepPostAttributeCollection {
			f.metrics.SignUp(c.flow.Name, idmetrics.Failure)
			f.metrics.Failed(idmetrics.ReasonBlocked)
			return nil, &journey.UserError{Code: "AADB2C90075", Message: out.Message}
		}
	}
	if step == tenant.StepPreTokenIssuance {
		// Claims for the token, whatever their names (extension_...).
		if len(out.Claims) > 0 && c.pol.TokenClaims == nil {
			c.pol.TokenClaims = map[string]any{}
		}
		for k, v := range out.Claims {
			c.pol.TokenClaims[k] = v
		}
		return journey.Bag{}, nil
	}
	// Overrides of the collected attributes (never the email: the
	// profile's output claims are the attributes only).
	got := map[string]claimstx.Claim{}
	for k, v := range out.Claims {
		if s, ok := v.(string); ok && validAttrName(k) {
			got[k] = claimstx.Claim{DataType: claimstx.String, Value: s}
		}
	}
	return jc.ByName(got), nil
}

// connectorError answers a journey that a connector ended; false when err
// is no connector's.
func (c *call) connectorError(err error) bool {
	var bp *blockPage
	var cf *connectorFailed
	switch {
	case errors.As(err, &bp):
		msg := bp.msg
		if msg == "" {
			msg = "There was a problem with your request."
		}
		c.f.errorText(c.w, c.r, http.StatusForbidden, msg)
	case errors.As(err, &cf):
		c.f.log.ErrorContext(c.r.Context(), "userflow: API connector", "step", cf.step, "err", cf.err)
		c.f.errorPage(c.w, c.r, http.StatusBadGateway, "error_api")
	default:
		return false
	}
	return true
}

// legacyPassword asks the flow's passwordMigration connector whether pw is
// the password of email in the system the account came from (B2C's
// seamless migration): Continue means yes; ValidationError or
// ShowBlockPage, no. The password goes only to that connector, only for
// accounts that have none here, after the sign-in throttles and lockout.
func (c *call) legacyPassword(email, pw string) (bool, error) {
	claims := map[string]any{"email": email, "password": pw, "client_id": c.tx.Request.ClientID,
		"identities": []map[string]string{{"signInType": "emailAddress", "issuer": c.f.reg.Domain(), "issuerAssignedId": email}}}
	out, err := c.f.conn.Call(c.r.Context(), tenant.StepPasswordMigration, c.flow, claims)
	if err != nil {
		return false, &connectorFailed{step: tenant.StepPasswordMigration, err: err}
	}
	return out.Action == Continue, nil
}
