package identity

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// ccTemplate is a pre-built client-credentials token: the static part of
// the claims JSON and of the response, per client, API and policy.
type ccTemplate struct {
	claimsPrefix []byte // {"aud":..,"azp":..,"iss":..,"scp":..,"sub":..,"tfp":..,"ver":"1.0",
	resource     string
	ttl          time.Duration
}

// clientCredentials is the client_credentials grant: a confidential
// client asks for {identifierUri}/.default and gets an access token for
// that API with the scopes it was granted. No store round trip: secret
// check, template lookup, one signature.
func (p *Provider) clientCredentials(w http.ResponseWriter, form url.Values, flow *Flow, client *App) {
	if client.Public() {
		p.oerr(http.StatusBadRequest, "unauthorized_client", "AADB2C90058", "The provided application is not configured to allow the client credentials grant: it is a public client.").write(w)
		return
	}
	scope := strings.TrimSpace(form.Get("scope"))
	if scope == "" {
		p.oerr(http.StatusBadRequest, "invalid_request", "AADB2C90083", "The request is missing required parameter: scope.").write(w)
		return
	}
	key := client.ClientID + "\x00" + scope + "\x00" + flow.Name
	var t *ccTemplate
	if v, ok := p.ccTemplates.Load(key); ok {
		t = v.(*ccTemplate)
	} else {
		var e *oauthError
		t, e = p.buildCC(client, scope, flow)
		if e != nil {
			e.write(w)
			return
		}
		p.ccTemplates.Store(key, t)
	}
	now := p.now().Unix()
	exp := now + int64(t.ttl/time.Second)
	claims := make([]byte, 0, len(t.claimsPrefix)+48)
	claims = append(claims, t.claimsPrefix...)
	claims = append(claims, `"iat":`...)
	claims = strconv.AppendInt(claims, now, 10)
	claims = append(claims, `,"nbf":`...)
	claims = strconv.AppendInt(claims, now, 10)
	claims = append(claims, `,"exp":`...)
	claims = strconv.AppendInt(claims, exp, 10)
	claims = append(claims, '}')
	tok, err := p.keys.Sign(claims)
	if err != nil {
		p.signFailed(w, err)
		return
	}
	out := make([]byte, 0, len(tok)+160)
	out = append(out, `{"access_token":"`...)
	out = append(out, tok...)
	out = append(out, `","token_type":"Bearer","not_before":`...)
	out = strconv.AppendInt(out, now, 10)
	out = append(out, `,"expires_in":`...)
	out = strconv.AppendInt(out, exp-now, 10)
	out = append(out, `,"expires_on":`...)
	out = strconv.AppendInt(out, exp, 10)
	out = append(out, `,"resource":"`...)
	out = append(out, t.resource...)
	out = append(out, `"}`...)
	writeTokenBytes(w, out)
}

func (p *Provider) buildCC(client *App, scope string, flow *Flow) (*ccTemplate, *oauthError) {
	fields := strings.Fields(scope)
	if len(fields) != 1 || !strings.HasSuffix(fields[0], "/.default") {
		return nil, p.oerr(http.StatusBadRequest, "invalid_scope", "AADB2C90117", "The scope '"+scope+"' provided in the request is not supported. The client credentials grant takes one scope: {identifierUri}/.default.")
	}
	api, _, ok := p.reg.ResolveScope(fields[0])
	if !ok {
		return nil, p.oerr(http.StatusBadRequest, "invalid_scope", "AADB2C90117", "The scope '"+scope+"' provided in the request is not supported: no API has that identifier URI.")
	}
	var granted []string
	found := false
	for _, perm := range client.Permissions {
		a, name, ok := p.reg.ResolveScope(perm)
		if !ok || a != api {
			continue
		}
		found = true
		if name == ".default" {
			for _, n := range api.Scopes {
				if !contains(granted, n) {
					granted = append(granted, n)
				}
			}
		} else if !contains(granted, name) {
			granted = append(granted, name)
		}
	}
	if !found {
		return nil, p.oerr(http.StatusBadRequest, "unauthorized_client", "AADB2C90205", "This application does not have sufficient permissions against this web resource to perform the operation.")
	}
	c := map[string]any{
		"aud": api.ClientID, "iss": p.issuer, "sub": client.ClientID, "azp": client.ClientID,
		"tfp": flow.Name, "ver": "1.0",
	}
	if len(granted) > 0 {
		c["scp"] = strings.Join(granted, " ")
	}
	b, err := json.Marshal(c)
	if err != nil {
		return nil, p.oerr(http.StatusInternalServerError, "server_error", "AADB2C90085", "internal error")
	}
	b[len(b)-1] = ',' // replace the closing brace: iat, nbf, exp follow
	return &ccTemplate{claimsPrefix: b, resource: api.ClientID, ttl: flow.AccessTokenTTL}, nil
}
