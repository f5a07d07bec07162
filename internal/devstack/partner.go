package devstack

import (
	"context"
	"errors"
	"path/filepath"
	"time"

	"github.com/gatehouse/gatehouse/identity/password"
	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/internal/ids"
	"github.com/gatehouse/gatehouse/store"
)

// The partner: a second Gatehouse tenant in the same process acting as an
// OpenID Connect provider of the demo tenant, so the sign-in page offers
// "Contoso Partner" beside local accounts and a federated sign-in can be
// tried with nothing else installed.
const (
	PartnerTenant   = "fabrikam"
	PartnerUserFlow = "B2C_1_partner_signin"
	PartnerProvider = "contoso-partner"
	PartnerEmail    = "pat@fabrikam.example"
	// MFAUserFlow is the demo tenant's flow with email MFA: codes go to
	// the same outbox as the other emails.
	MFAUserFlow = "B2C_1_signupsignin_mfa"
)

// partnerConfig is the partner tenant: one web app (the demo tenant's
// federation client, redirect URI its authresp) and one user flow.
func partnerConfig(dir string, ten *tenant, addr, url, demoURL string) *config.Config {
	off := false
	return &config.Config{
		File: filepath.Join(dir, "partner.yaml"),
		Identity: &config.Identity{
			Listen: addr, PublicURL: url,
			Tenant:    config.Tenant{Name: PartnerTenant, ID: ten.PartnerTenantID},
			Storage:   "sqlite://" + filepath.Join(dir, "partner.db"),
			MasterKey: config.NewSecret(ten.PartnerMasterKey),
			Apps: []config.App{{Name: "Contoso B2C", ClientID: ten.PartnerClientID, Type: "web",
				RedirectURIs:  []string{demoURL + "/" + TenantName + ".onmicrosoft.com/oauth2/authresp"},
				ClientSecrets: []config.Secret{config.NewSecret(ten.PartnerClientSecret)}}},
			UserFlows: []config.UserFlow{{Name: PartnerUserFlow, Type: "signUpOrSignIn", Attributes: []string{"displayName"},
				EmailVerification: &off, Claims: []string{"displayName", "emails", "objectId"}}},
		},
	}
}

// partnerMetadata is the partner flow's OpenID configuration.
func partnerMetadata(partnerURL string) string {
	return partnerURL + "/" + PartnerTenant + ".onmicrosoft.com/" + PartnerUserFlow + "/v2.0/.well-known/openid-configuration"
}

// partnerProvider is the demo tenant's identity provider for the partner.
func partnerProvider(ten *tenant, partnerURL string) config.IdentityProvider {
	return config.IdentityProvider{Name: PartnerProvider, Type: "openIdConnect", DisplayName: "Contoso Partner",
		MetadataURL: partnerMetadata(partnerURL), ClientID: ten.PartnerClientID,
		ClientSecret: config.NewSecret(ten.PartnerClientSecret), Scope: "openid",
		Claims: map[string]string{"userId": "sub", "displayName": "name"}}
}

// ensurePartnerUser creates the partner's demo user on first run.
func ensurePartnerUser(ctx context.Context, st store.Store, ten *tenant) error {
	return ensureUser(ctx, st, PartnerTenant, PartnerEmail, ten.PartnerPassword, "Pat Partner", nil)
}

// ConsoleEmail is the demo administrator's sign-in name (dev.json console).
const ConsoleEmail = "admin@" + TenantName + ".example"

// ensureConsoleAdmin creates the demo administrator (the admin role) on
// first run.
func ensureConsoleAdmin(ctx context.Context, st store.Store, ten *tenant) error {
	return ensureUser(ctx, st, TenantName, ConsoleEmail, ten.ConsolePassword, "Console Admin", map[string]string{store.RolesAttribute: "admin"})
}

// ensureUser creates a local account of tenant unless its email exists.
func ensureUser(ctx context.Context, st store.Store, tenant, email, pw, name string, attrs map[string]string) error {
	if _, err := st.Users().GetByEmail(ctx, email); err == nil || !errors.Is(err, store.ErrNotFound) {
		return err
	}
	h, err := password.DefaultHasher().Hash(ctx, pw)
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	return st.Users().Create(ctx, &store.User{ID: ids.NewGUID(), Email: email, PasswordHash: h, DisplayName: name,
		Identities: []store.Identity{{SignInType: "emailAddress", Issuer: tenant + ".onmicrosoft.com", IssuerAssignedID: email}},
		Attributes: attrs, CreatedAt: now, UpdatedAt: now})
}
