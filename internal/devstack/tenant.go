package devstack

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/gatehouse/gatehouse/internal/ids"
)

// tenant is the demo tenant's generated identifiers and secrets, made on the
// first run and kept in DIR/tenant.json (mode 0600) so that URLs, client ids
// and the SPA's configuration stay the same across runs.
type tenant struct {
	TenantID     string `json:"tenantId"`
	SPAClientID  string `json:"spaClientId"`
	APIClientID  string `json:"apiClientId"`
	DaemonID     string `json:"daemonClientId"`
	DaemonSecret string `json:"daemonClientSecret"`
	MasterKey    string `json:"masterKey"` // encrypts signing keys at rest
	FunctionKey  string `json:"functionKey"`
	// The partner tenant (a second Gatehouse identity in the same process,
	// the demo's OpenID Connect provider) and its demo user.
	PartnerTenantID     string `json:"partnerTenantId"`
	PartnerClientID     string `json:"partnerClientId"`
	PartnerClientSecret string `json:"partnerClientSecret"`
	PartnerMasterKey    string `json:"partnerMasterKey"`
	PartnerPassword     string `json:"partnerPassword"`
	// ConsolePassword is the demo administrator's (dev.json console).
	ConsolePassword string `json:"consolePassword"`
}

// withPartner fills the partner and console fields of a tenant.json
// written before they existed; true when it changed.
func (t *tenant) withPartner() bool {
	if t.ConsolePassword == "" {
		t.ConsolePassword = "Console-" + secret(12)
		if t.PartnerTenantID != "" {
			return true
		}
	}
	if t.PartnerTenantID != "" {
		return false
	}
	t.PartnerTenantID, t.PartnerClientID, t.PartnerClientSecret = ids.NewGUID(), ids.NewGUID(), secret(32)
	t.PartnerMasterKey = base64.StdEncoding.EncodeToString(random(32))
	t.PartnerPassword = "Partner-" + secret(9)
	return true
}

func loadTenant(dir string) (*tenant, error) {
	file := filepath.Join(dir, "tenant.json")
	b, err := os.ReadFile(file)
	if err == nil {
		// It holds the master key: owner only, whatever made it.
		if fi, err := os.Stat(file); err == nil && fi.Mode().Perm() != 0o600 {
			if err := os.Chmod(file, 0o600); err != nil {
				return nil, err
			}
		}
		t := &tenant{}
		if err := json.Unmarshal(b, t); err != nil {
			return nil, fmt.Errorf("%s: %w (delete the data directory to start afresh)", file, err)
		}
		if t.withPartner() {
			b, _ = json.MarshalIndent(t, "", "  ")
			if err := os.WriteFile(file, append(b, '\n'), 0o600); err != nil {
				return nil, err
			}
		}
		return t, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	t := &tenant{
		TenantID: ids.NewGUID(), SPAClientID: ids.NewGUID(), APIClientID: ids.NewGUID(), DaemonID: ids.NewGUID(),
		DaemonSecret: secret(32), MasterKey: base64.StdEncoding.EncodeToString(random(32)), FunctionKey: secret(32),
	}
	t.withPartner()
	b, _ = json.MarshalIndent(t, "", "  ")
	// O_EXCL with 0600: the file is never readable by others, not even
	// for a moment and whatever the umask.
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	_, err = f.Write(append(b, '\n'))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return t, err
}

func random(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func secret(n int) string { return base64.RawURLEncoding.EncodeToString(random(n)) }
