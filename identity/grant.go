package identity

import "strings"

// grant is what an authorization code (store.Codes Data) and a refresh
// token family (store.RefreshFamily Data) carry, as JSON.
type grant struct {
	ClientID            string         `json:"client_id"`
	RedirectURI         string         `json:"redirect_uri,omitempty"`
	Flow                string         `json:"flow"` // canonical name
	Scopes              []string       `json:"scopes"`
	Nonce               string         `json:"nonce,omitempty"`
	CodeChallenge       string         `json:"code_challenge,omitempty"`
	CodeChallengeMethod string         `json:"code_challenge_method,omitempty"`
	UserID              string         `json:"user_id"`
	AuthTime            int64          `json:"auth_time"`
	NewUser             bool           `json:"new_user,omitempty"`
	IDP                 string         `json:"idp,omitempty"`
	Claims              map[string]any `json:"claims,omitempty"`
}

// scopeSet is a granted scope list taken apart.
type scopeSet struct {
	openid, offline bool
	resource        *App     // audience of the access token (nil: none)
	names           []string // scp: scope names on resource
}

func (r *Registry) parseGranted(client *App, scopes []string) scopeSet {
	var s scopeSet
	for _, sc := range scopes {
		switch {
		case sc == "openid":
			s.openid = true
		case sc == "offline_access":
			s.offline = true
		case strings.EqualFold(sc, client.ClientID):
			s.resource = client
		default:
			if api, name, ok := r.resolveScope(sc); ok {
				s.resource = api
				if name != ".default" {
					s.names = append(s.names, name)
				}
			}
		}
	}
	return s
}

// grantedScopes filters the requested scopes to what the client may have:
// openid, offline_access, its own client id, and API scopes it was granted
// (a granted {api}/.default grants every scope of the API). Ungranted ones
// are dropped silently, as B2C does. More than one resource is AADB2C90146.
func (r *Registry) grantedScopes(client *App, requested []string) (granted []string, multi bool) {
	var resource *App
	seen := map[string]bool{}
	add := func(s string) {
		if !seen[s] {
			seen[s] = true
			granted = append(granted, s)
		}
	}
	for _, sc := range requested {
		switch {
		case sc == "openid" || sc == "offline_access":
			add(sc)
		case strings.EqualFold(sc, client.ClientID):
			if resource != nil && resource != client {
				return nil, true
			}
			resource = client
			add(client.ClientID)
		default:
			api, name, ok := r.resolveScope(sc)
			if !ok {
				continue // profile, email, unknown: dropped
			}
			if resource != nil && resource != api {
				return nil, true
			}
			resource = api
			if name == ".default" {
				for _, n := range api.Scopes {
					if client.permitted(api, n) {
						add(api.IdentifierURI + "/" + n)
					}
				}
				continue
			}
			if client.permitted(api, name) {
				add(api.IdentifierURI + "/" + name)
			}
		}
	}
	return granted, false
}

// permitted: the client was granted scope name of api (directly or by
// {api}/.default).
func (a *App) permitted(api *App, name string) bool {
	for _, p := range a.Permissions {
		i := strings.LastIndexByte(p, '/')
		if i <= 0 || strings.TrimRight(p[:i], "/") != api.IdentifierURI {
			continue
		}
		if n := p[i+1:]; n == name || n == ".default" {
			return true
		}
	}
	return false
}
