package apim

import (
	"fmt"
	"net/http"
	"net/netip"
	"strings"

	"github.com/gatehouse/gatehouse/apim/rawxml"
)

// ip-filter: <ip-filter action="allow|forbid"> with <address>IP</address>
// and <address-range from="IP" to="IP"/> (inclusive) children, IPv4 and
// IPv6. The caller is context.Request.IpAddress.

func init() {
	Register(Spec{
		Name:     "ip-filter",
		Sections: []Section{Inbound},
		Compile:  compileIPFilter,
	})
}

type ipRange struct{ from, to netip.Addr }

type ipFilterPolicy struct {
	action    Value // constant validated at load, or expression
	allow     bool  // constant action
	addrs     map[netip.Addr]struct{}
	ranges    []ipRange
	exprAddrs []Value
}

func compileIPFilter(b *Builder, n *rawxml.Node) (Policy, error) {
	if err := b.Attrs(n, "action"); err != nil {
		return nil, err
	}
	if err := b.Children(n, "address", "address-range"); err != nil {
		return nil, err
	}
	p := &ipFilterPolicy{addrs: map[netip.Addr]struct{}{}}
	var err error
	if p.action, err = b.Attr(n, "action"); err != nil {
		return nil, err
	}
	if !p.action.Set {
		return nil, b.Errorf(n.Pos, "ip-filter: attribute \"action\" is required")
	}
	if !p.action.IsExpr() {
		allow, ok := ipFilterAction(p.action.Lit)
		if !ok {
			return nil, b.Errorf(p.action.Pos, "ip-filter: action must be allow or forbid, not %q", p.action.Lit)
		}
		p.allow = allow
	}
	if len(n.Children) == 0 {
		return nil, b.Errorf(n.Pos, "ip-filter: at least one address or address-range is required")
	}
	for _, c := range n.Children {
		if err := b.Children(c); err != nil {
			return nil, err
		}
		switch c.Name {
		case "address":
			if err := b.Attrs(c); err != nil {
				return nil, err
			}
			v, err := b.Text(c)
			if err != nil {
				return nil, err
			}
			if v.IsExpr() {
				p.exprAddrs = append(p.exprAddrs, v)
				continue
			}
			if acUnresolved(v.Lit) {
				continue
			}
			a, err := ipParse(v.Lit)
			if err != nil {
				return nil, b.Errorf(c.Pos, "ip-filter: address: %v", err)
			}
			p.addrs[a] = struct{}{}
		case "address-range":
			if err := b.Attrs(c, "from", "to"); err != nil {
				return nil, err
			}
			from, err := b.ConstAttr(c, "from")
			if err != nil {
				return nil, err
			}
			to, err := b.ConstAttr(c, "to")
			if err != nil {
				return nil, err
			}
			if !from.Set || !to.Set {
				return nil, b.Errorf(c.Pos, "ip-filter: address-range needs both from and to")
			}
			if acUnresolved(from.Lit) || acUnresolved(to.Lit) {
				continue
			}
			f, err := ipParse(from.Lit)
			if err != nil {
				return nil, b.Errorf(from.Pos, "ip-filter: address-range from: %v", err)
			}
			t, err := ipParse(to.Lit)
			if err != nil {
				return nil, b.Errorf(to.Pos, "ip-filter: address-range to: %v", err)
			}
			if f.Is4() != t.Is4() {
				return nil, b.Errorf(c.Pos, "ip-filter: address-range mixes IPv4 and IPv6")
			}
			if t.Less(f) {
				return nil, b.Errorf(c.Pos, "ip-filter: address-range from %s is after to %s", f, t)
			}
			p.ranges = append(p.ranges, ipRange{f, t})
		}
	}
	return p, nil
}

func ipFilterAction(s string) (allow, ok bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "allow":
		return true, true
	case "forbid":
		return false, true
	}
	return false, false
}

// ipParse parses an address; IPv4-mapped IPv6 addresses become IPv4 and
// zones are dropped so that both forms of a caller compare equal.
func ipParse(s string) (netip.Addr, error) {
	s = strings.TrimSpace(s)
	a, err := netip.ParseAddr(s)
	if err != nil {
		ap, err2 := netip.ParseAddrPort(s) // "1.2.3.4:5678", "[::1]:80"
		if err2 != nil {
			return netip.Addr{}, fmt.Errorf("%q is not an IP address", s)
		}
		a = ap.Addr()
	}
	return a.Unmap().WithZone(""), nil
}

// match reports whether a is listed (constant part).
func (p *ipFilterPolicy) match(a netip.Addr) bool {
	if _, ok := p.addrs[a]; ok {
		return true
	}
	for _, r := range p.ranges {
		if a.Is4() == r.from.Is4() && r.from.Compare(a) <= 0 && a.Compare(r.to) <= 0 {
			return true
		}
	}
	return false
}

func (p *ipFilterPolicy) Exec(x *Exec) error {
	allow := p.allow
	if p.action.IsExpr() {
		s, err := x.String(p.action)
		if err != nil {
			return err
		}
		var ok bool
		if allow, ok = ipFilterAction(s); !ok {
			return acExprError("ip-filter", fmt.Sprintf("action must be allow or forbid, not %q", s))
		}
	}
	ipText := ""
	if x.Ctx.Request != nil {
		ipText = x.Ctx.Request.IpAddress
	}
	ip, err := ipParse(ipText)
	if ipText == "" || err != nil {
		return &PolicyError{Source: "ip-filter", Reason: "FailedToParseCallerIP",
			Message: "Failed to establish IP address for the caller. Access denied.", Status: http.StatusForbidden}
	}
	listed := p.match(ip)
	for i := 0; !listed && i < len(p.exprAddrs); i++ {
		s, err := x.String(p.exprAddrs[i])
		if err != nil {
			return err
		}
		a, err := ipParse(s)
		if err != nil {
			// An address that does not parse must not open a forbid list
			// or silently shrink an allow list: fail the request.
			return acExprError("ip-filter", "address: "+err.Error())
		}
		listed = a == ip
	}
	switch {
	case allow && !listed:
		return &PolicyError{Source: "ip-filter", Reason: "CallerIpNotAllowed",
			Message: "Caller IP address " + ip.String() + " is not allowed. Access denied.", Status: http.StatusForbidden}
	case !allow && listed:
		return &PolicyError{Source: "ip-filter", Reason: "CallerIpBlocked",
			Message: "Caller IP address is blocked. Access denied.", Status: http.StatusForbidden}
	}
	return nil
}
