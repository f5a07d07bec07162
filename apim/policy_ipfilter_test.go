package apim

import (
	"net/netip"
	"testing"
)

func TestIPFilterUnitMatch(t *testing.T) {
	t.Parallel()
	p := &ipFilterPolicy{addrs: map[netip.Addr]struct{}{}}
	for _, s := range []string{"10.0.0.5", "2001:db8::1"} {
		a, err := ipParse(s)
		if err != nil {
			t.Fatal(err)
		}
		p.addrs[a] = struct{}{}
	}
	mk := func(a, b string) ipRange {
		f, _ := ipParse(a)
		to, _ := ipParse(b)
		return ipRange{f, to}
	}
	p.ranges = []ipRange{mk("192.168.1.10", "192.168.1.20"), mk("2001:db8:1::", "2001:db8:1::ffff")}
	for _, c := range []struct {
		ip   string
		want bool
	}{
		{"10.0.0.5", true},
		{"::ffff:10.0.0.5", true}, // IPv4-mapped form of a listed IPv4 address
		{"10.0.0.6", false},
		{"2001:db8::1", true},
		{"2001:DB8:0:0::1", true},
		{"fe80::1%eth0", false},
		{"192.168.1.10", true}, // inclusive bounds
		{"192.168.1.20", true},
		{"192.168.1.21", false},
		{"192.168.1.9", false},
		{"2001:db8:1::abcd", true},
		{"2001:db8:1::1:0", false},
		{"[2001:db8::1]:443", true},
		{"10.0.0.5:1234", true},
	} {
		a, err := ipParse(c.ip)
		if err != nil {
			t.Fatalf("%s: %v", c.ip, err)
		}
		if got := p.match(a); got != c.want {
			t.Errorf("match(%s) = %v, want %v", c.ip, got, c.want)
		}
	}
	for _, bad := range []string{"", "unknown", "10.0.0.256", "10.0.0.0/8"} {
		if _, err := ipParse(bad); err == nil {
			t.Errorf("ipParse(%q) succeeded", bad)
		}
	}
}

func TestIPFilterAllow(t *testing.T) {
	t.Parallel()
	h := newACHarness(t)
	p := acLoad(t, ScopeAPI, acDoc(`
		<ip-filter action="allow">
			<address>13.66.201.169</address>
			<address-range from="13.66.140.128" to="13.66.140.143" />
			<address>2001:db8::10</address>
		</ip-filter>`))
	for _, ip := range []string{"13.66.201.169", "13.66.140.128", "13.66.140.143", "::ffff:13.66.140.130", "2001:db8::10"} {
		acExpect(t, h.do(p, acReq{ip: ip}), 200, `{"ok":true}`)
	}
	w := h.do(p, acReq{ip: "13.66.140.144"})
	acExpect(t, w, 403, `{"statusCode":403,"message":"Caller IP address 13.66.140.144 is not allowed. Access denied."}`)
	acHeader(t, w, "X-Reason", "CallerIpNotAllowed")
	acExpect(t, h.do(p, acReq{ip: "2001:db8::11"}), 403, `{"statusCode":403,"message":"Caller IP address 2001:db8::11 is not allowed. Access denied."}`)
	w = h.do(p, acReq{ip: "not-an-ip"})
	acExpect(t, w, 403, `{"statusCode":403,"message":"Failed to establish IP address for the caller. Access denied."}`)
	acHeader(t, w, "X-Reason", "FailedToParseCallerIP")
	if n := h.hits.Load(); n != 5 {
		t.Fatalf("backend hits %d, want 5", n)
	}
}

func TestIPFilterForbid(t *testing.T) {
	t.Parallel()
	h := newACHarness(t)
	p := acLoad(t, ScopeAPI, acDoc(`
		<ip-filter action="forbid">
			<address-range from="198.51.100.0" to="198.51.100.255" />
		</ip-filter>`))
	w := h.do(p, acReq{ip: "198.51.100.77"})
	acExpect(t, w, 403, `{"statusCode":403,"message":"Caller IP address is blocked. Access denied."}`)
	acHeader(t, w, "X-Reason", "CallerIpBlocked")
	acExpect(t, h.do(p, acReq{ip: "198.51.101.1"}), 200, "")
}

func TestIPFilterExpressions(t *testing.T) {
	t.Parallel()
	h := newACHarness(t)
	p := acLoad(t, ScopeAPI, acDoc(`
		<ip-filter action="@(context.Request.Headers.GetValueOrDefault("X-Mode","allow"))">
			<address>@(context.Request.Headers.GetValueOrDefault("X-Listed","127.0.0.1"))</address>
		</ip-filter>`))
	acExpect(t, h.do(p, acReq{ip: "203.0.113.9", headers: map[string]string{"X-Listed": "203.0.113.9"}}), 200, "")
	acExpect(t, h.do(p, acReq{ip: "203.0.113.9"}), 403, "")
	acExpect(t, h.do(p, acReq{ip: "203.0.113.9", headers: map[string]string{"X-Mode": "forbid"}}), 200, "")
	acExpect(t, h.do(p, acReq{ip: "203.0.113.9", headers: map[string]string{"X-Mode": "forbid", "X-Listed": "203.0.113.9"}}), 403,
		`{"statusCode":403,"message":"Caller IP address is blocked. Access denied."}`)
	// An address that does not parse fails the request instead of opening a forbid list.
	acExpect(t, h.do(p, acReq{ip: "203.0.113.9", headers: map[string]string{"X-Mode": "forbid", "X-Listed": "garbage"}}), 500, "")
}

func TestIPFilterLoadErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ xml, want string }{
		{`<ip-filter action="deny"><address>1.2.3.4</address></ip-filter>`, "action must be allow or forbid"},
		{`<ip-filter><address>1.2.3.4</address></ip-filter>`, `"action" is required`},
		{`<ip-filter action="allow" />`, "at least one address"},
		{`<ip-filter action="allow"><address>1.2.3.400</address></ip-filter>`, "is not an IP address"},
		{`<ip-filter action="allow"><address-range from="10.0.0.9" to="10.0.0.1" /></ip-filter>`, "is after"},
		{`<ip-filter action="allow"><address-range from="10.0.0.1" to="::1" /></ip-filter>`, "mixes IPv4 and IPv6"},
		{`<ip-filter action="allow"><address-range from="10.0.0.1" /></ip-filter>`, "needs both from and to"},
		{`<ip-filter action="allow"><cidr>10.0.0.0/8</cidr></ip-filter>`, "unknown element <cidr>"},
	} {
		acLoadErr(t, ScopeAPI, acDoc(c.xml), c.want)
	}
}
