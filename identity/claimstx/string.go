package claimstx

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"strings"
	"unicode/utf16"

	"github.com/gatehouse/gatehouse/internal/dotnetregex"
)

// String claims transformations.

func init() {
	s := []DataType{String}
	sp := []DataType{String, PhoneNumber}
	b := []DataType{Boolean}
	bs := []DataType{Boolean, String} // docs write ignoreCase as DataType="string" too
	cmp := func(optional bool) Slot { return enum("stringComparison", optional, "Ordinal", "OrdinalIgnoreCase") }

	register(&Method{Name: "AssertStringClaimsAreEqual", Family: "string",
		Inputs: []Slot{req("inputClaim1", sp...), req("inputClaim2", sp...)},
		Params: []Slot{cmp(true)},
		Run: func(in Inputs) (Outputs, error) {
			const m = "AssertStringClaimsAreEqual"
			x, _ := in.str("inputClaim1")
			y, _ := in.str("inputClaim2")
			if !equalStrings(in, x, y) {
				return nil, assertFail(m, KeyStringsNotEqual, "inputClaim1 and inputClaim2 differ")
			}
			return Outputs{}, nil
		}})
	register(&Method{Name: "BuildUri", Family: "string",
		// path and query.<name> come from InputClaims or InputParameters.
		Inputs:    []Slot{opt("path", s...)},
		Params:    []Slot{req("scheme", s...), req("host", s...), opt("port", Int, Long, String), opt("path", s...)},
		AnyInputs: true, AnyParams: true,
		Out: []Slot{req("outputClaim", s...)},
		Validate: func(inClaims, params, _ []Decl) []string {
			var msgs []string
			for _, d := range append(append([]Decl{}, inClaims...), params...) {
				switch {
				case d.Name == "scheme" || d.Name == "host" || d.Name == "port" || d.Name == "path":
				case strings.HasPrefix(d.Name, "query.") && len(d.Name) > len("query."):
				default:
					msgs = append(msgs, fmt.Sprintf("%q is not scheme, host, port, path or query.<name>", d.Name))
				}
			}
			return msgs
		},
		Run: buildURI})
	register(&Method{Name: "ChangeCase", Family: "string",
		Inputs: []Slot{req("inputClaim1", s...)},
		Params: []Slot{enum("toCase", false, "LOWER", "UPPER")},
		Out:    []Slot{req("outputClaim", s...)},
		Run: func(in Inputs) (Outputs, error) {
			v, ok := in.str("inputClaim1")
			if !ok {
				return Outputs{}, nil
			}
			to, _ := in.param("toCase")
			if strings.EqualFold(strings.TrimSpace(to), "UPPER") {
				return one("outputClaim", str(strings.ToUpper(v))), nil
			}
			return one("outputClaim", str(strings.ToLower(v))), nil
		}})
	register(&Method{Name: "CompareClaims", Family: "string",
		Inputs: []Slot{req("inputClaim1", sp...), req("inputClaim2", sp...)},
		Params: []Slot{enum("operator", false, "EQUAL", "NOT EQUAL"), opt("ignoreCase", bs...)},
		Out:    []Slot{req("outputClaim", b...)},
		Run: func(in Inputs) (Outputs, error) {
			x, _ := in.str("inputClaim1")
			y, _ := in.str("inputClaim2")
			return compareOut(in, "CompareClaims", x, y)
		}})
	register(&Method{Name: "CompareClaimToValue", Family: "string",
		Inputs: []Slot{req("inputClaim1", sp...)},
		Params: []Slot{req("compareTo", s...), enum("operator", false, "EQUAL", "NOT EQUAL"), opt("ignoreCase", bs...)},
		Out:    []Slot{req("outputClaim", b...)},
		Run: func(in Inputs) (Outputs, error) {
			x, _ := in.str("inputClaim1")
			y, _ := in.param("compareTo")
			return compareOut(in, "CompareClaimToValue", x, y)
		}})
	register(&Method{Name: "CopyClaimIfPredicateMatch", Family: "string",
		Inputs: []Slot{req("inputClaim", sp...)},
		Out:    []Slot{req("outputClaim", sp...)},
		Run: func(in Inputs) (Outputs, error) {
			v, ok := in.str("inputClaim")
			if !ok {
				return Outputs{}, nil
			}
			if in.Predicate != nil {
				match, err := in.Predicate("outputClaim", v)
				if err != nil {
					return nil, err
				}
				if !match {
					return Outputs{}, nil
				}
			}
			return one("outputClaim", Claim{DataType: in.outType("outputClaim", String), Value: v}), nil
		}})
	register(&Method{Name: "CreateRandomString", Family: "string",
		Params: []Slot{enum("randomGeneratorType", false, "GUID", "INTEGER"), opt("stringFormat", s...),
			opt("base64", b...), opt("maximumNumber", Int, Long), opt("seed", Int, Long)},
		Out: []Slot{req("outputClaim", s...)},
		Run: createRandomString})
	register(&Method{Name: "CreateStringClaim", Family: "string",
		Params: []Slot{req("value", s...)},
		Out:    []Slot{req("createdClaim", s...)},
		Run: func(in Inputs) (Outputs, error) {
			v, _ := in.param("value")
			return one("createdClaim", str(v)), nil
		}})
	register(&Method{Name: "FormatStringClaim", Family: "string",
		Inputs: []Slot{req("inputClaim", sp...)},
		Params: []Slot{req("stringFormat", s...)},
		Out:    []Slot{req("outputClaim", s...)},
		Validate: func(_, params, _ []Decl) []string {
			return checkFormatParam(params, 1)
		},
		Run: func(in Inputs) (Outputs, error) {
			v, _ := in.str("inputClaim")
			f, _ := in.param("stringFormat")
			r, err := netFormat(f, v)
			if err != nil {
				return nil, fail("FormatStringClaim", "stringFormat %q: %v", f, err)
			}
			return one("outputClaim", str(r)), nil
		}})
	register(&Method{Name: "FormatStringMultipleClaims", Family: "string",
		Inputs: []Slot{req("inputClaim1", sp...), req("inputClaim2", sp...)},
		Params: []Slot{req("stringFormat", s...)},
		Out:    []Slot{req("outputClaim", s...)},
		Validate: func(_, params, _ []Decl) []string {
			return checkFormatParam(params, 2)
		},
		Run: func(in Inputs) (Outputs, error) {
			x, _ := in.str("inputClaim1")
			y, _ := in.str("inputClaim2")
			f, _ := in.param("stringFormat")
			r, err := netFormat(f, x, y)
			if err != nil {
				return nil, fail("FormatStringMultipleClaims", "stringFormat %q: %v", f, err)
			}
			return one("outputClaim", str(r)), nil
		}})
	register(&Method{Name: "LookupValue", Family: "string",
		Inputs:    []Slot{req("inputParameterId", s...)},
		Params:    []Slot{opt("errorOnFailedLookup", b...)},
		AnyParams: true,
		Out:       []Slot{req("outputClaim", s...)},
		Run: func(in Inputs) (Outputs, error) {
			const m = "LookupValue"
			id, _ := in.str("inputParameterId")
			errOnFail, err := in.paramBool(m, "errorOnFailedLookup", false)
			if err != nil {
				return nil, err
			}
			if p, ok := in.Params[id]; ok && id != "errorOnFailedLookup" {
				return one("outputClaim", str(p.Value)), nil
			}
			if errOnFail {
				return nil, fail(m, "no input parameter matches %q", id)
			}
			return Outputs{}, nil
		}})
	register(&Method{Name: "NullClaim", Family: "string",
		Out: []Slot{req("claim_to_null")},
		Run: func(in Inputs) (Outputs, error) {
			return one("claim_to_null", Claim{DataType: in.outType("claim_to_null", String)}), nil
		}})
	register(&Method{Name: "ParseDomain", Family: "string",
		Inputs: []Slot{req("emailAddress", s...)},
		Out:    []Slot{req("domain", s...)},
		Run: func(in Inputs) (Outputs, error) {
			v, _ := in.str("emailAddress")
			at := strings.LastIndexByte(v, '@')
			if at < 0 {
				return Outputs{}, nil
			}
			return one("domain", str(v[at+1:])), nil
		}})
	register(&Method{Name: "SetClaimIfBooleansMatch", Family: "string",
		Inputs: []Slot{req("claimToMatch", b...)},
		Params: []Slot{req("matchTo", b...), req("outputClaimIfMatched", s...)},
		Out:    []Slot{req("outputClaim", s...)},
		Run: func(in Inputs) (Outputs, error) {
			const m = "SetClaimIfBooleansMatch"
			v, ok, err := in.boolean(m, "claimToMatch")
			if err != nil {
				return nil, err
			}
			want, err := in.paramBool(m, "matchTo", false)
			if err != nil {
				return nil, err
			}
			if ok && v == want {
				p, _ := in.param("outputClaimIfMatched")
				return one("outputClaim", str(p)), nil
			}
			return Outputs{}, nil
		}})
	register(&Method{Name: "SetClaimsIfRegexMatch", Family: "string",
		Inputs: []Slot{req("claimToMatch", sp...)},
		Params: []Slot{req("matchTo", s...), req("outputClaimIfMatched", s...), opt("extractGroups", b...)},
		Out:    []Slot{opt("outputClaim", s...), opt("regexCompareResultClaim", b...)},
		// extractGroups: the named groups become output claims of those names.
		AnyOutputs: true,
		Validate: func(_, params, _ []Decl) []string {
			for _, p := range params {
				if p.Name == "matchTo" {
					if _, err := dotnetregex.Compile(p.Value, dotnetregex.None); err != nil {
						return []string{"matchTo: " + err.Error()}
					}
				}
			}
			return nil
		},
		Run: setClaimsIfRegexMatch})
	register(&Method{Name: "SetClaimsIfStringsAreEqual", Family: "string",
		Inputs: []Slot{req("inputClaim", sp...)},
		Params: []Slot{req("matchTo", s...), cmp(true), opt("stringMatchMsg", s...), opt("stringMatchMsgCode", s...)},
		Out:    []Slot{opt("outputClaim1", s...), opt("outputClaim2", s...), opt("stringCompareResultClaim", b...)},
		Run: func(in Inputs) (Outputs, error) {
			v, _ := in.str("inputClaim")
			to, _ := in.param("matchTo")
			if !equalStrings(in, v, to) {
				return one("stringCompareResultClaim", boolean(false)), nil
			}
			msg, _ := in.param("stringMatchMsg")
			code, _ := in.param("stringMatchMsgCode")
			return Outputs{"outputClaim1": str(msg), "outputClaim2": str(code), "stringCompareResultClaim": boolean(true)}, nil
		}})
	register(&Method{Name: "SetClaimsIfStringsMatch", Family: "string",
		Inputs: []Slot{req("claimToMatch", sp...)},
		Params: []Slot{req("matchTo", s...), cmp(true), req("outputClaimIfMatched", s...)},
		Out:    []Slot{opt("outputClaim", s...), opt("stringCompareResultClaim", b...)},
		Run: func(in Inputs) (Outputs, error) {
			v, _ := in.str("claimToMatch")
			to, _ := in.param("matchTo")
			if !equalStrings(in, v, to) {
				return Outputs{"outputClaim": {DataType: String}, "stringCompareResultClaim": boolean(false)}, nil
			}
			p, _ := in.param("outputClaimIfMatched")
			return Outputs{"outputClaim": str(p), "stringCompareResultClaim": boolean(true)}, nil
		}})
	register(&Method{Name: "StringContains", Family: "string",
		Inputs: []Slot{req("inputClaim", sp...)},
		Params: []Slot{req("contains", s...), opt("ignoreCase", bs...)},
		Out:    []Slot{req("outputClaim", b...)},
		Run: func(in Inputs) (Outputs, error) {
			v, _ := in.str("inputClaim")
			sub, _ := in.param("contains")
			ic, err := in.paramBool("StringContains", "ignoreCase", false)
			if err != nil {
				return nil, err
			}
			if ic {
				v, sub = strings.ToUpper(v), strings.ToUpper(sub)
			}
			return one("outputClaim", boolean(strings.Contains(v, sub))), nil
		}})
	register(&Method{Name: "StringJoin", Family: "string",
		Inputs: []Slot{req("inputClaim", StringCollection)},
		Params: []Slot{req("delimiter", s...)},
		Out:    []Slot{req("outputClaim", s...)},
		Run: func(in Inputs) (Outputs, error) {
			c, _, err := in.collection("StringJoin", "inputClaim")
			if err != nil {
				return nil, err
			}
			d, _ := in.param("delimiter")
			return one("outputClaim", str(strings.Join(c, d))), nil
		}})
	register(&Method{Name: "StringSplit", Family: "string",
		Inputs: []Slot{req("inputClaim", s...)},
		Params: []Slot{req("delimiter", s...)},
		Out:    []Slot{req("outputClaim", StringCollection)},
		Run: func(in Inputs) (Outputs, error) {
			v, ok := in.str("inputClaim")
			if !ok {
				return Outputs{}, nil
			}
			d, _ := in.param("delimiter")
			var parts []string
			if d == "" {
				parts = []string{v} // .NET Split with an empty separator returns the whole string
			} else {
				parts = strings.Split(v, d)
			}
			return one("outputClaim", Claim{DataType: StringCollection, Value: parts}), nil
		}})
	register(&Method{Name: "StringReplace", Family: "string",
		Inputs: []Slot{req("inputClaim", sp...)},
		Params: []Slot{req("oldValue", s...), req("newValue", s...)},
		Out:    []Slot{req("outputClaim", sp...)},
		Run: func(in Inputs) (Outputs, error) {
			v, ok := in.str("inputClaim")
			if !ok {
				return Outputs{}, nil
			}
			o, _ := in.param("oldValue")
			n, _ := in.param("newValue")
			if o == "" {
				return nil, fail("StringReplace", "oldValue is empty")
			}
			return one("outputClaim", str(strings.ReplaceAll(v, o, n))), nil
		}})
	register(&Method{Name: "StringSubstring", Family: "string",
		Inputs: []Slot{req("inputClaim", sp...)},
		Params: []Slot{req("startIndex", Int, Long), req("length", Int, Long)},
		Out:    []Slot{req("outputClaim", s...)},
		Run: func(in Inputs) (Outputs, error) {
			const m = "StringSubstring"
			v, ok := in.str("inputClaim")
			if !ok {
				return Outputs{}, nil
			}
			start, _, err := in.paramInt(m, "startIndex", 0)
			if err != nil {
				return nil, err
			}
			n, _, err := in.paramInt(m, "length", 0)
			if err != nil {
				return nil, err
			}
			u := utf16.Encode([]rune(v)) // .NET indexes UTF-16 code units
			if start < 0 || n < 0 || start > int64(len(u)) || n > int64(len(u))-start {
				return nil, fail(m, "startIndex %d and length %d do not fit a string of length %d", start, n, len(u))
			}
			return one("outputClaim", str(string(utf16.Decode(u[start:start+n])))), nil
		}})
}

// equalStrings compares with the stringComparison parameter (Ordinal by
// default; OrdinalIgnoreCase folds case).
func equalStrings(in Inputs, x, y string) bool {
	c, _ := in.param("stringComparison")
	if strings.EqualFold(strings.TrimSpace(c), "OrdinalIgnoreCase") {
		return strings.EqualFold(x, y)
	}
	return x == y
}

func compareOut(in Inputs, m, x, y string) (Outputs, error) {
	ic, err := in.paramBool(m, "ignoreCase", false)
	if err != nil {
		return nil, err
	}
	eq := x == y
	if ic {
		eq = strings.EqualFold(x, y)
	}
	op, _ := in.param("operator")
	switch strings.ToUpper(strings.TrimSpace(op)) {
	case "EQUAL":
		return one("outputClaim", boolean(eq)), nil
	case "NOT EQUAL":
		return one("outputClaim", boolean(!eq)), nil
	}
	return nil, fail(m, "operator %q: want EQUAL or NOT EQUAL", op)
}

func checkFormatParam(params []Decl, nargs int) []string {
	for _, p := range params {
		if p.Name != "stringFormat" {
			continue
		}
		args := make([]string, nargs)
		// Claim resolvers ({Culture:LCID}, {RelyingPartyTenantId}...) are
		// resolved before formatting; blank them out for the check.
		if _, err := netFormat(stripResolvers(p.Value), args...); err != nil {
			return []string{fmt.Sprintf("stringFormat %q: %v", p.Value, err)}
		}
	}
	return nil
}

// stripResolvers removes {Name} / {Name:Part} claim resolvers (a letter after
// the brace), which are not String.Format items.
func stripResolvers(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '{' && i+1 < len(s) && isLetter(s[i+1]) {
			if j := strings.IndexByte(s[i:], '}'); j > 0 {
				i += j
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func createRandomString(in Inputs) (Outputs, error) {
	const m = "CreateRandomString"
	typ, _ := in.param("randomGeneratorType")
	src := in.Rand
	if src == nil {
		src = rand.Reader
	}
	var v string
	switch strings.ToUpper(strings.TrimSpace(typ)) {
	case "GUID":
		var u [16]byte
		if _, err := io.ReadFull(src, u[:]); err != nil {
			return nil, fail(m, "random source: %v", err)
		}
		u[6] = u[6]&0x0f | 0x40
		u[8] = u[8]&0x3f | 0x80
		v = fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
	case "INTEGER":
		max, _, err := in.paramInt(m, "maximumNumber", 1<<31-1)
		if err != nil {
			return nil, err
		}
		if max <= 0 {
			return nil, fail(m, "maximumNumber %d must be positive", max)
		}
		seed, seeded, err := in.paramInt(m, "seed", 0)
		if err != nil {
			return nil, err
		}
		var n int64
		if seeded {
			// Same seed, same sequence (as the docs promise); not .NET's
			// System.Random sequence.
			n = mrand.New(mrand.NewPCG(uint64(seed), 0)).Int64N(max)
		} else {
			var err error
			if n, err = uniform(src, max); err != nil {
				return nil, fail(m, "random source: %v", err)
			}
		}
		v = fmt.Sprint(n)
	default:
		return nil, fail(m, "randomGeneratorType %q: want GUID or INTEGER", typ)
	}
	if f, ok := in.param("stringFormat"); ok && f != "" {
		r, err := netFormat(f, v)
		if err != nil {
			return nil, fail(m, "stringFormat %q: %v", f, err)
		}
		v = r
	}
	b64, err := in.paramBool(m, "base64", false)
	if err != nil {
		return nil, err
	}
	if b64 {
		v = base64.StdEncoding.EncodeToString([]byte(v))
	}
	return one("outputClaim", str(v)), nil
}

// uniform returns a uniformly random integer in [0, max) read from src.
func uniform(src io.Reader, max int64) (int64, error) {
	limit := ^uint64(0) - ^uint64(0)%uint64(max)
	var buf [8]byte
	for {
		if _, err := io.ReadFull(src, buf[:]); err != nil {
			return 0, err
		}
		x := binary.LittleEndian.Uint64(buf[:])
		if x < limit {
			return int64(x % uint64(max)), nil
		}
	}
}

func setClaimsIfRegexMatch(in Inputs) (Outputs, error) {
	const m = "SetClaimsIfRegexMatch"
	v, _ := in.str("claimToMatch")
	pattern, _ := in.param("matchTo")
	re, err := dotnetregex.Compile(pattern, dotnetregex.None)
	if err != nil {
		return nil, fail(m, "matchTo: %v", err)
	}
	match, err := re.Match(v)
	if err != nil {
		return nil, fail(m, "matchTo: %v", err)
	}
	if match == nil {
		return one("regexCompareResultClaim", boolean(false)), nil
	}
	p, _ := in.param("outputClaimIfMatched")
	out := Outputs{"outputClaim": str(p), "regexCompareResultClaim": boolean(true)}
	extract, err := in.paramBool(m, "extractGroups", false)
	if err != nil {
		return nil, err
	}
	if extract {
		for _, name := range re.GroupNames() {
			if name == "" || (name[0] >= '0' && name[0] <= '9') {
				continue // numbered groups have no claim
			}
			if g, ok := match.Named(name); ok {
				out[name] = str(g.Value)
			}
		}
	}
	return out, nil
}

// buildURI assembles scheme://host[:port]/path?query.name=value&... with
// .NET's Uri.EscapeDataString escaping of the path and the query values
// (otpauth://totp/Contoso%3Ajohn%40contoso.com?secret=...&issuer=Contoso).
// Query items are the InputClaims' then the InputParameters', in document
// order.
func buildURI(in Inputs) (Outputs, error) {
	scheme, _ := in.param("scheme")
	host, _ := in.param("host")
	if scheme == "" || host == "" {
		return nil, fail("BuildUri", "scheme and host need values")
	}
	var b strings.Builder
	b.WriteString(scheme + "://" + host)
	if port, ok := in.param("port"); ok && port != "" {
		b.WriteString(":" + port)
	}
	path, ok := in.str("path")
	if !ok {
		path, _ = in.param("path")
	}
	b.WriteString("/" + escapeDataString(path))
	sep := "?"
	query := func(name, v string) {
		b.WriteString(sep + escapeDataString(strings.TrimPrefix(name, "query.")) + "=" + escapeDataString(v))
		sep = "&"
	}
	for _, name := range in.order(in.ClaimOrder, in.Claims) {
		if v, ok := in.str(name); ok && strings.HasPrefix(name, "query.") {
			query(name, v)
		}
	}
	porder := in.paramOrder()
	for _, id := range porder {
		if p, ok := in.Params[id]; ok && strings.HasPrefix(id, "query.") {
			query(id, p.Value)
		}
	}
	return one("outputClaim", str(b.String())), nil
}

// escapeDataString is .NET's Uri.EscapeDataString: everything but the RFC
// 3986 unreserved characters is percent-encoded (UTF-8, upper-case hex).
func escapeDataString(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}
