package claimstx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// B2C's alternativeSecurityIdCollection claims transformations: the
// account-linking samples add a provider's identity to an account's
// alternativeSecurityIds, list its providers, and remove one.

func init() {
	register(&Method{Name: "AddItemToAlternativeSecurityIdCollection", Family: "social",
		Inputs: []Slot{opt("item", String), opt("collection", AlternativeSecurityIDCollection)},
		Out:    []Slot{req("collection", AlternativeSecurityIDCollection)},
		Run: func(in Inputs) (Outputs, error) {
			const m = "AddItemToAlternativeSecurityIdCollection"
			list, err := in.altSecIDs(m, "collection")
			if err != nil {
				return nil, err
			}
			if item, ok := in.str("item"); ok && item != "" {
				one, err := ParseAlternativeSecurityIDs(item)
				if err != nil {
					return nil, fail(m, "item: %v", err)
				}
				list = append(list, one...)
			}
			return Outputs{"collection": {DataType: AlternativeSecurityIDCollection, Value: list}}, nil
		}})
	register(&Method{Name: "GetIdentityProvidersFromAlternativeSecurityIdCollectionTransformation", Family: "social",
		Inputs: []Slot{req("alternativeSecurityIdCollection", AlternativeSecurityIDCollection)},
		Out:    []Slot{req("identityProvidersCollection", StringCollection)},
		Run: func(in Inputs) (Outputs, error) {
			const m = "GetIdentityProvidersFromAlternativeSecurityIdCollectionTransformation"
			list, err := in.altSecIDs(m, "alternativeSecurityIdCollection")
			if err != nil {
				return nil, err
			}
			issuers := []string{}
			for _, item := range list {
				issuer, _ := altSecIDIssuer(item)
				issuers = append(issuers, issuer)
			}
			return Outputs{"identityProvidersCollection": {DataType: StringCollection, Value: issuers}}, nil
		}})
	register(&Method{Name: "RemoveAlternativeSecurityIdByIdentityProvider", Family: "social",
		Inputs: []Slot{req("identityProvider", String), req("collection", AlternativeSecurityIDCollection)},
		Out:    []Slot{req("collection", AlternativeSecurityIDCollection)},
		Run: func(in Inputs) (Outputs, error) {
			const m = "RemoveAlternativeSecurityIdByIdentityProvider"
			idp, _ := in.str("identityProvider")
			list, err := in.altSecIDs(m, "collection")
			if err != nil {
				return nil, err
			}
			kept := []string{}
			for _, item := range list {
				if issuer, _ := altSecIDIssuer(item); !strings.EqualFold(issuer, idp) {
					kept = append(kept, item)
				}
			}
			return Outputs{"collection": {DataType: AlternativeSecurityIDCollection, Value: kept}}, nil
		}})
}

// altSecIDs reads an alternativeSecurityIdCollection input (absent: empty).
func (in Inputs) altSecIDs(method, name string) ([]string, error) {
	v, ok := in.claim(name)
	if !ok {
		return []string{}, nil
	}
	switch x := v.(type) {
	case []string:
		return append([]string{}, x...), nil
	case string:
		list, err := ParseAlternativeSecurityIDs(x)
		if err != nil {
			return nil, fail(method, "%s: %v", name, err)
		}
		return list, nil
	}
	return nil, fail(method, "%s is %T, not an alternativeSecurityIdCollection", name, v)
}

// FormatAltSecIDs writes an alternativeSecurityIdCollection value as a
// JSON array of its objects (what ParseAlternativeSecurityIDs reads).
func FormatAltSecIDs(v any) string {
	switch x := v.(type) {
	case []string:
		return "[" + strings.Join(x, ",") + "]"
	case string:
		return x
	}
	return ""
}

// ParseAlternativeSecurityIDs reads alternativeSecurityIds as they are
// written: a JSON array of alternativeSecurityId objects (or of their JSON
// texts, as the directory stores them), one object, or nothing. Each item
// comes back as compact JSON with an issuer and an issuerUserId.
func ParseAlternativeSecurityIDs(s string) ([]string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return []string{}, nil
	}
	if !strings.HasPrefix(s, "[") {
		s = "[" + s + "]"
	}
	var raw []json.RawMessage
	if err := json.Unmarshal([]byte(s), &raw); err != nil {
		return nil, errors.New("not a JSON array of alternativeSecurityId objects")
	}
	out := make([]string, 0, len(raw))
	for i, r := range raw {
		item := []byte(r)
		var text string
		if json.Unmarshal(r, &text) == nil {
			item = []byte(text) // an object's JSON text
		}
		var b bytes.Buffer
		if err := json.Compact(&b, item); err != nil {
			return nil, fmt.Errorf("item %d is not an alternativeSecurityId object", i)
		}
		if _, err := altSecIDIssuer(b.String()); err != nil {
			return nil, fmt.Errorf("item %d: %v", i, err)
		}
		out = append(out, b.String())
	}
	return out, nil
}

func altSecIDIssuer(item string) (string, error) {
	var v struct {
		Issuer       string `json:"issuer"`
		IssuerUserID string `json:"issuerUserId"`
	}
	if err := json.Unmarshal([]byte(item), &v); err != nil || v.Issuer == "" || v.IssuerUserID == "" {
		return "", errors.New("an alternativeSecurityId needs an issuer and an issuerUserId")
	}
	return v.Issuer, nil
}
