package config

// Identity is the `identity:` section: the B2C-compatible OpenID provider.
type Identity struct {
	Pos            Pos            `yaml:"-"`
	Listen         string         `yaml:"listen"`
	TLS            *TLS           `yaml:"tls"`
	PublicURL      string         `yaml:"publicUrl"`
	Tenant         Tenant         `yaml:"tenant"`
	Storage        string         `yaml:"storage"`
	DeploymentMode string         `yaml:"deploymentMode"` // Development | Production
	PolicyKeys     []PolicyKey    `yaml:"policyKeys"`
	Apps           []App          `yaml:"apps"`
	UserFlows      []UserFlow     `yaml:"userFlows"`
	APIConnectors  []APIConnector `yaml:"apiConnectors"`
	CustomPolicies []Path         `yaml:"customPolicies"`
}

// Tenant names the B2C tenant.
type Tenant struct {
	Pos  Pos    `yaml:"-"`
	Name string `yaml:"name"`
	ID   string `yaml:"id"`
}

// PolicyKey is a key container given in config.
type PolicyKey struct {
	Pos      Pos    `yaml:"-"`
	Name     string `yaml:"name"`
	Secret   Secret `yaml:"secret"`
	PFX      Secret `yaml:"pfx"`
	Password Secret `yaml:"password"`
	Generate string `yaml:"generate"` // rsa | ec | oct
	Use      string `yaml:"use"`      // sig | enc
}

// App is an app registration.
type App struct {
	Pos            Pos      `yaml:"-"`
	Name           string   `yaml:"name"`
	ClientID       string   `yaml:"clientId"`
	Type           string   `yaml:"type"` // spa | web | daemon
	RedirectURIs   []string `yaml:"redirectUris"`
	Permissions    []string `yaml:"permissions"`
	IdentifierURI  string   `yaml:"identifierUri"`
	Scopes         []string `yaml:"scopes"`
	ClientSecrets  []Secret `yaml:"clientSecrets"`
	PostLogoutURIs []string `yaml:"postLogoutRedirectUris"`
}

// UserFlow is a B2C user flow.
type UserFlow struct {
	Pos               Pos               `yaml:"-"`
	Name              string            `yaml:"name"`
	Type              string            `yaml:"type"`
	Attributes        []string          `yaml:"attributes"`
	EmailVerification *bool             `yaml:"emailVerification"`
	Claims            []string          `yaml:"claims"`
	APIConnectors     map[string]string `yaml:"apiConnectors"`
}

// APIConnector is a REST call made during a user flow.
type APIConnector struct {
	Pos                           Pos           `yaml:"-"`
	Name                          string        `yaml:"name"`
	EndpointURL                   string        `yaml:"endpointUrl"`
	AuthenticationType            string        `yaml:"authenticationType"`
	Username                      string        `yaml:"username"`
	Password                      string        `yaml:"password"`
	Certificate                   string        `yaml:"certificate"`
	BearerToken                   string        `yaml:"bearerToken"`
	APIKeyHeader                  *APIKeyHeader `yaml:"apiKeyHeader"`
	AllowInsecureAuthInProduction bool          `yaml:"allowInsecureAuthInProduction"`
}

// APIKeyHeader names the header and the policy key holding its value.
type APIKeyHeader struct {
	Name string `yaml:"name"`
	Key  string `yaml:"key"`
}
