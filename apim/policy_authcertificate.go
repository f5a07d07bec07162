package apim

import (
	"crypto/sha1"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"strings"

	"software.sslmate.com/src/go-pkcs12"

	"github.com/gatehouse/gatehouse/apim/rawxml"
)

// authentication-certificate: the TLS client certificate for the backend
// call (forward-request, or the enclosing send-request). certificate-id
// names an entry of Env.Certificates; thumbprint matches an entry by key or
// by the SHA-1 thumbprint of its leaf certificate; body is an expression
// returning PKCS#12 bytes, opened with password.

func init() {
	Register(Spec{Name: "authentication-certificate", Sections: []Section{Inbound}, Compile: compileAuthCertificate})
}

type authCertificate struct {
	id, thumbprint, body, password Value
}

func compileAuthCertificate(b *Builder, n *rawxml.Node) (Policy, error) {
	if err := b.Attrs(n, "certificate-id", "thumbprint", "body", "password"); err != nil {
		return nil, err
	}
	if err := b.Children(n); err != nil {
		return nil, err
	}
	p := &authCertificate{}
	var err error
	for _, a := range []struct {
		name string
		v    *Value
	}{{"certificate-id", &p.id}, {"thumbprint", &p.thumbprint}, {"body", &p.body}, {"password", &p.password}} {
		if *a.v, err = b.Attr(n, a.name); err != nil {
			return nil, err
		}
	}
	set := 0
	for _, v := range []Value{p.id, p.thumbprint, p.body} {
		if v.Set {
			set++
		}
	}
	if set != 1 {
		return nil, b.Errorf(n.Pos, "authentication-certificate: exactly one of certificate-id, thumbprint and body is required")
	}
	return p, nil
}

func (p *authCertificate) cert(x *Exec) (*tls.Certificate, error) {
	var certs map[string]tls.Certificate
	if x.Env != nil {
		certs = x.Env.Certificates
	}
	switch {
	case p.id.Set:
		id, err := x.String(p.id)
		if err != nil {
			return nil, err
		}
		if c, ok := certs[id]; ok {
			return &c, nil
		}
		return nil, p.fail(fmt.Sprintf("certificate '%s' is not configured", id))
	case p.thumbprint.Set:
		tp, err := x.String(p.thumbprint)
		if err != nil {
			return nil, err
		}
		tp = strings.ToUpper(strings.TrimSpace(tp))
		for k, c := range certs {
			if strings.EqualFold(k, tp) {
				return &c, nil
			}
			if len(c.Certificate) > 0 {
				sum := sha1.Sum(c.Certificate[0])
				if strings.ToUpper(hex.EncodeToString(sum[:])) == tp {
					return &c, nil
				}
			}
		}
		return nil, p.fail("no configured certificate has thumbprint " + tp)
	}
	v, err := x.Eval(p.body)
	if err != nil {
		return nil, err
	}
	data, ok := v.([]byte)
	if !ok {
		return nil, x.exprError(fmt.Errorf("authentication-certificate body must be byte[], got %T", v))
	}
	pw, err := x.String(p.password)
	if err != nil {
		return nil, err
	}
	key, leaf, chain, err := pkcs12.DecodeChain(data, pw)
	if err != nil {
		return nil, p.fail("cannot open the PKCS#12 certificate: " + err.Error())
	}
	c := &tls.Certificate{PrivateKey: key, Leaf: leaf, Certificate: [][]byte{leaf.Raw}}
	for _, ca := range chain {
		c.Certificate = append(c.Certificate, ca.Raw)
	}
	return c, nil
}

func (p *authCertificate) fail(msg string) error {
	return &PolicyError{Source: "authentication-certificate", Reason: "CertificateNotFound", Message: msg, Status: 500, ClientMessage: "Internal server error"}
}

func (p *authCertificate) Exec(x *Exec) error {
	c, err := p.cert(x)
	if err == nil {
		x.clientCert = c
	}
	return err
}

func (p *authCertificate) applyMsg(x *Exec, m *message) error {
	c, err := p.cert(x)
	if err == nil {
		m.cert = c
	}
	return err
}
