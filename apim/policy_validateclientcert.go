package apim

import (
	"crypto/x509"
	"net/http"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/apim/rawxml"
)

// validate-client-certificate checks the certificate the caller presented
// on the TLS connection (context.Request.Certificate, with the rest of the
// presented chain as intermediates):
//   - validate-trust (default true): a chain to the system roots or to a
//     certificate configured in gateway.certificates must verify;
//   - validate-not-before / validate-not-after (default true): against the
//     gateway clock;
//   - identities: when present, the certificate must match every attribute
//     of at least one <identity> (at most 10). thumbprint, serial-number and
//     issuer-thumbprint compare hex case-insensitively; subject and
//     issuer-subject compare distinguished names RDN by RDN ignoring case
//     and spaces after commas; dns-name matches any DNS subject alternative
//     name; issuer-certificate-id names a gateway.certificates entry whose
//     certificate must have signed the client certificate.
//
// Revocation is not checked: validate-revocation must be set to "false"
// explicitly (APIM's default is true, so an absent attribute is a load
// error too, rather than silently skipping the check). Lenient loading
// (`policy check`) accepts it.
//
// Failures answer 401 "Invalid client certificate." with Reason
// ClientCertificateNotFound (none presented), ClientCertificateNotValid
// (trust or validity dates) or ClientCertificateNotAllowed (no identity
// matched), unless ignore-error="true", which continues. No attribute
// takes expressions (APIM).

func init() {
	Register(Spec{Name: "validate-client-certificate", Sections: []Section{Inbound}, Compile: compileValidateClientCert})
}

type certIdentity struct {
	thumbprint, serial, commonName, subject, dnsName, issuerSubject, issuerThumbprint, issuerCertID string
}

type validateClientCert struct {
	trust, notBefore, notAfter, ignoreError bool
	identities                              []certIdentity
}

func constBool(b *Builder, n *rawxml.Node, name string, def bool) (bool, bool, error) {
	v, err := b.ConstAttr(n, name)
	if err != nil || !v.Set {
		return def, false, err
	}
	switch strings.ToLower(strings.TrimSpace(v.Lit)) {
	case "true":
		return true, true, nil
	case "false":
		return false, true, nil
	}
	return false, true, b.Errorf(v.Pos, "%s must be true or false, not %q", name, v.Lit)
}

func compileValidateClientCert(b *Builder, n *rawxml.Node) (Policy, error) {
	if err := b.Attrs(n, "validate-revocation", "validate-trust", "validate-not-before", "validate-not-after", "ignore-error"); err != nil {
		return nil, err
	}
	if err := b.Children(n, "identities"); err != nil {
		return nil, err
	}
	p := &validateClientCert{}
	rev, set, err := constBool(b, n, "validate-revocation", true)
	if err != nil {
		return nil, err
	}
	if rev && !b.ld.opts.Lenient {
		pos := n.Pos
		if a, ok := n.Attr("validate-revocation"); ok {
			pos = a.Pos
		}
		why := "validate-revocation=\"true\""
		if !set {
			why = "validate-revocation (default true)"
		}
		return nil, b.Errorf(pos, "validate-client-certificate: %s is not supported: Gatehouse does not check revocation (OCSP/CRL); set validate-revocation=\"false\"", why)
	}
	for _, f := range []struct {
		name string
		dst  *bool
		def  bool
	}{{"validate-trust", &p.trust, true}, {"validate-not-before", &p.notBefore, true}, {"validate-not-after", &p.notAfter, true}, {"ignore-error", &p.ignoreError, false}} {
		if *f.dst, _, err = constBool(b, n, f.name, f.def); err != nil {
			return nil, err
		}
	}
	seen := false
	for _, ids := range n.Children {
		if seen {
			return nil, b.Errorf(ids.Pos, "<identities> appears twice")
		}
		seen = true
		if err := b.Attrs(ids); err != nil {
			return nil, err
		}
		if err := b.Children(ids, "identity"); err != nil {
			return nil, err
		}
		if len(ids.Children) > 10 {
			return nil, b.Errorf(ids.Children[10].Pos, "validate-client-certificate: at most 10 <identity> elements are allowed")
		}
		for _, in := range ids.Children {
			if err := b.Attrs(in, "thumbprint", "serial-number", "common-name", "subject", "dns-name", "issuer-subject", "issuer-thumbprint", "issuer-certificate-id"); err != nil {
				return nil, err
			}
			if err := b.Children(in); err != nil {
				return nil, err
			}
			var id certIdentity
			anySet := false
			for _, f := range []struct {
				name string
				dst  *string
			}{{"thumbprint", &id.thumbprint}, {"serial-number", &id.serial}, {"common-name", &id.commonName}, {"subject", &id.subject},
				{"dns-name", &id.dnsName}, {"issuer-subject", &id.issuerSubject}, {"issuer-thumbprint", &id.issuerThumbprint}, {"issuer-certificate-id", &id.issuerCertID}} {
				v, err := b.ConstAttr(in, f.name)
				if err != nil {
					return nil, err
				}
				if v.Set {
					*f.dst = strings.TrimSpace(v.Lit)
					anySet = true
				}
			}
			if !anySet {
				return nil, b.Errorf(in.Pos, "<identity> needs at least one attribute")
			}
			p.identities = append(p.identities, id)
		}
	}
	return p, nil
}

func (p *validateClientCert) fail(x *Exec, reason, detail string) error {
	if p.ignoreError {
		x.logger().Debug("apim: validate-client-certificate failed; continuing (ignore-error)", "reason", reason, "detail", detail)
		return nil
	}
	return &PolicyError{Source: "validate-client-certificate", Reason: reason, Message: "Invalid client certificate. " + detail, ClientMessage: "Invalid client certificate.", Status: http.StatusUnauthorized}
}

func (p *validateClientCert) Exec(x *Exec) error {
	cert := x.Ctx.Request.Certificate
	var inter []*x509.Certificate
	if r := x.HTTPRequest; r != nil && r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		if cert == nil {
			cert = r.TLS.PeerCertificates[0]
		}
		inter = r.TLS.PeerCertificates[1:]
	}
	if cert == nil {
		return p.fail(x, "ClientCertificateNotFound", "No client certificate was presented.")
	}
	now := x.Now()
	if p.notBefore && now.Before(cert.NotBefore) {
		return p.fail(x, "ClientCertificateNotValid", "The certificate is not valid before "+cert.NotBefore.UTC().Format(time.RFC3339)+".")
	}
	if p.notAfter && now.After(cert.NotAfter) {
		return p.fail(x, "ClientCertificateNotValid", "The certificate expired at "+cert.NotAfter.UTC().Format(time.RFC3339)+".")
	}
	var chain []*x509.Certificate
	if p.trust {
		roots, err := x509.SystemCertPool()
		if err != nil || roots == nil {
			roots = x509.NewCertPool()
		}
		for _, c := range p.gatewayCerts(x) {
			roots.AddCert(c)
		}
		ipool := x509.NewCertPool()
		for _, c := range inter {
			ipool.AddCert(c)
		}
		// Dates are checked above as configured; verify the chain at a
		// time inside the leaf's validity so disabled date checks stay off.
		at := now
		if at.Before(cert.NotBefore) {
			at = cert.NotBefore
		}
		if at.After(cert.NotAfter) {
			at = cert.NotAfter
		}
		chains, err := cert.Verify(x509.VerifyOptions{Roots: roots, Intermediates: ipool, CurrentTime: at, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
		if err != nil {
			return p.fail(x, "ClientCertificateNotValid", "The certificate chain is not trusted: "+err.Error())
		}
		chain = chains[0]
	}
	if len(p.identities) == 0 {
		return nil
	}
	issuer := p.issuerOf(x, cert, chain, inter)
	for _, id := range p.identities {
		if p.matches(x, id, cert, issuer) {
			return nil
		}
	}
	return p.fail(x, "ClientCertificateNotAllowed", "The certificate matches none of the allowed identities.")
}

// gatewayCerts are the certificates of gateway.certificates (leaves and chains).
func (p *validateClientCert) gatewayCerts(x *Exec) []*x509.Certificate {
	var out []*x509.Certificate
	if x.Env == nil {
		return nil
	}
	for _, tc := range x.Env.Certificates {
		for _, der := range tc.Certificate {
			if c, err := x509.ParseCertificate(der); err == nil {
				out = append(out, c)
			}
		}
	}
	return out
}

// issuerOf returns the issuer certificate when known (verified chain,
// presented chain, gateway certificates).
func (p *validateClientCert) issuerOf(x *Exec, cert *x509.Certificate, chain, inter []*x509.Certificate) *x509.Certificate {
	if len(chain) > 1 {
		return chain[1]
	}
	for _, c := range append(append([]*x509.Certificate{}, inter...), p.gatewayCerts(x)...) {
		if cert.CheckSignatureFrom(c) == nil {
			return c
		}
	}
	return nil
}

func (p *validateClientCert) matches(x *Exec, id certIdentity, cert, issuer *x509.Certificate) bool {
	if id.thumbprint != "" && !strings.EqualFold(id.thumbprint, certThumbprint(cert.Raw)) {
		return false
	}
	if id.serial != "" && !strings.EqualFold(strings.TrimLeft(id.serial, "0"), strings.TrimLeft(strings.ToUpper(cert.SerialNumber.Text(16)), "0")) {
		return false
	}
	if id.commonName != "" && !strings.EqualFold(id.commonName, cert.Subject.CommonName) {
		return false
	}
	if id.subject != "" && !sameDN(id.subject, cert.Subject.String()) {
		return false
	}
	if id.dnsName != "" {
		ok := false
		for _, d := range cert.DNSNames {
			if strings.EqualFold(d, id.dnsName) {
				ok = true
			}
		}
		if !ok {
			return false
		}
	}
	if id.issuerSubject != "" && !sameDN(id.issuerSubject, cert.Issuer.String()) {
		return false
	}
	if id.issuerThumbprint != "" && (issuer == nil || !strings.EqualFold(id.issuerThumbprint, certThumbprint(issuer.Raw))) {
		return false
	}
	if id.issuerCertID != "" {
		tc, ok := x.Env.certificate(id.issuerCertID)
		if !ok {
			x.logger().Warn("apim: validate-client-certificate: issuer-certificate-id is not configured", "id", id.issuerCertID)
			return false
		}
		if cert.CheckSignatureFrom(tc) != nil {
			return false
		}
	}
	return true
}

// certificate returns the leaf of gateway.certificates entry id.
func (e *Env) certificate(id string) (*x509.Certificate, bool) {
	if e == nil {
		return nil, false
	}
	tc, ok := e.Certificates[id]
	if !ok || len(tc.Certificate) == 0 {
		return nil, false
	}
	c, err := x509.ParseCertificate(tc.Certificate[0])
	return c, err == nil
}

// sameDN compares distinguished names RDN by RDN, ignoring case and the
// spaces .NET puts after commas ("CN=a, O=b" equals Go's "CN=a,O=b").
func sameDN(a, b string) bool {
	norm := func(s string) []string {
		var out []string
		for _, part := range strings.Split(s, ",") {
			out = append(out, strings.ToLower(strings.TrimSpace(part)))
		}
		return out
	}
	pa, pb := norm(a), norm(b)
	if len(pa) != len(pb) {
		return false
	}
	for i := range pa {
		if pa[i] != pb[i] {
			return false
		}
	}
	return true
}
