package claimstx

import (
	"bytes"
	"crypto/sha256"
	"encoding/xml"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// c builds claims from plain Go values: string, bool, int (int64), time.Time,
// []string; the DataType follows the value.
func c(kv ...any) map[string]Claim {
	m := map[string]Claim{}
	for i := 0; i < len(kv); i += 2 {
		v := kv[i+1]
		var dt DataType
		switch x := v.(type) {
		case string:
			dt = String
		case bool:
			dt = Boolean
		case int:
			dt, v = Long, int64(x)
		case time.Time:
			dt = DateTime
		case []string:
			dt = StringCollection
		case nil:
			dt = String
		}
		m[kv[i].(string)] = Claim{DataType: dt, Value: v}
	}
	return m
}

// p builds string-typed parameters (DataType as in the docs where it matters).
func p(kv ...string) map[string]Param {
	m := map[string]Param{}
	for i := 0; i < len(kv); i += 2 {
		id := kv[i]
		dt := String
		if j := strings.IndexByte(id, ':'); j > 0 {
			id, dt = id[:j], DataType(id[j+1:])
		}
		m[id] = Param{ID: id, DataType: dt, Value: kv[i+1]}
	}
	return m
}

func ts(s string) time.Time {
	t, err := ParseDateTime(s)
	if err != nil {
		panic(err)
	}
	return t
}

type tcase struct {
	name    string
	method  string
	claims  map[string]Claim
	params  map[string]Param
	outs    map[string]DataType
	want    map[string]any // TransformationClaimType → value (nil = set to null)
	wantErr string         // assertion message key, or a substring of the error
}

func runCases(t *testing.T, cases []tcase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.method+"/"+tc.name, func(t *testing.T) {
			in := Inputs{Claims: tc.claims, Params: tc.params, Outputs: tc.outs,
				Now: func() time.Time { return ts("2026-12-03T09:00:00Z") }}
			out, err := Run(tc.method, in)
			if tc.wantErr != "" {
				if err == nil {
					t.Fatalf("no error, outputs %v", out)
				}
				var ae *AssertionError
				if errors.As(err, &ae) {
					if ae.MessageKey != tc.wantErr {
						t.Fatalf("message key %s, want %s", ae.MessageKey, tc.wantErr)
					}
					return
				}
				if !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]any{}
			for k, v := range out {
				got[k] = v.Value
			}
			want := tc.want
			if want == nil {
				want = map[string]any{}
			}
			for k, v := range want {
				if n, ok := v.(int); ok {
					want[k] = int64(n)
				}
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("outputs %#v, want %#v", got, want)
			}
		})
	}
}

// The examples of B2C's claims transformation reference pages, plus edges.
func TestBoolean(t *testing.T) {
	runCases(t, []tcase{
		{"doc", "AndClaims", c("inputClaim1", true, "inputClaim2", false), nil, nil, map[string]any{"outputClaim": false}, ""},
		{"both", "AndClaims", c("inputClaim1", true, "inputClaim2", true), nil, nil, map[string]any{"outputClaim": true}, ""},
		{"doc", "OrClaims", c("inputClaim1", true, "inputClaim2", false), nil, nil, map[string]any{"outputClaim": true}, ""},
		{"doc", "NotClaims", c("inputClaim", true), nil, nil, map[string]any{"outputClaim": false}, ""},
		{"doc", "AssertBooleanClaimIsEqualToValue", c("inputClaim", false), p("valueToCompareTo:boolean", "true"), nil, nil, KeyBooleanNotEqual},
		{"equal", "AssertBooleanClaimIsEqualToValue", c("inputClaim", true), p("valueToCompareTo:boolean", "true"), nil, nil, ""},
		{"null", "AssertBooleanClaimIsEqualToValue", nil, p("valueToCompareTo:boolean", "true"), nil, nil, KeyBooleanNotEqual},
		{"doc", "CompareBooleanClaimToValue", c("inputClaim", true), p("valueToCompareTo:boolean", "true"), nil, map[string]any{"compareResult": true}, ""},
		{"not", "CompareBooleanClaimToValue", c("inputClaim", false), p("valueToCompareTo:boolean", "true"), nil, map[string]any{"compareResult": false}, ""},
	})
}

func TestInteger(t *testing.T) {
	runCases(t, []tcase{
		{"doc", "AdjustNumber", c("inputClaim", 1), p("Operator", "INCREMENT"), nil, map[string]any{"outputClaim": 2}, ""},
		{"doc null", "AdjustNumber", nil, p("Operator", "INCREMENT"), nil, map[string]any{"outputClaim": 1}, ""},
		{"decrement", "AdjustNumber", c("inputClaim", 1), p("Operator", "DECREMENT"), nil, map[string]any{"outputClaim": 0}, ""},
		{"doc assertion", "AssertNumber", c("inputClaim", 10), p("Operator", "GreaterThan", "CompareToValue:int", "5", "throwError:boolean", "true"), nil, nil, KeyAssertNumber},
		{"assertion passes", "AssertNumber", c("inputClaim", 3), p("Operator", "GreaterThan", "CompareToValue:int", "5"), nil, nil, ""},
		{"doc evaluation", "AssertNumber", c("inputClaim", 10), p("Operator", "GreaterThan", "CompareToValue:int", "5", "throwError:boolean", "false"), nil, map[string]any{"outputClaim": true}, ""},
		{"null", "AssertNumber", nil, p("Operator", "Equal", "CompareToValue:int", "5"), nil, nil, "null"},
		{"doc", "ConvertNumberToStringClaim", c("inputClaim", 12334), nil, nil, map[string]any{"outputClaim": "12334"}, ""},
	})
}

func TestString(t *testing.T) {
	runCases(t, []tcase{
		{"doc", "AssertStringClaimsAreEqual", c("inputClaim1", "someone@contoso.com", "inputClaim2", "someone@outlook.com"), p("stringComparison", "ordinalIgnoreCase"), nil, nil, KeyStringsNotEqual},
		{"ignore case", "AssertStringClaimsAreEqual", c("inputClaim1", "Someone@contoso.com", "inputClaim2", "someone@CONTOSO.com"), p("stringComparison", "ordinalIgnoreCase"), nil, nil, ""},
		{"ordinal", "AssertStringClaimsAreEqual", c("inputClaim1", "A", "inputClaim2", "a"), p("stringComparison", "Ordinal"), nil, nil, KeyStringsNotEqual},
		{"TOTP", "BuildUri", c("path", "Contoso:john@contoso.com", "query.secret", "fay2lj7ynpntjgqa"), p("scheme", "otpauth", "host", "totp", "query.issuer", "Contoso"), nil,
			map[string]any{"outputClaim": "otpauth://totp/Contoso%3Ajohn%40contoso.com?secret=fay2lj7ynpntjgqa&issuer=Contoso"}, ""},
		{"doc", "ChangeCase", c("inputClaim1", "SomeOne@contoso.com"), p("toCase", "LOWER"), nil, map[string]any{"outputClaim": "someone@contoso.com"}, ""},
		{"upper", "ChangeCase", c("inputClaim1", "SomeOne@contoso.com"), p("toCase", "UPPER"), nil, map[string]any{"outputClaim": "SOMEONE@CONTOSO.COM"}, ""},
		{"doc", "CreateStringClaim", nil, p("value", "Contoso terms of service..."), nil, map[string]any{"createdClaim": "Contoso terms of service..."}, ""},
		{"doc", "CompareClaims", c("inputClaim1", "someone@contoso.com", "inputClaim2", "someone@outlook.com"), p("operator", "NOT EQUAL", "ignoreCase", "true"), nil, map[string]any{"outputClaim": true}, ""},
		{"doc", "CompareClaimToValue", c("inputClaim1", "v1"), p("compareTo", "V1", "operator", "EQUAL", "ignoreCase", "true"), nil, map[string]any{"outputClaim": true}, ""},
		{"case", "CompareClaimToValue", c("inputClaim1", "v1"), p("compareTo", "V1", "operator", "not equal", "ignoreCase", "false"), nil, map[string]any{"outputClaim": true}, ""},
		// The docs' stringFormat is cpim_{0}@{RelyingPartyTenantId}; the
		// engine resolves the claim resolver before the call.
		{"doc", "FormatStringClaim", c("inputClaim", "5164db16-3eee-4629-bfda-dcc3326790e9"), p("stringFormat", "cpim_{0}@b2cdemo.onmicrosoft.com"), nil, map[string]any{"outputClaim": "cpim_5164db16-3eee-4629-bfda-dcc3326790e9@b2cdemo.onmicrosoft.com"}, ""},
		{"escapes and alignment", "FormatStringClaim", c("inputClaim", "x"), p("stringFormat", "{{{0,3}}}|{0,-3}|{0:D2}"), nil, map[string]any{"outputClaim": "{  x}|x  |x"}, ""},
		{"bad index", "FormatStringClaim", c("inputClaim", "x"), p("stringFormat", "{1}"), nil, nil, "index (zero based)"},
		{"lone brace", "FormatStringClaim", c("inputClaim", "x"), p("stringFormat", "a}b"), nil, nil, "correct format"},
		{"doc", "FormatStringMultipleClaims", c("inputClaim1", "Joe", "inputClaim2", "Fernando"), p("stringFormat", "{0} {1}"), nil, map[string]any{"outputClaim": "Joe Fernando"}, ""},
		{"doc", "LookupValue", c("inputParameterId", "test.com"), p("contoso.com", "13c15f79-8fb1-4e29-a6c9-be0d36ff19f1", "microsoft.com", "0213308f-17cb-4398-b97e-01da7bd4804e", "test.com", "c7026f88-4299-4cdb-965d-3f166464b8a9", "errorOnFailedLookup:boolean", "false"), nil, map[string]any{"outputClaim": "c7026f88-4299-4cdb-965d-3f166464b8a9"}, ""},
		{"failed lookup", "LookupValue", c("inputParameterId", "x.com"), p("test.com", "1", "errorOnFailedLookup:boolean", "true"), nil, nil, "no input parameter"},
		{"doc", "NullClaim", nil, nil, nil, map[string]any{"claim_to_null": nil}, ""},
		{"doc", "ParseDomain", c("emailAddress", "joe@outlook.com"), nil, nil, map[string]any{"domain": "outlook.com"}, ""},
		{"doc", "SetClaimsIfStringsAreEqual", c("inputClaim", "v1"), p("matchTo", "V1", "stringComparison", "ordinalIgnoreCase", "stringMatchMsg", "B2C_V1_90005", "stringMatchMsgCode", "The TOS is upgraded to v2"), nil,
			map[string]any{"outputClaim1": "B2C_V1_90005", "outputClaim2": "The TOS is upgraded to v2", "stringCompareResultClaim": true}, ""},
		{"no match", "SetClaimsIfStringsAreEqual", c("inputClaim", "v2"), p("matchTo", "V1", "stringComparison", "ordinalIgnoreCase"), nil, map[string]any{"stringCompareResultClaim": false}, ""},
		{"doc", "SetClaimsIfStringsMatch", c("claimToMatch", "Minor"), p("matchTo", "Minor", "stringComparison", "ordinalIgnoreCase", "outputClaimIfMatched", "B2C_V1_90001"), nil,
			map[string]any{"outputClaim": "B2C_V1_90001", "stringCompareResultClaim": true}, ""},
		{"no match", "SetClaimsIfStringsMatch", c("claimToMatch", "Adult"), p("matchTo", "Minor", "outputClaimIfMatched", "B2C_V1_90001"), nil,
			map[string]any{"outputClaim": nil, "stringCompareResultClaim": false}, ""},
		{"doc", "SetClaimIfBooleansMatch", c("claimToMatch", true), p("matchTo:boolean", "true", "outputClaimIfMatched", "B2C_V1_90005"), nil, map[string]any{"outputClaim": "B2C_V1_90005"}, ""},
		{"no match", "SetClaimIfBooleansMatch", c("claimToMatch", false), p("matchTo:boolean", "true", "outputClaimIfMatched", "B2C_V1_90005"), nil, nil, ""},
		{"doc", "SetClaimsIfRegexMatch", c("claimToMatch", "064-4449-5109"), p("matchTo", `^[0-9]{3}-[0-9]{4}-[0-9]{4}$`, "outputClaimIfMatched", "isPhone"), nil,
			map[string]any{"outputClaim": "isPhone", "regexCompareResultClaim": true}, ""},
		{"doc groups", "SetClaimsIfRegexMatch", c("claimToMatch", "john.doe@contoso.com"), p("matchTo", `(?<mailAlias>.*)@(.*)$`, "outputClaimIfMatched", "isEmail", "extractGroups:boolean", "true"), nil,
			map[string]any{"outputClaim": "isEmail", "regexCompareResultClaim": true, "mailAlias": "john.doe"}, ""},
		{"no match", "SetClaimsIfRegexMatch", c("claimToMatch", "abc"), p("matchTo", `^\d+$`, "outputClaimIfMatched", "x"), nil, map[string]any{"regexCompareResultClaim": false}, ""},
		{"doc", "StringContains", c("inputClaim", "Admin, Approver, Editor"), p("contains", "admin", "ignoreCase", "true"), nil, map[string]any{"outputClaim": true}, ""},
		{"case", "StringContains", c("inputClaim", "Admin, Approver, Editor"), p("contains", "admin", "ignoreCase", "false"), nil, map[string]any{"outputClaim": false}, ""},
		{"doc", "StringSubstring", c("inputClaim", "+1213-444-4444"), p("startIndex:int", "0", "length:int", "2"), nil, map[string]any{"outputClaim": "+1"}, ""},
		{"utf16", "StringSubstring", c("inputClaim", "😀ab"), p("startIndex:int", "2", "length:int", "1"), nil, map[string]any{"outputClaim": "a"}, ""},
		{"out of range", "StringSubstring", c("inputClaim", "ab"), p("startIndex:int", "1", "length:int", "5"), nil, nil, "do not fit"},
		{"doc", "StringReplace", c("inputClaim", "+164-44-4444"), p("oldValue", "-", "newValue", ""), nil, map[string]any{"outputClaim": "+164444444"}, ""},
		{"doc", "StringJoin", c("inputClaim", []string{"Admin", "Author", "Reader"}), p("delimiter", ","), nil, map[string]any{"outputClaim": "Admin,Author,Reader"}, ""},
		{"doc", "StringSplit", c("inputClaim", "Admin,Author,Reader"), p("delimiter", ","), nil, map[string]any{"outputClaim": []string{"Admin", "Author", "Reader"}}, ""},
		{"predicate none", "CopyClaimIfPredicateMatch", c("inputClaim", "bob@contoso.com"), nil, nil, map[string]any{"outputClaim": "bob@contoso.com"}, ""},
	})
}

func TestCopyClaimIfPredicateMatch(t *testing.T) {
	isEmail := func(_ string, v string) (bool, error) { return strings.Contains(v, "@"), nil }
	for _, tc := range []struct {
		in   string
		want bool
	}{{"bob@contoso.com", true}, {"+11234567890", false}} {
		out, err := Run("CopyClaimIfPredicateMatch", Inputs{Claims: c("inputClaim", tc.in), Predicate: isEmail})
		if err != nil {
			t.Fatal(err)
		}
		if _, got := out["outputClaim"]; got != tc.want {
			t.Errorf("%s: copied %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestCreateRandomString(t *testing.T) {
	out, err := Run("CreateRandomString", Inputs{Params: p("randomGeneratorType", "GUID")})
	if err != nil {
		t.Fatal(err)
	}
	g := out["outputClaim"].Value.(string) // like bc8bedd2-aaa3-411e-bdee-2f1810b73dfc
	if len(g) != 36 || g[14] != '4' || strings.ToLower(g) != g || strings.Count(g, "-") != 4 {
		t.Errorf("GUID %q", g)
	}
	for i := 0; i < 50; i++ {
		out, err = Run("CreateRandomString", Inputs{Params: p("randomGeneratorType", "INTEGER", "maximumNumber:int", "1000", "stringFormat", "OTP_{0}", "base64:boolean", "false")})
		if err != nil {
			t.Fatal(err)
		}
		v := out["outputClaim"].Value.(string) // like OTP_853
		n, err := parseInt(strings.TrimPrefix(v, "OTP_"))
		if !strings.HasPrefix(v, "OTP_") || err != nil || n < 0 || n >= 1000 {
			t.Fatalf("INTEGER %q", v)
		}
	}
	out, err = Run("CreateRandomString", Inputs{Params: p("randomGeneratorType", "INTEGER", "maximumNumber:int", "10", "stringFormat", "{0}", "base64:boolean", "true"),
		Rand: bytes.NewReader(make([]byte, 64))})
	if err != nil || out["outputClaim"].Value != "MA==" { // base64("0")
		t.Errorf("base64: %v %v", out, err)
	}
	a, _ := Run("CreateRandomString", Inputs{Params: p("randomGeneratorType", "INTEGER", "maximumNumber:int", "1000000", "seed:int", "42")})
	b, _ := Run("CreateRandomString", Inputs{Params: p("randomGeneratorType", "INTEGER", "maximumNumber:int", "1000000", "seed:int", "42")})
	if a["outputClaim"].Value != b["outputClaim"].Value {
		t.Errorf("same seed, different values %v %v", a, b)
	}
	if _, err := Run("CreateRandomString", Inputs{Params: p("randomGeneratorType", "INTEGER", "maximumNumber:int", "0")}); err == nil {
		t.Error("maximumNumber 0 accepted")
	}
}

func TestDate(t *testing.T) {
	assertParams := p("AssertIfEqualTo:boolean", "false", "AssertIfRightOperandIsNotPresent:boolean", "true", "TreatAsEqualIfWithinMillseconds:int", "300000")
	runCases(t, []tcase{
		// The docs' operands (left 15:00, right 14:00): left is greater, so
		// the assertion holds; swapped, it fails (see assertDateTimeIsGreaterThan).
		{"greater", "AssertDateTimeIsGreaterThan", c("leftOperand", ts("2018-10-01T15:00:00.0000000Z"), "rightOperand", ts("2018-10-01T14:00:00.0000000Z")), assertParams, nil, nil, ""},
		{"earlier", "AssertDateTimeIsGreaterThan", c("leftOperand", ts("2018-10-01T14:00:00.0000000Z"), "rightOperand", ts("2018-10-01T15:00:00.0000000Z")), assertParams, nil, nil, KeyDateTimeNotGreater},
		{"within skew", "AssertDateTimeIsGreaterThan", c("leftOperand", ts("2018-10-01T14:00:00Z"), "rightOperand", ts("2018-10-01T14:04:00Z")), assertParams, nil, nil, ""},
		{"equal asserts", "AssertDateTimeIsGreaterThan", c("leftOperand", ts("2018-10-01T14:00:00Z"), "rightOperand", ts("2018-10-01T14:04:00Z")),
			p("AssertIfEqualTo:boolean", "true", "TreatAsEqualIfWithinMillseconds:int", "300000"), nil, nil, KeyDateTimeNotGreater},
		{"right missing", "AssertDateTimeIsGreaterThan", c("leftOperand", ts("2018-10-01T14:00:00Z")), assertParams, nil, nil, KeyDateTimeNotGreater},
		{"right missing allowed", "AssertDateTimeIsGreaterThan", c("leftOperand", ts("2018-10-01T14:00:00Z")), p("AssertIfRightOperandIsNotPresent:boolean", "false"), nil, nil, ""},
		{"string operands", "AssertDateTimeIsGreaterThan", c("leftOperand", "2018-01-20T00:00:00.100000Z", "rightOperand", "2018-01-01T00:00:00.100000Z"), assertParams, nil, nil, ""},
		{"doc", "ConvertDateToDateTimeClaim", map[string]Claim{"inputClaim": {Date, ts("2019-06-01")}}, nil, nil, map[string]any{"outputClaim": ts("2019-06-01T00:00:00Z")}, ""},
		{"doc", "ConvertDateTimeToDateClaim", c("inputClaim", ts("2019-06-01T13:05:10Z")), nil, nil, map[string]any{"outputClaim": ts("2019-06-01")}, ""},
		{"doc", "GetCurrentDateTime", nil, nil, nil, map[string]any{"currentDateTime": ts("2026-12-03T09:00:00Z")}, ""},
		{"string", "GetCurrentDateTime", nil, nil, map[string]DataType{"currentDateTime": String}, map[string]any{"currentDateTime": "2026-12-03T09:00:00.0000000Z"}, ""},
		{"later", "DateTimeComparison", c("firstDateTime", ts("2018-04-01T00:00:00.1Z"), "secondDateTime", ts("2018-01-01T00:00:00.1Z")), p("operator", "later than", "timeSpanInSeconds:int", "7776000"), nil, map[string]any{"result": true}, ""},
		{"same", "DateTimeComparison", c("firstDateTime", ts("2018-01-01T00:00:00.100000Z"), "secondDateTime", ts("2018-04-01T00:00:00.100000Z")), p("operator", "same", "timeSpanInSeconds:int", "7776000"), nil, map[string]any{"result": true}, ""},
		{"earlier", "DateTimeComparison", c("firstDateTime", ts("2018-01-01T00:00:00Z"), "secondDateTime", ts("2018-04-01T00:00:00Z")), p("operator", "earlier than", "timeSpanInSeconds:int", "0"), nil, map[string]any{"result": true}, ""},
		{"second null is now", "DateTimeComparison", c("firstDateTime", ts("2026-12-03T10:00:00Z")), p("operator", "later than", "timeSpanInSeconds:int", "0"), nil, map[string]any{"result": true}, ""},
		{"first null", "DateTimeComparison", nil, p("operator", "same", "timeSpanInSeconds:int", "0"), nil, nil, "null"},
		{"doc", "IsTermsOfUseConsentRequired", c("termsOfUseConsentDateTime", ts("2019-06-01T00:00:00Z")), p("termsOfUseTextUpdateDateTime:dateTime", "2021-11-15T00:00:00"), nil, map[string]any{"result": true}, ""},
		{"consented after", "IsTermsOfUseConsentRequired", c("termsOfUseConsentDateTime", ts("2022-01-01T00:00:00Z")), p("termsOfUseTextUpdateDateTime:dateTime", "2021-11-15T00:00:00"), nil, map[string]any{"result": false}, ""},
		{"never consented", "IsTermsOfUseConsentRequired", nil, p("termsOfUseTextUpdateDateTime:dateTime", "2021-11-15T00:00:00"), nil, map[string]any{"result": true}, ""},
	})
}

func TestStringCollection(t *testing.T) {
	runCases(t, []tcase{
		{"doc", "AddItemToStringCollection", c("item", "someone@contoso.com", "collection", []string{"someone@outlook.com"}), nil, nil,
			map[string]any{"collection": []string{"someone@outlook.com", "someone@contoso.com"}}, ""},
		{"no collection", "AddItemToStringCollection", c("item", "a"), nil, nil, map[string]any{"collection": []string{"a"}}, ""},
		{"unique", "AddItemToStringCollection", c("item", "a", "collection", []string{"a"}), nil, nil, map[string]any{"collection": []string{"a"}}, ""},
		{"doc", "AddParameterToStringCollection", c("collection", []string{"someone@outlook.com"}), p("item", "admin@contoso.com"), nil,
			map[string]any{"collection": []string{"someone@outlook.com", "admin@contoso.com"}}, ""},
		{"doc", "GetSingleItemFromStringCollection", c("collection", []string{"someone@outlook.com", "someone@contoso.com"}), nil, nil, map[string]any{"extractedItem": "someone@outlook.com"}, ""},
		{"empty", "GetSingleItemFromStringCollection", c("collection", []string{}), nil, nil, nil, ""},
		{"doc", "StringCollectionContains", c("inputClaim", []string{"one", "two", "three"}), p("item", "TWO", "ignoreCase", "true"), nil, map[string]any{"outputClaim": true}, ""},
		{"case", "StringCollectionContains", c("inputClaim", []string{"one", "two", "three"}), p("item", "TWO", "ignoreCase", "false"), nil, map[string]any{"outputClaim": false}, ""},
		{"doc", "StringCollectionContainsClaim", c("collection", []string{"one", "two", "three"}, "item", "TWO"), p("ignoreCase", "true"), nil, map[string]any{"outputClaim": true}, ""},
	})
}

func TestJSON(t *testing.T) {
	runCases(t, []tcase{
		{"doc", "GetClaimFromJson", c("inputJson", `{"emailAddress": "someone@example.com", "displayName": "Someone", "membershipId": 6353399}`), p("claimToExtract", "emailAddress"), nil,
			map[string]any{"extractedClaim": "someone@example.com"}, ""},
		{"dotted", "GetClaimFromJson", c("inputJson", `{"user":{"emails":["a@x.com","b@x.com"]}}`), p("claimToExtract", "user.emails[1]"), nil, map[string]any{"extractedClaim": "b@x.com"}, ""},
		{"number to int", "GetClaimFromJson", c("inputJson", `{"n": 7}`), p("claimToExtract", "n"), map[string]DataType{"extractedClaim": Int}, map[string]any{"extractedClaim": 7}, ""},
		{"missing", "GetClaimFromJson", c("inputJson", `{"a":1}`), p("claimToExtract", "b"), nil, nil, ""},
		{"malformed", "GetClaimFromJson", c("inputJson", `{"a":`), p("claimToExtract", "a"), nil, nil, "inputJson"},
		{"doc", "GetNumericClaimFromJson", c("inputJson", `{"emailAddress": "someone@example.com", "displayName": "Someone", "id" : 6353399}`), p("claimToExtract", "id"), nil,
			map[string]any{"extractedClaim": 6353399}, ""},
		{"not a number", "GetNumericClaimFromJson", c("inputJson", `{"id": "x"}`), p("claimToExtract", "id"), nil, nil, "not an integer"},
		{"doc", "CreateJsonArray", c("inputClaim", "someone@example.com"), nil, nil, map[string]any{"outputClaim": `["someone@example.com"]`}, ""},
		{"quotes", "CreateJsonArray", c("inputClaim", `a"b<`), nil, nil, map[string]any{"outputClaim": `["a\"b<"]`}, ""},
		{"doc", "GetSingleValueFromJsonArray", c("inputJsonClaim", `["someone@example.com", "Someone", 6353399]`), nil, nil, map[string]any{"extractedClaim": "someone@example.com"}, ""},
		// the LinkedIn scenario's firstName.localized
		{"linkedin", "GetSingleItemFromJson", c("inputJson", `{"en_US":"Emily"}`), nil, nil, map[string]any{"key": "en_US", "value": "Emily"}, ""},
		{"not an object", "GetSingleItemFromJson", c("inputJson", `["a"]`), nil, nil, nil, "not a JSON object"},
		{"doc", "GetSingleItemFromJson", c("inputJson", `{"givenName": "Emily"}`), nil, nil, map[string]any{"key": "givenName", "value": "Emily"}, ""},
		{"doc", "GetClaimsFromJsonArray",
			c("jsonSourceClaim", `[{"key":"email","value":"someone@example.com"}, {"key":"displayName","value":"Someone"}, {"key":"membershipID","value":6353399}, {"key":"active","value": true}, {"key":"birthDate","value":"2005-09-23T00:00:00Z"}]`),
			p("errorOnMissingClaims:boolean", "false", "includeEmptyClaims:boolean", "false", "jsonSourceKeyName", "key", "jsonSourceValueName", "value"),
			map[string]DataType{"email": String, "displayName": String, "membershipID": Long, "active": Boolean, "birthDate": DateTime},
			map[string]any{"email": "someone@example.com", "displayName": "Someone", "membershipID": 6353399, "active": true, "birthDate": ts("2005-09-23T00:00:00Z")}, ""},
		{"missing", "GetClaimsFromJsonArray", c("jsonSourceClaim", `[]`), p("errorOnMissingClaims:boolean", "true", "jsonSourceKeyName", "key", "jsonSourceValueName", "value"),
			map[string]DataType{"email": String}, nil, "no item"},
		{"collection", "GetClaimsFromJsonArray", c("jsonSourceClaim", []string{`{"key":"email","value":"a@b.c"}`}), p("jsonSourceKeyName", "key", "jsonSourceValueName", "value"),
			map[string]DataType{"email": String}, map[string]any{"email": "a@b.c"}, ""},
	})
}

func TestGenerateJSON(t *testing.T) {
	// The docs' SendGrid example.
	in := Inputs{
		Claims:     c("personalizations.0.to.0.email", "someone@example.com", "personalizations.0.dynamic_template_data.otp", "346349", "personalizations.0.dynamic_template_data.verify-email", "someone@example.com"),
		ClaimOrder: []string{"personalizations.0.to.0.email", "personalizations.0.dynamic_template_data.otp", "personalizations.0.dynamic_template_data.verify-email"},
		Params:     p("template_id", "d-4c56ffb40fa648b1aa6822283df94f60", "from.email", "service@contoso.com", "personalizations.0.subject", "Contoso account email verification code"),
		ParamOrder: []string{"template_id", "from.email", "personalizations.0.subject"},
	}
	out, err := Run("GenerateJson", in)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"personalizations":[{"to":[{"email":"someone@example.com"}],"dynamic_template_data":{"otp":"346349","verify-email":"someone@example.com"},"subject":"Contoso account email verification code"}],"template_id":"d-4c56ffb40fa648b1aa6822283df94f60","from":{"email":"service@contoso.com"}}`
	if got := out["outputClaim"].Value; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	// typed values: booleans, numbers and collections keep their JSON types
	out, err = Run("GenerateJson", Inputs{Claims: c("a.b", true, "a.n", 5, "roles", []string{"x", "<y>"}), Params: p("count:int", "3", "on:boolean", "false")})
	if err != nil {
		t.Fatal(err)
	}
	want = `{"a":{"b":true,"n":5},"roles":["x","<y>"],"count":3,"on":false}`
	if got := out["outputClaim"].Value; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestPhone(t *testing.T) {
	runCases(t, []tcase{
		{"doc", "ConvertStringToPhoneNumberClaim", c("phoneNumberString", "+1 (123) 456-7890"), nil, nil, map[string]any{"outputClaim": "+11234567890"}, ""},
		{"legacy inputClaim", "ConvertStringToPhoneNumberClaim", c("inputClaim", "+1 (123) 456-7890"), nil, nil, map[string]any{"outputClaim": "+11234567890"}, ""},
		{"doc country", "ConvertStringToPhoneNumberClaim", c("phoneNumberString", "5555555555", "country", "US"), nil, nil, map[string]any{"outputClaim": "+15555555555"}, ""},
		{"trunk 0", "ConvertStringToPhoneNumberClaim", c("phoneNumberString", "020 7946 0958", "country", "GB"), nil, nil, map[string]any{"outputClaim": "+442079460958"}, ""},
		{"italy keeps 0", "ConvertStringToPhoneNumberClaim", c("phoneNumberString", "06 1234 5678", "country", "IT"), nil, nil, map[string]any{"outputClaim": "+390612345678"}, ""},
		{"letters", "ConvertStringToPhoneNumberClaim", c("phoneNumberString", "+1 555 CALL NOW"), nil, nil, nil, KeyInvalidPhoneNumber},
		{"no country", "ConvertStringToPhoneNumberClaim", c("phoneNumberString", "5555555555"), nil, nil, nil, KeyInvalidPhoneNumber},
		{"too long", "ConvertStringToPhoneNumberClaim", c("phoneNumberString", "+4912345678901234567"), nil, nil, nil, KeyInvalidPhoneNumber},
		{"doc", "ConvertPhoneNumberClaimToString", map[string]Claim{"phoneNumber": {PhoneNumber, "+11234567890"}}, nil, nil, map[string]any{"phoneNumberString": "+11234567890"}, ""},
		{"doc ISO", "GetNationalNumberAndCountryCodeFromPhoneNumberString", c("phoneNumber", "+49 (123) 456-7890"), p("throwExceptionOnFailure:boolean", "false", "countryCodeType", "ISO3166"), nil,
			map[string]any{"nationalNumber": "1234567890", "countryCode": "DE"}, ""},
		{"doc calling code", "GetNationalNumberAndCountryCodeFromPhoneNumberString", c("phoneNumber", "+49 (123) 456-7890"), p("throwExceptionOnFailure:boolean", "false", "countryCodeType", "CallingCode"), nil,
			map[string]any{"nationalNumber": "1234567890", "countryCode": "+49"}, ""},
		{"three-digit code", "GetNationalNumberAndCountryCodeFromPhoneNumberString", c("phoneNumber", "+353 1 234 5678"), nil, nil,
			map[string]any{"nationalNumber": "12345678", "countryCode": "IE"}, ""},
		{"national, no throw", "GetNationalNumberAndCountryCodeFromPhoneNumberString", c("phoneNumber", "0123 456"), p("throwExceptionOnFailure:boolean", "false"), nil, nil, ""},
		{"national, throw", "GetNationalNumberAndCountryCodeFromPhoneNumberString", c("phoneNumber", "0123 456"), p("throwExceptionOnFailure:boolean", "true"), nil, nil, KeyPhoneParseFailure},
	})
}

func TestGeneral(t *testing.T) {
	runCases(t, []tcase{
		{"doc", "CopyClaim", c("inputClaim", "bob@contoso.com"), nil, nil, map[string]any{"outputClaim": "bob@contoso.com"}, ""},
		{"int", "CopyClaim", c("inputClaim", 5), nil, nil, map[string]any{"outputClaim": 5}, ""},
		{"phone to string", "CopyClaim", map[string]Claim{"inputClaim": {PhoneNumber, "+4912345"}}, nil, map[string]DataType{"outputClaim": String}, map[string]any{"outputClaim": "+4912345"}, ""},
		{"absent", "CopyClaim", nil, nil, nil, nil, ""},
		{"doc", "DoesClaimExist", c("inputClaim", "someone@contoso.com"), nil, nil, map[string]any{"outputClaim": true}, ""},
		{"absent", "DoesClaimExist", nil, nil, nil, map[string]any{"outputClaim": false}, ""},
		{"empty", "DoesClaimExist", c("inputClaim", ""), nil, nil, map[string]any{"outputClaim": false}, ""},
		// the docs' key 12345 with Facebook.com: issuerUserId MTIzNDU= (base64 of "12345")
		{"doc", "CreateAlternativeSecurityId", c("key", "12345", "identityProvider", "Facebook.com"), nil, nil,
			map[string]any{"alternativeSecurityId": `{"issuer":"facebook.com","issuerUserId":"MTIzNDU="}`}, ""},
	})
	out, err := Run("Hash", Inputs{Claims: c("plaintext", "someone@contoso.com", "salt", "487624568"), Params: p("randomizerSecret", "1234567890")})
	if err != nil {
		t.Fatal(err)
	}
	h := out["hash"].Value.(string)
	if len(h) != 44 || h != HashValue("someone@contoso.com", "487624568", "1234567890") || h == HashValue("someone@contoso.com", "487624568", "other") {
		t.Errorf("hash %q", h)
	}
	if plain := sha256.Sum256([]byte("someone@contoso.com487624568")); h == string(plain[:]) {
		t.Error("hash ignores the secret")
	}
}

func TestCheck(t *testing.T) {
	d := func(name string, dt DataType, v string) Decl { return Decl{Name: name, DataType: dt, Value: v} }
	for _, tc := range []struct {
		name              string
		method            string
		ins, params, outs []Decl
		want              []string // substrings, one per problem, in order
		wantWhere         []Where
		wantIndex         []int
	}{
		{name: "ok", method: "FormatStringClaim",
			ins: []Decl{d("inputClaim", String, "")}, params: []Decl{d("stringFormat", String, "cpim_{0}@{RelyingPartyTenantId}")}, outs: []Decl{d("outputClaim", String, "")}},
		{name: "unknown method", method: "NoSuchThing", want: []string{"unknown TransformationMethod"}, wantWhere: []Where{InMethod}, wantIndex: []int{-1}},
		{name: "missing and unknown", method: "FormatStringClaim",
			ins: []Decl{d("inputClaimX", String, "")}, params: []Decl{d("stringFormat", String, "{0}")}, outs: []Decl{d("outputClaim", String, "")},
			want: []string{`"inputClaimX": unknown for FormatStringClaim (expected inputClaim)`, `"inputClaim": missing`}, wantWhere: []Where{InInputClaims, InInputClaims}, wantIndex: []int{0, -1}},
		{name: "parameter type", method: "AssertBooleanClaimIsEqualToValue",
			ins: []Decl{d("inputClaim", Boolean, "")}, params: []Decl{d("valueToCompareTo", Boolean, "yes")},
			want: []string{`"valueToCompareTo": "yes" is not a boolean`}, wantWhere: []Where{InInputParams}, wantIndex: []int{0}},
		{name: "claim data type", method: "AndClaims",
			ins: []Decl{d("inputClaim1", Boolean, ""), d("inputClaim2", String, "")}, outs: []Decl{d("outputClaim", Boolean, "")},
			want: []string{`"inputClaim2": DataType string, want boolean`}, wantWhere: []Where{InInputClaims}, wantIndex: []int{1}},
		{name: "enum", method: "ChangeCase",
			ins: []Decl{d("inputClaim1", String, "")}, params: []Decl{d("toCase", String, "TITLE")}, outs: []Decl{d("outputClaim", String, "")},
			want: []string{`value "TITLE", want one of LOWER, UPPER`}, wantWhere: []Where{InInputParams}, wantIndex: []int{0}},
		{name: "int parameter", method: "StringSubstring",
			ins: []Decl{d("inputClaim", String, "")}, params: []Decl{d("startIndex", Int, "0"), d("length", Int, "two")}, outs: []Decl{d("outputClaim", String, "")},
			want: []string{`"length": "two" is not an integer`}, wantWhere: []Where{InInputParams}, wantIndex: []int{1}},
		{name: "repeated", method: "NotClaims",
			ins: []Decl{d("inputClaim", Boolean, ""), d("inputClaim", Boolean, "")}, outs: []Decl{d("outputClaim", Boolean, "")},
			want: []string{"repeated"}, wantWhere: []Where{InInputClaims}, wantIndex: []int{1}},
		{name: "missing output", method: "CreateStringClaim", params: []Decl{d("value", String, "x")},
			want: []string{`"createdClaim": missing`}, wantWhere: []Where{InOutputClaims}, wantIndex: []int{-1}},
		{name: "bad regex", method: "SetClaimsIfRegexMatch",
			ins: []Decl{d("claimToMatch", String, "")}, params: []Decl{d("matchTo", String, "(unclosed"), d("outputClaimIfMatched", String, "x")},
			want: []string{"matchTo"}, wantWhere: []Where{InMethod}, wantIndex: []int{-1}},
		{name: "bad format", method: "FormatStringMultipleClaims",
			ins: []Decl{d("inputClaim1", String, ""), d("inputClaim2", String, "")}, params: []Decl{d("stringFormat", String, "{0} {2}")}, outs: []Decl{d("outputClaim", String, "")},
			want: []string{"stringFormat"}, wantWhere: []Where{InMethod}, wantIndex: []int{-1}},
		{name: "phone input", method: "ConvertStringToPhoneNumberClaim", outs: []Decl{d("outputClaim", PhoneNumber, "")},
			want: []string{"exactly one"}, wantWhere: []Where{InMethod}, wantIndex: []int{-1}},
		{name: "boolean parameter written as string", method: "SetClaimIfBooleansMatch",
			ins: []Decl{d("claimToMatch", Boolean, "")}, params: []Decl{d("matchTo", String, "true"), d("outputClaimIfMatched", String, "x")}, outs: []Decl{d("outputClaim", String, "")}},
		{name: "boolean parameter written as string, bad value", method: "SetClaimIfBooleansMatch",
			ins: []Decl{d("claimToMatch", Boolean, "")}, params: []Decl{d("matchTo", String, "yes"), d("outputClaimIfMatched", String, "x")}, outs: []Decl{d("outputClaim", String, "")},
			want: []string{`"matchTo": "yes" is not a boolean`}, wantWhere: []Where{InInputParams}, wantIndex: []int{0}},
		{name: "build uri names", method: "BuildUri",
			ins: []Decl{d("path", String, ""), d("secret", String, "")}, params: []Decl{d("scheme", String, "otpauth"), d("host", String, "totp")}, outs: []Decl{d("outputClaim", String, "")},
			want: []string{`"secret" is not scheme`}, wantWhere: []Where{InMethod}, wantIndex: []int{-1}},
		{name: "generate json any names", method: "GenerateJson",
			ins: []Decl{d("a.0.b", String, "")}, params: []Decl{d("x.y", String, "1")}, outs: []Decl{d("outputClaim", String, "")}},
		{name: "generate json bad path", method: "GenerateJson",
			ins: []Decl{d("a..b", String, "")}, outs: []Decl{d("outputClaim", String, "")},
			want: []string{"empty segment"}, wantWhere: []Where{InMethod}, wantIndex: []int{-1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Check(tc.method, tc.ins, tc.params, tc.outs)
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var ce *CheckError
			if !errors.As(err, &ce) {
				t.Fatalf("error %v, want a *CheckError", err)
			}
			if len(ce.Problems) != len(tc.want) {
				t.Fatalf("problems %v, want %d", ce.Problems, len(tc.want))
			}
			for i, p := range ce.Problems {
				if !strings.Contains(p.Error(), tc.want[i]) || p.Where != tc.wantWhere[i] || p.Index != tc.wantIndex[i] {
					t.Errorf("problem %d: %s (%s, %d), want %q (%s, %d)", i, p.Error(), p.Where, p.Index, tc.want[i], tc.wantWhere[i], tc.wantIndex[i])
				}
			}
		})
	}
}

// Every ClaimsTransformation of the starter pack files copied under
// testdata/b2c-starterpack uses a registered method and passes Check with
// the DataTypes of the ClaimTypes it references.
func TestStarterPack(t *testing.T) {
	var files []string
	err := filepath.Walk("../../testdata/b2c-starterpack", func(path string, info os.FileInfo, err error) error {
		if err == nil && strings.HasSuffix(path, ".xml") {
			files = append(files, path)
		}
		return err
	})
	if err != nil || len(files) < 6 {
		t.Fatalf("starter pack files %v: %v", files, err)
	}
	type ref struct {
		ClaimType string `xml:"ClaimTypeReferenceId,attr"`
		TCT       string `xml:"TransformationClaimType,attr"`
	}
	type param struct {
		ID       string `xml:"Id,attr"`
		DataType string `xml:"DataType,attr"`
		Value    string `xml:"Value,attr"`
	}
	type policy struct {
		ClaimTypes []struct {
			ID       string `xml:"Id,attr"`
			DataType string `xml:"DataType"`
		} `xml:"BuildingBlocks>ClaimsSchema>ClaimType"`
		Transformations []struct {
			ID      string  `xml:"Id,attr"`
			Method  string  `xml:"TransformationMethod,attr"`
			Inputs  []ref   `xml:"InputClaims>InputClaim"`
			Params  []param `xml:"InputParameters>InputParameter"`
			Outputs []ref   `xml:"OutputClaims>OutputClaim"`
		} `xml:"BuildingBlocks>ClaimsTransformations>ClaimsTransformation"`
	}
	// ClaimTypes of every file: extension files reference their base's.
	types := map[string]DataType{}
	var policies []policy
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var pol policy
		if err := xml.Unmarshal(raw, &pol); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, ct := range pol.ClaimTypes {
			if ct.DataType != "" {
				types[ct.ID] = DataType(ct.DataType)
			}
		}
		policies = append(policies, pol)
	}
	used := map[string]int{}
	for i, pol := range policies {
		for _, ct := range pol.Transformations {
			used[ct.Method]++
			if _, ok := Lookup(ct.Method); !ok {
				t.Errorf("%s: %s uses unregistered method %s", files[i], ct.ID, ct.Method)
				continue
			}
			decls := func(refs []ref) []Decl {
				var ds []Decl
				for _, r := range refs {
					ds = append(ds, Decl{Name: r.TCT, DataType: types[r.ClaimType]})
				}
				return ds
			}
			var ps []Decl
			for _, p := range ct.Params {
				ps = append(ps, Decl{Name: p.ID, DataType: DataType(p.DataType), Value: p.Value})
			}
			if err := Check(ct.Method, decls(ct.Inputs), ps, decls(ct.Outputs)); err != nil {
				t.Errorf("%s: %s: %v", files[i], ct.ID, err)
			}
		}
	}
	for _, m := range []string{"AddItemToStringCollection", "AssertBooleanClaimIsEqualToValue", "AssertDateTimeIsGreaterThan",
		"ConvertStringToPhoneNumberClaim", "CopyClaim", "CopyClaimIfPredicateMatch", "CreateAlternativeSecurityId", "CreateRandomString",
		"CreateStringClaim", "DoesClaimExist", "FormatStringClaim", "GetNationalNumberAndCountryCodeFromPhoneNumberString", "GetSingleItemFromJson"} {
		if used[m] == 0 {
			t.Errorf("the starter pack files no longer use %s (test data changed?)", m)
		}
	}
}

func TestRegistry(t *testing.T) {
	families := map[string]bool{"string": true, "boolean": true, "date": true, "integer": true, "stringCollection": true, "json": true, "phone": true, "general": true, "social": true, "totp": true}
	for _, name := range Methods() {
		m, _ := Lookup(name)
		if !families[m.Family] || m.Run == nil {
			t.Errorf("%s: family %q", name, m.Family)
		}
	}
	if _, err := Run("Nope", Inputs{}); !errors.Is(err, ErrUnknownMethod) {
		t.Errorf("unknown method: %v", err)
	}
	// Wrongly typed values are errors, not panics.
	for _, name := range Methods() {
		for _, v := range []any{"x", true, int64(3), time.Time{}, []string{"a"}, 3.5} {
			claims := map[string]Claim{}
			m, _ := Lookup(name)
			for _, s := range m.Inputs {
				claims[s.Name] = Claim{Value: v}
			}
			params := map[string]Param{}
			for _, s := range m.Params {
				params[s.Name] = Param{ID: s.Name, Value: FormatValue(v)}
			}
			_, err := Run(name, Inputs{Claims: claims, Params: params, Rand: bytes.NewReader(make([]byte, 64))})
			if err != nil && strings.Contains(err.Error(), "internal error") {
				t.Errorf("%s(%T): %v", name, v, err)
			}
		}
	}
}

func FuzzGetClaimFromJson(f *testing.F) {
	f.Add(`{"emailAddress": "someone@example.com", "displayName": "Someone"}`, "emailAddress")
	f.Add(`{"a":{"b":[1,{"c":null}]}}`, "a.b[1].c")
	f.Add(`[[[[[]]]]]`, "$[0]")
	f.Add(`{"a":`, "a['x']")
	f.Fuzz(func(t *testing.T, js, path string) {
		for _, m := range []string{"GetClaimFromJson", "GetNumericClaimFromJson"} {
			out, err := Run(m, Inputs{Claims: c("inputJson", js), Params: p("claimToExtract", path)})
			if err != nil && strings.Contains(err.Error(), "internal error") {
				t.Fatal(err)
			}
			if err == nil && len(out) > 1 {
				t.Fatalf("outputs %v", out)
			}
		}
		_, _ = Run("GetSingleItemFromJson", Inputs{Claims: c("inputJson", js)})
		_, _ = Run("GetSingleValueFromJsonArray", Inputs{Claims: c("inputJsonClaim", js)})
		_, _ = Run("GetClaimsFromJsonArray", Inputs{Claims: c("jsonSourceClaim", js), Params: p("jsonSourceKeyName", "key", "jsonSourceValueName", path)})
	})
}

// README.md's "Claims transformations" table lists every registered method
// as implemented, and no other method as implemented.
func TestReadmeTable(t *testing.T) {
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(raw)
	i := strings.Index(s, "#### Claims transformations")
	if i < 0 {
		t.Fatal("README.md has no Claims transformations table")
	}
	listed := map[string]string{}
	for _, line := range strings.Split(s[i:], "\n")[1:] {
		if strings.HasPrefix(line, "#") {
			break
		}
		cells := strings.Split(line, "|")
		if len(cells) == 5 && strings.HasPrefix(strings.TrimSpace(cells[1]), "`") {
			listed[strings.Trim(strings.TrimSpace(cells[1]), "`")] = strings.TrimSpace(cells[3])
		}
	}
	for _, m := range Methods() {
		if listed[m] != "implemented" {
			t.Errorf("README.md: %s is %q, want implemented", m, listed[m])
		}
	}
	for m, status := range listed {
		if _, ok := Lookup(m); !ok && status == "implemented" {
			t.Errorf("README.md: %s is listed as implemented but not registered", m)
		}
	}
}

// TestCreateOtpSecret: 160 random bits as unpadded base32, new each time.
func TestCreateOtpSecret(t *testing.T) {
	out, err := Run("CreateOtpSecret", Inputs{})
	if err != nil {
		t.Fatal(err)
	}
	a := out["outputClaim"].Value.(string)
	if len(a) != 32 || strings.Trim(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") != "" {
		t.Errorf("secret %q: want 32 base32 characters", a)
	}
	out, _ = Run("CreateOtpSecret", Inputs{})
	if out["outputClaim"].Value == a {
		t.Error("the same secret twice")
	}
	out, err = Run("CreateOtpSecret", Inputs{Rand: bytes.NewReader(make([]byte, 20))})
	if err != nil || out["outputClaim"].Value != strings.Repeat("A", 32) {
		t.Errorf("zero bytes: %v %v", out, err)
	}
	if _, err := Run("CreateOtpSecret", Inputs{Rand: bytes.NewReader(make([]byte, 3))}); err == nil {
		t.Error("a failing random source gave a secret")
	}
}

// TestAlternativeSecurityIdCollection: the docs' examples of the three
// account-linking transformations, and the collection's text forms.
func TestAlternativeSecurityIdCollection(t *testing.T) {
	live := `{"issuer":"live.com","issuerUserId":"MTA4MTQ2MDgyOTI3MDUyNTYzMjcw"}`
	fb := `{"issuer":"facebook.com","issuerUserId":"MTIzNDU="}`
	coll := func(items ...string) Claim { return Claim{DataType: AlternativeSecurityIDCollection, Value: items} }
	out, err := Run("AddItemToAlternativeSecurityIdCollection", Inputs{Claims: map[string]Claim{"item": str(fb), "collection": coll(live)}})
	if err != nil || !reflect.DeepEqual(out["collection"].Value, []string{live, fb}) {
		t.Fatalf("add: %v %v", out, err)
	}
	out, err = Run("AddItemToAlternativeSecurityIdCollection", Inputs{Claims: map[string]Claim{"item": str(fb)}})
	if err != nil || !reflect.DeepEqual(out["collection"].Value, []string{fb}) {
		t.Errorf("add to no collection: %v %v", out, err)
	}
	if _, err := Run("AddItemToAlternativeSecurityIdCollection", Inputs{Claims: map[string]Claim{"item": str(`{"issuer":"x"}`)}}); err == nil {
		t.Error("an item without issuerUserId was added")
	}
	out, err = Run("GetIdentityProvidersFromAlternativeSecurityIdCollectionTransformation", Inputs{Claims: map[string]Claim{"alternativeSecurityIdCollection": coll(live, fb)}})
	if err != nil || !reflect.DeepEqual(out["identityProvidersCollection"].Value, []string{"live.com", "facebook.com"}) {
		t.Errorf("providers: %v %v", out, err)
	}
	out, err = Run("RemoveAlternativeSecurityIdByIdentityProvider", Inputs{Claims: map[string]Claim{"identityProvider": str("Facebook.com"), "collection": coll(live, fb)}})
	if err != nil || !reflect.DeepEqual(out["collection"].Value, []string{live}) {
		t.Errorf("remove: %v %v", out, err)
	}
	// Text forms: an array of objects, of their JSON texts (the
	// directory's), one object; junk is an error.
	for _, s := range []string{"[" + live + ", " + fb + "]", `["` + strings.ReplaceAll(live, `"`, `\"`) + `","` + strings.ReplaceAll(fb, `"`, `\"`) + `"]`, live + "," + fb} {
		c, err := Parse(AlternativeSecurityIDCollection, s)
		if err != nil || !reflect.DeepEqual(c.Value, []string{live, fb}) {
			t.Errorf("parse %s: %v %v", s, c, err)
		}
	}
	for _, bad := range []string{"facebook.com", `[{"issuer":1}]`, `[1]`} {
		if _, err := Parse(AlternativeSecurityIDCollection, bad); err == nil {
			t.Errorf("parse %s: accepted", bad)
		}
	}
}

// FuzzParseAlternativeSecurityIDs: any text either fails or gives items
// that read back as themselves.
func FuzzParseAlternativeSecurityIDs(f *testing.F) {
	f.Add(`[{"issuer":"live.com","issuerUserId":"MTA="},{"issuer":"facebook.com","issuerUserId":"MTIzNDU="}]`)
	f.Add(`["{\"issuer\":\"a\",\"issuerUserId\":\"b\"}"]`)
	f.Add(`{"issuer":"a","issuerUserId":"b"},{"issuer":"c","issuerUserId":"d"}`)
	f.Add(`[1, "x", {}]`)
	f.Fuzz(func(t *testing.T, s string) {
		items, err := ParseAlternativeSecurityIDs(s)
		if err != nil {
			return
		}
		again, err := ParseAlternativeSecurityIDs(FormatAltSecIDs(items))
		if err != nil || !reflect.DeepEqual(again, items) {
			t.Fatalf("%q: %v, then %v %v", s, items, again, err)
		}
	})
}
