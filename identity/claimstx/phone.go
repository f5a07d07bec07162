package claimstx

import (
	"strings"
)

// Phone number claims transformations.
//
// Normalisation is deliberately simple (no per-country numbering plans, no
// libphonenumber): a phone number is "+", a known country calling code and
// a national number of 4 to 14 digits, at most 15 digits in all (E.164);
// spaces, dots, dashes and parentheses are ignored. A number without "+" is
// national and needs the country (ISO 3166 alpha-2): its trunk prefix (a
// leading 0, or 1 in the NANP) is dropped, except for Italy, San Marino and
// the Vatican, which keep their leading 0.

func init() {
	register(&Method{Name: "ConvertPhoneNumberClaimToString", Family: "phone",
		Inputs: []Slot{req("phoneNumber", PhoneNumber, String)},
		Out:    []Slot{req("phoneNumberString", String)},
		Run: func(in Inputs) (Outputs, error) {
			v, ok := in.str("phoneNumber")
			if !ok {
				return Outputs{}, nil
			}
			return one("phoneNumberString", str(v)), nil
		}})
	register(&Method{Name: "ConvertStringToPhoneNumberClaim", Family: "phone",
		// phoneNumberString and country (current docs, starter pack);
		// inputClaim is the older docs' name for phoneNumberString.
		Inputs: []Slot{opt("phoneNumberString", String, PhoneNumber), opt("inputClaim", String, PhoneNumber), opt("country", String)},
		Out:    []Slot{req("outputClaim", PhoneNumber, String)},
		Validate: func(inClaims, _, _ []Decl) []string {
			n := 0
			for _, d := range inClaims {
				if d.Name == "phoneNumberString" || d.Name == "inputClaim" {
					n++
				}
			}
			if n != 1 {
				return []string{"needs exactly one of the input claims phoneNumberString and inputClaim"}
			}
			return nil
		},
		Run: func(in Inputs) (Outputs, error) {
			const m = "ConvertStringToPhoneNumberClaim"
			v, ok := in.str("phoneNumberString")
			if !ok {
				v, ok = in.str("inputClaim")
			}
			country, _ := in.str("country")
			if !ok {
				return nil, assertFail(m, KeyInvalidPhoneNumber, "no phone number")
			}
			e164, valid := NormalizePhoneNumber(v, country)
			if !valid {
				return nil, assertFail(m, KeyInvalidPhoneNumber, "%q is not a valid phone number", v)
			}
			return one("outputClaim", Claim{DataType: in.outType("outputClaim", PhoneNumber), Value: e164}), nil
		}})
	register(&Method{Name: "GetNationalNumberAndCountryCodeFromPhoneNumberString", Family: "phone",
		Inputs: []Slot{req("phoneNumber", String, PhoneNumber)},
		Params: []Slot{opt("throwExceptionOnFailure", Boolean), enum("countryCodeType", true, "ISO3166", "CallingCode")},
		Out:    []Slot{opt("nationalNumber", String), opt("countryCode", String)},
		Run: func(in Inputs) (Outputs, error) {
			const m = "GetNationalNumberAndCountryCodeFromPhoneNumberString"
			throw, err := in.paramBool(m, "throwExceptionOnFailure", false)
			if err != nil {
				return nil, err
			}
			v, _ := in.str("phoneNumber")
			cc, national, iso, ok := SplitPhoneNumber(v)
			if !ok {
				if throw {
					return nil, assertFail(m, KeyPhoneParseFailure, "%q is not an international phone number", v)
				}
				return Outputs{}, nil
			}
			code := iso
			if t, _ := in.param("countryCodeType"); strings.EqualFold(strings.TrimSpace(t), "CallingCode") {
				code = "+" + cc
			}
			return Outputs{"nationalNumber": str(national), "countryCode": str(code)}, nil
		}})
}

// phoneDigits strips the formatting characters; ok is false for anything else.
func phoneDigits(s string) (plus bool, digits string, ok bool) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "+") {
		plus, s = true, s[1:]
	}
	var b strings.Builder
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9':
			b.WriteRune(c)
		case c == ' ' || c == '-' || c == '.' || c == '(' || c == ')':
		default:
			return false, "", false
		}
	}
	return plus, b.String(), b.Len() > 0
}

// SplitPhoneNumber splits an international number ("+49 (123) 456-7890")
// into its calling code ("49"), national number ("1234567890") and the ISO
// 3166 country of that code ("DE"; for a code shared by several countries,
// the main one: +1 is US, +7 RU, +44 GB).
func SplitPhoneNumber(s string) (callingCode, national, iso string, ok bool) {
	plus, d, ok := phoneDigits(s)
	if !ok || !plus || len(d) > 15 {
		return "", "", "", false
	}
	for n := 1; n <= 3 && n < len(d); n++ {
		if c, found := callingToISO[d[:n]]; found {
			if len(d)-n < 4 {
				return "", "", "", false
			}
			return d[:n], d[n:], c, true
		}
	}
	return "", "", "", false
}

// NormalizePhoneNumber returns the E.164 form ("+11234567890") of an
// international number, or of a national one given its country (ISO 3166
// alpha-2, or a calling code such as "+44").
func NormalizePhoneNumber(s, country string) (string, bool) {
	plus, d, ok := phoneDigits(s)
	if !ok {
		return "", false
	}
	if plus {
		cc, nat, _, ok := SplitPhoneNumber(s)
		if !ok {
			return "", false
		}
		return "+" + cc + nat, true
	}
	country = strings.TrimSpace(country)
	var cc string
	if strings.HasPrefix(country, "+") {
		cc = country[1:]
		if _, known := callingToISO[cc]; !known {
			return "", false
		}
	} else {
		iso := strings.ToUpper(country)
		var known bool
		if cc, known = isoToCalling[iso]; !known {
			return "", false
		}
		switch {
		case iso == "IT" || iso == "SM" || iso == "VA":
		case cc == "1" && len(d) == 11 && d[0] == '1':
			d = d[1:]
		case d[0] == '0':
			d = strings.TrimLeft(d, "0")
		}
	}
	if len(d) < 4 || len(cc)+len(d) > 15 {
		return "", false
	}
	return "+" + cc + d, true
}

// callingCodes: ISO 3166 alpha-2 and ITU calling code; the first country
// listed for a code is its main one.
const callingCodes = `US1 CA1 PR1 DO1 JM1 TT1 BS1 BB1 RU7 KZ7 EG20 ZA27 GR30 NL31 BE32 FR33 ES34 HU36 IT39 VA39
RO40 CH41 AT43 GB44 DK45 SE46 NO47 PL48 DE49 PE51 MX52 CU53 AR54 BR55 CL56 CO57 VE58
MY60 AU61 ID62 PH63 NZ64 SG65 TH66 JP81 KR82 VN84 CN86 TR90 IN91 PK92 AF93 LK94 MM95 IR98
SS211 MA212 DZ213 TN216 LY218 GM220 SN221 MR222 ML223 GN224 CI225 BF226 NE227 TG228 BJ229
MU230 LR231 SL232 GH233 NG234 TD235 CF236 CM237 CV238 ST239 GQ240 GA241 CG242 CD243 AO244
GW245 SC248 SD249 RW250 ET251 SO252 DJ253 KE254 TZ255 UG256 BI257 MZ258 ZM260 MG261 RE262
ZW263 NA264 MW265 LS266 BW267 SZ268 KM269 SH290 ER291 AW297 FO298 GL299 GI350 PT351 LU352
IE353 IS354 AL355 MT356 CY357 FI358 BG359 LT370 LV371 EE372 MD373 AM374 BY375 AD376 MC377
SM378 UA380 RS381 ME382 XK383 HR385 SI386 BA387 MK389 CZ420 SK421 LI423 FK500 BZ501 GT502
SV503 HN504 NI505 CR506 PA507 PM508 HT509 GP590 BO591 GY592 EC593 GF594 PY595 MQ596 SR597
UY598 CW599 TL670 NF672 BN673 NR674 PG675 TO676 SB677 VU678 FJ679 PW680 WF681 CK682 NU683
WS685 KI686 NC687 TV688 PF689 TK690 FM691 MH692 KP850 HK852 MO853 KH855 LA856 BD880 TW886
MV960 LB961 JO962 SY963 IQ964 KW965 SA966 YE967 OM968 PS970 AE971 IL972 BH973 QA974 BT975
MN976 NP977 TJ992 TM993 AZ994 GE995 KG996 UZ998`

var callingToISO, isoToCalling = func() (map[string]string, map[string]string) {
	c2i, i2c := map[string]string{}, map[string]string{}
	for _, f := range strings.Fields(callingCodes) {
		iso, code := f[:2], f[2:]
		if _, seen := c2i[code]; !seen {
			c2i[code] = iso
		}
		i2c[iso] = code
	}
	return c2i, i2c
}()
