package tenant

import "strings"

// ScopeSet is a granted scope list taken apart.
type ScopeSet struct {
	OpenID, Offline bool
	Resource        *App     // audience of the access token (nil: none)
	Names           []string // scp: scope names on Resource
}

// ParseGranted takes a granted scope list apart.
func (r *Registry) ParseGranted(client *App, scopes []string) ScopeSet {
	var s ScopeSet
	for _, sc := range scopes {
		switch {
		case sc == "openid":
			s.OpenID = true
		case sc == "offline_access":
			s.Offline = true
		case strings.EqualFold(sc, client.ClientID):
			s.Resource = client
		default:
			if api, name, ok := r.ResolveScope(sc); ok {
				s.Resource = api
				if name != ".default" {
					s.Names = append(s.Names, name)
				}
			}
		}
	}
	return s
}

// GrantedScopes filters the requested scopes to what the client may have:
// openid, offline_access, its own client id, and API scopes it was granted
// (a granted {api}/.default grants every scope of the API). Ungranted ones
// are dropped silently, as B2C does. More than one resource is AADB2C90146.
func (r *Registry) GrantedScopes(client *App, requested []string) (granted []string, multi bool) {
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
			api, name, ok := r.ResolveScope(sc)
			if !ok {
				continue // profile, email, unknown: dropped
			}
			if resource != nil && resource != api {
				return nil, true
			}
			resource = api
			if name == ".default" {
				for _, n := range api.Scopes {
					if client.Permitted(api, n) {
						add(api.IdentifierURI + "/" + n)
					}
				}
				continue
			}
			if client.Permitted(api, name) {
				add(api.IdentifierURI + "/" + name)
			}
		}
	}
	return granted, false
}

// permitted: the client was granted scope name of api (directly or by
// {api}/.default).
func (a *App) Permitted(api *App, name string) bool {
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
