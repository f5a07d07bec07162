package identity

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
