package federation

import (
	"bytes"
	"cmp"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/gatehouse/gatehouse/identity/ief"
	"github.com/gatehouse/gatehouse/identity/ief/journey"
)

// SAML is the SAML2 identity provider (Protocol Name="SAML2"), B2C's
// SAML identity provider technical profile. Messages, signatures,
// encryption and the checks of a response are github.com/crewjam/saml's.
//
// Metadata read: PartnerEntity (the identity provider's metadata URL, or
// the metadata itself inline, usually in CDATA), WantsSignedRequests
// (default true: the AuthnRequest is signed when a SamlMessageSigning key
// is given), XmlSignatureAlgorithm (Sha1, Sha256 the default, Sha384,
// Sha512), ResponsesSigned and WantsSignedAssertions (true: that element
// must itself be signed; whatever they say, a response is accepted only
// when its Response or its assertion carries a valid signature by a
// signing certificate of the identity provider's metadata),
// WantsEncryptedAssertions (true: only an EncryptedAssertion is
// accepted), NameIdPolicyFormat, NameIdPolicyAllowCreate,
// IncludeAuthnContextClassReferences (comma-separated class references,
// requested with Comparison exact), IncludeKeyInfo (false: the POST
// binding's signature has no KeyInfo). Keys: SamlMessageSigning (the
// service provider's certificate, signing requests) and
// SamlAssertionDecryption (an RSA certificate decrypting assertions).
//
// AuthenticationRequestExtensions, IdpInitiatedProfileEnabled,
// DiscoverMetadataByTokenIssuer, IncludeClaimResolvingInClaimsHandling and
// SingleLogoutEnabled load but are not acted on: only SP-initiated
// sign-in is supported (a response without the journey's RelayState and
// InResponseTo is refused), with the response posted back (HTTP-POST; no
// artifact binding).
//
// The service provider's entity id is B2C's metadata address of the
// profile, {publicUrl}/{tenant}.onmicrosoft.com/{policy}/samlp/metadata?idptp={profile},
// and its assertion consumer service the tenant's redirect URI
// (.../oauth2/authresp), so an identity provider registered for B2C keeps
// working once the host name changes.
type SAML struct {
	o    Options
	mu   sync.Mutex
	docs map[string]*idpMetadata
}

type idpMetadata struct {
	entity  *saml.EntityDescriptor
	fetched time.Time
}

// NewSAML returns the SAML2 provider.
func NewSAML(o Options) *SAML {
	return &SAML{o: o.withDefaults(), docs: map[string]*idpMetadata{}}
}

// Keys of journey.State.Federation.
const keyRequest = "request" // the AuthnRequest's ID (InResponseTo)

// assertionSubjectName is the PartnerClaimType of the assertion's NameID.
const assertionSubjectName = "assertionSubjectName"

// metadataTTL is how long a fetched metadata document is used.
const metadataTTL = time.Hour

// inlineMetadata reports whether PartnerEntity holds the metadata itself.
func inlineMetadata(pe string) bool { return strings.HasPrefix(strings.TrimSpace(pe), "<") }

// partner reads the identity provider's metadata: PartnerEntity inline,
// or fetched from its URL (kept an hour).
func (p *SAML) partner(ctx context.Context, pe string) (*saml.EntityDescriptor, error) {
	key := pe
	if inlineMetadata(pe) {
		sum := sha256.Sum256([]byte(pe))
		key = "inline:" + hex.EncodeToString(sum[:])
	}
	p.mu.Lock()
	m := p.docs[key]
	p.mu.Unlock()
	if m != nil && (inlineMetadata(pe) || p.o.Now().Sub(m.fetched) < metadataTTL) {
		return m.entity, nil
	}
	var data []byte
	if inlineMetadata(pe) {
		data = []byte(strings.TrimSpace(pe))
	} else {
		u, err := url.Parse(strings.TrimSpace(pe))
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, fmt.Errorf("PartnerEntity %.100q is neither a metadata URL nor metadata XML", pe)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Accept", "application/samlmetadata+xml, application/xml, text/xml")
		if data, _, err = p.o.fetch(req); err != nil {
			return nil, fmt.Errorf("SAML metadata: %w", err)
		}
	}
	ed, err := parseIDPMetadata(data)
	if err != nil {
		where := "(inline)"
		if !inlineMetadata(pe) {
			where = pe
		}
		return nil, fmt.Errorf("SAML metadata %s: %w", where, err)
	}
	p.mu.Lock()
	p.docs[key] = &idpMetadata{entity: ed, fetched: p.o.Now()}
	p.mu.Unlock()
	return ed, nil
}

// parseIDPMetadata reads an EntityDescriptor, or the one identity provider
// of an EntitiesDescriptor.
func parseIDPMetadata(data []byte) (*saml.EntityDescriptor, error) {
	dec := xml.NewDecoder(bytes.NewReader(data))
	var root xml.StartElement
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil, errors.New("no root element")
		}
		if err != nil {
			return nil, err
		}
		if se, ok := tok.(xml.StartElement); ok {
			root = se
			break
		}
	}
	var found []*saml.EntityDescriptor
	switch root.Name.Local {
	case "EntityDescriptor":
		ed := &saml.EntityDescriptor{}
		if err := xml.Unmarshal(data, ed); err != nil {
			return nil, err
		}
		found = append(found, ed)
	case "EntitiesDescriptor":
		eds := &saml.EntitiesDescriptor{}
		if err := xml.Unmarshal(data, eds); err != nil {
			return nil, err
		}
		var walk func(e *saml.EntitiesDescriptor)
		walk = func(e *saml.EntitiesDescriptor) {
			for i := range e.EntityDescriptors {
				if len(e.EntityDescriptors[i].IDPSSODescriptors) > 0 {
					found = append(found, &e.EntityDescriptors[i])
				}
			}
			for i := range e.EntitiesDescriptors {
				walk(&e.EntitiesDescriptors[i])
			}
		}
		walk(eds)
	default:
		return nil, fmt.Errorf("the root element is %s, not EntityDescriptor or EntitiesDescriptor", root.Name.Local)
	}
	if len(found) != 1 {
		return nil, fmt.Errorf("%d identity providers in the metadata; PartnerEntity must name one", len(found))
	}
	ed := found[0]
	if len(ed.IDPSSODescriptors) == 0 || ed.EntityID == "" {
		return nil, errors.New("the metadata has no IDPSSODescriptor or no entityID")
	}
	return ed, nil
}

// EntityID is the service provider's entity id for a profile: B2C's
// address of the profile's SAML metadata.
func (p *SAML) EntityID(pol *ief.Policy, tp *ief.TechnicalProfile) string {
	base, ok := strings.CutSuffix(strings.TrimSuffix(p.o.RedirectURI, "/"), "/oauth2/authresp")
	if !ok {
		if u, err := url.Parse(p.o.RedirectURI); err == nil {
			base = u.Scheme + "://" + u.Host + "/" + pol.TenantID
		}
	}
	return base + "/" + pol.ID + "/samlp/metadata?idptp=" + url.QueryEscape(tp.ID)
}

// certificate reads a profile's certificate key (nil when not set).
func (p *SAML) certificate(ctx context.Context, tp *ief.TechnicalProfile, id string) (*tls.Certificate, *x509.Certificate, error) {
	ref := tp.Keys[id]
	if ref == "" {
		return nil, nil, nil
	}
	if p.o.Keys == nil {
		return nil, nil, fmt.Errorf("federation: no key store for %s", id)
	}
	c, err := p.o.Keys.Certificate(ctx, ref)
	if err != nil {
		return nil, nil, fmt.Errorf("federation: %s: %s %s: %w", tp.ID, id, ref, err)
	}
	leaf := c.Leaf
	if leaf == nil {
		if len(c.Certificate) == 0 {
			return nil, nil, fmt.Errorf("federation: %s: %s %s holds no certificate", tp.ID, id, ref)
		}
		if leaf, err = x509.ParseCertificate(c.Certificate[0]); err != nil {
			return nil, nil, fmt.Errorf("federation: %s: %s %s: %w", tp.ID, id, ref, err)
		}
	}
	return c, leaf, nil
}

// signatureMethod maps XmlSignatureAlgorithm onto the key's method.
func signatureMethod(alg string, pub crypto.PublicKey) (string, error) {
	var rsaM, ecM string
	switch strings.ToLower(cmp.Or(alg, "Sha256")) {
	case "sha1":
		rsaM, ecM = dsig.RSASHA1SignatureMethod, dsig.ECDSASHA1SignatureMethod
	case "sha256":
		rsaM, ecM = dsig.RSASHA256SignatureMethod, dsig.ECDSASHA256SignatureMethod
	case "sha384":
		rsaM, ecM = dsig.RSASHA384SignatureMethod, dsig.ECDSASHA384SignatureMethod
	case "sha512":
		rsaM, ecM = dsig.RSASHA512SignatureMethod, dsig.ECDSASHA512SignatureMethod
	default:
		return "", fmt.Errorf("XmlSignatureAlgorithm %q is not Sha1, Sha256, Sha384 or Sha512", alg)
	}
	switch pub.(type) {
	case *rsa.PublicKey:
		return rsaM, nil
	case *ecdsa.PublicKey:
		return ecM, nil
	}
	return "", fmt.Errorf("a %T key cannot sign SAML messages (RSA or ECDSA)", pub)
}

// serviceProvider is crewjam's service provider for a profile, built on
// each call so that a key rollover takes effect at once.
func (p *SAML) serviceProvider(ctx context.Context, pol *ief.Policy, tp *ief.TechnicalProfile, withIDP bool) (*saml.ServiceProvider, error) {
	md := tp.Metadata
	acs, err := url.Parse(p.o.RedirectURI)
	if err != nil || acs.Host == "" {
		return nil, fmt.Errorf("federation: the redirect URI %q is not a URL", p.o.RedirectURI)
	}
	entityID := p.EntityID(pol, tp)
	mdURL, _ := url.Parse(entityID)
	sp := &saml.ServiceProvider{EntityID: entityID, AcsURL: *acs, MetadataURL: *mdURL, HTTPClient: p.o.Client,
		Clock: dsig.NewFakeClockAt(p.o.Now()), AssertionConsumerServiceBindings: []string{saml.HTTPPostBinding},
		// Metadata carries certificates only as keys (the metadata
		// interoperability profile): expired IdP certificates, common with
		// AD FS, still verify.
		IgnoreCertificateExpiry: true}
	if f := md["NameIdPolicyFormat"]; f != "" {
		sp.AuthnNameIDFormat = saml.NameIDFormat(f)
		sp.SendUnspecifiedNameIDFormat = true
	}
	if refs := splitList(md["IncludeAuthnContextClassReferences"]); len(refs) > 0 {
		sp.RequestedAuthnContext = &saml.RequestedAuthnContext{Comparison: "exact", AuthnContextClassRefs: refs}
	}
	cert, leaf, err := p.certificate(ctx, tp, "SamlMessageSigning")
	if err != nil {
		return nil, err
	}
	if cert != nil {
		signer, ok := cert.PrivateKey.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("federation: %s: the SamlMessageSigning certificate has no usable private key", tp.ID)
		}
		sp.Key, sp.Certificate = signer, leaf
		if !strings.EqualFold(md["WantsSignedRequests"], "false") {
			if sp.SignatureMethod, err = signatureMethod(md["XmlSignatureAlgorithm"], signer.Public()); err != nil {
				return nil, fmt.Errorf("federation: %s: %w", tp.ID, err)
			}
		}
	}
	dcert, dleaf, err := p.certificate(ctx, tp, "SamlAssertionDecryption")
	if err != nil {
		return nil, err
	}
	if dcert != nil {
		k, ok := dcert.PrivateKey.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("federation: %s: the SamlAssertionDecryption certificate needs an RSA private key", tp.ID)
		}
		sp.EncryptionKey, sp.EncryptionCertificate = k, dleaf
	}
	if withIDP {
		if sp.IDPMetadata, err = p.partner(ctx, md["PartnerEntity"]); err != nil {
			return nil, p.o.invalid(ctx, tp.ID, err)
		}
	}
	return sp, nil
}

func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// Metadata is the service provider's metadata for a profile, what B2C
// serves at the profile's metadata address (EntityID) for the identity
// provider's administrator.
func (p *SAML) Metadata(ctx context.Context, pol *ief.Policy, tp *ief.TechnicalProfile) ([]byte, error) {
	sp, err := p.serviceProvider(ctx, pol, tp, false)
	if err != nil {
		return nil, err
	}
	ed := sp.Metadata()
	if sp.EncryptionCertificate == nil {
		// Only a SamlAssertionDecryption key is offered for encryption.
		for i := range ed.SPSSODescriptors {
			kds := ed.SPSSODescriptors[i].KeyDescriptors[:0]
			for _, kd := range ed.SPSSODescriptors[i].KeyDescriptors {
				if kd.Use != "encryption" {
					kds = append(kds, kd)
				}
			}
			ed.SPSSODescriptors[i].KeyDescriptors = kds
		}
	}
	return xml.MarshalIndent(ed, "", "  ")
}

// Start sends the browser to the identity provider's single sign-on
// service with an AuthnRequest: HTTP-Redirect binding when the metadata
// offers it, else HTTP-POST. RelayState carries the journey's state.
func (p *SAML) Start(ctx context.Context, c *journey.Call) (*journey.Redirect, error) {
	md := c.Profile.Metadata
	sp, err := p.serviceProvider(ctx, c.Policy, c.Profile, true)
	if err != nil {
		return nil, err
	}
	binding, loc := saml.HTTPRedirectBinding, sp.GetSSOBindingLocation(saml.HTTPRedirectBinding)
	if loc == "" {
		binding, loc = saml.HTTPPostBinding, sp.GetSSOBindingLocation(saml.HTTPPostBinding)
	}
	if loc == "" {
		return nil, p.o.invalid(ctx, c.Profile.ID, errors.New("the metadata has no HTTP-Redirect or HTTP-POST SingleSignOnService"))
	}
	// Made unsigned (the redirect binding signs the query), then
	// adjusted and, for the POST binding, signed.
	req, err := sp.MakeAuthenticationRequest(loc, saml.HTTPRedirectBinding, saml.HTTPPostBinding)
	if err != nil {
		return nil, err
	}
	if strings.EqualFold(md["NameIdPolicyAllowCreate"], "false") && req.NameIDPolicy != nil {
		f := false
		req.NameIDPolicy.AllowCreate = &f
	}
	c.State.Federation[keyState] = random()
	c.State.Federation[keyRequest] = req.ID
	relay := stateParam(c)
	if binding == saml.HTTPRedirectBinding {
		u, err := req.Redirect(relay, sp)
		if err != nil {
			return nil, err
		}
		return &journey.Redirect{URL: u.String()}, nil
	}
	if sp.SignatureMethod != "" {
		if err := sp.SignAuthnRequest(req); err != nil {
			return nil, err
		}
		if strings.EqualFold(md["IncludeKeyInfo"], "false") {
			if ki := req.Signature.SelectElement("KeyInfo"); ki != nil {
				req.Signature.RemoveChild(ki)
			}
		}
	}
	doc := etree.NewDocument()
	doc.SetRoot(req.Element())
	b, err := doc.WriteToBytes()
	if err != nil {
		return nil, err
	}
	return &journey.Redirect{URL: loc, Form: map[string]string{"SAMLRequest": base64.StdEncoding.EncodeToString(b), "RelayState": relay}}, nil
}

// Finish validates the posted SAMLResponse (signature, issuer, audience,
// recipient and destination, validity window, InResponseTo the journey's
// request) and maps the assertion's attributes, by Name, and its NameID
// (assertionSubjectName).
func (p *SAML) Finish(ctx context.Context, c *journey.Call, answer map[string]string) (journey.Bag, error) {
	id := c.Profile.ID
	if !journey.CheckFederationState(cmp.Or(answer["RelayState"], answer["state"]), c.State) {
		return nil, p.o.invalid(ctx, id, errors.New("the RelayState does not match the sign-in"))
	}
	raw := answer["SAMLResponse"]
	if raw == "" {
		return nil, p.o.invalid(ctx, id, errors.New("no SAMLResponse in the answer (only the HTTP-POST binding is supported)"))
	}
	doc, err := base64.StdEncoding.DecodeString(strings.Map(func(r rune) rune {
		if r == ' ' || r == '\r' || r == '\n' || r == '\t' {
			return -1
		}
		return r
	}, raw))
	if err != nil {
		return nil, p.o.invalid(ctx, id, fmt.Errorf("SAMLResponse: %w", err))
	}
	reqID := c.State.Federation[keyRequest]
	if reqID == "" {
		return nil, p.o.invalid(ctx, id, errors.New("no pending AuthnRequest"))
	}
	sp, err := p.serviceProvider(ctx, c.Policy, c.Profile, true)
	if err != nil {
		return nil, err
	}
	as, err := sp.ParseXMLResponse(doc, []string{reqID}, sp.AcsURL)
	if err != nil {
		var ire *saml.InvalidResponseError
		if errors.As(err, &ire) && ire.PrivateErr != nil {
			err = ire.PrivateErr
		}
		var bs saml.ErrBadStatus
		if errors.As(err, &bs) {
			if declined(doc) {
				return nil, journey.ErrProviderCancelled
			}
			return nil, p.o.invalid(ctx, id, fmt.Errorf("SAML response status %s", statusCodes(doc)))
		}
		return nil, p.o.invalid(ctx, id, fmt.Errorf("SAML response: %w", err))
	}
	if err := requireShape(c.Profile.Metadata, doc); err != nil {
		return nil, p.o.invalid(ctx, id, err)
	}
	got := map[string]any{}
	if as.Subject != nil && as.Subject.NameID != nil {
		got[assertionSubjectName] = as.Subject.NameID.Value
	}
	for _, st := range as.AttributeStatements {
		for _, a := range st.Attributes {
			if a.Name == "" || len(a.Values) == 0 {
				continue
			}
			if len(a.Values) == 1 {
				got[a.Name] = a.Values[0].Value
				continue
			}
			vs := make([]any, len(a.Values))
			for i, v := range a.Values {
				vs[i] = v.Value
			}
			got[a.Name] = vs
		}
	}
	return claims(c, got, false), nil
}

// statusCodes are a Response's status codes, outer first.
func statusCodes(doc []byte) []string {
	var r struct {
		Status saml.Status
	}
	if xml.Unmarshal(doc, &r) != nil {
		return nil
	}
	var out []string
	for sc := &r.Status.StatusCode; sc != nil && len(out) < 4; sc = sc.StatusCode {
		out = append(out, sc.Value)
	}
	return out
}

// declined reports a response refusing the sign-in for the user: a
// second-level status AuthnFailed or RequestDenied (the user cancelled or
// was refused at the identity provider).
func declined(doc []byte) bool {
	for _, s := range statusCodes(doc) {
		if s == saml.StatusAuthnFailed || s == saml.StatusRequestDenied {
			return true
		}
	}
	return false
}

// requireShape applies ResponsesSigned, WantsSignedAssertions and
// WantsEncryptedAssertions to a response crewjam accepted (whose present
// signatures are all valid): the element they name must be there.
func requireShape(md map[string]string, doc []byte) error {
	d := etree.NewDocument()
	if err := d.ReadFromBytes(doc); err != nil || d.Root() == nil {
		return errors.New("SAML response: not XML")
	}
	root := d.Root()
	signed := func(el *etree.Element) bool {
		for _, k := range el.ChildElements() {
			if k.Tag == "Signature" && k.NamespaceURI() == dsig.Namespace {
				return true
			}
		}
		return false
	}
	var plain, encrypted []*etree.Element
	for _, k := range root.ChildElements() {
		if k.NamespaceURI() != "urn:oasis:names:tc:SAML:2.0:assertion" {
			continue
		}
		switch k.Tag {
		case "Assertion":
			plain = append(plain, k)
		case "EncryptedAssertion":
			encrypted = append(encrypted, k)
		}
	}
	if strings.EqualFold(md["ResponsesSigned"], "true") && !signed(root) {
		return errors.New("SAML response: the Response is not signed (ResponsesSigned)")
	}
	if strings.EqualFold(md["WantsEncryptedAssertions"], "true") && (len(plain) > 0 || len(encrypted) == 0) {
		return errors.New("SAML response: the assertion is not encrypted (WantsEncryptedAssertions)")
	}
	if strings.EqualFold(md["WantsSignedAssertions"], "true") {
		for _, a := range plain {
			if !signed(a) {
				return errors.New("SAML response: the assertion is not signed (WantsSignedAssertions)")
			}
		}
		// An encrypted assertion's signature is inside the encryption:
		// crewjam checks one that is there, and requires it when the
		// Response is not signed.
	}
	return nil
}
