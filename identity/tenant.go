package identity

import "github.com/gatehouse/gatehouse/identity/tenant"

// The tenant model, the sign-in transaction and the interfaces between
// identity's packages live in the leaf package identity/tenant, so the
// hosted pages, API connectors and password rules need not import the
// provider. These names keep the provider's code (and its callers) short.
type (
	Registry           = tenant.Registry
	App                = tenant.App
	Flow               = tenant.Flow
	PasswordRules      = tenant.PasswordRules
	AuthRequest        = tenant.AuthRequest
	Transaction        = tenant.Transaction
	Result             = tenant.Result
	Interaction        = tenant.Interaction
	Completer          = tenant.Completer
	Limit              = tenant.Limit
	Limits             = tenant.Limits
	CustomFlow         = tenant.CustomFlow
	CustomPolicySource = tenant.CustomPolicySource
	scopeSet           = tenant.ScopeSet
)

// Token lifetimes of B2C (tenant's).
const (
	DefaultAccessTokenTTL    = tenant.DefaultAccessTokenTTL
	DefaultRefreshTokenTTL   = tenant.DefaultRefreshTokenTTL
	DefaultRollingRefreshTTL = tenant.DefaultRollingRefreshTTL
	SPARefreshTokenTTL       = tenant.SPARefreshTokenTTL
	CodeTTL                  = tenant.CodeTTL
	MinSecretLength          = tenant.MinSecretLength
)

var (
	NewRegistry       = tenant.NewRegistry
	AddCustomPolicies = tenant.AddCustomPolicies
	NewLimits         = tenant.NewLimits
	ThrottleKey       = tenant.ThrottleKey
	WithFlow          = tenant.WithFlow
	FlowFromContext   = tenant.FlowFromContext
)
