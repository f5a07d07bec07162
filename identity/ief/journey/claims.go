package journey

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/gatehouse/gatehouse/identity/claimstx"
)

// Bag is the journey's claims by ClaimType id: what B2C calls the claims
// bag, carried from step to step and stored with the transaction.
type Bag map[string]claimstx.Claim

// Has reports whether a claim is present (not null). B2C's ClaimsExist.
func (b Bag) Has(id string) bool {
	c, ok := b[id]
	return ok && c.Value != nil
}

// String is the claim's value as text ("" when absent).
func (b Bag) String(id string) string {
	if c, ok := b[id]; ok {
		return claimstx.FormatValue(c.Value)
	}
	return ""
}

// wireClaim is a claim in the stored transaction: its type keeps the value
// typed across processes (a dateTime stays a dateTime).
type wireClaim struct {
	T claimstx.DataType `json:"t"`
	V json.RawMessage   `json:"v"`
}

// MarshalJSON stores each value with its DataType.
func (b Bag) MarshalJSON() ([]byte, error) {
	out := make(map[string]wireClaim, len(b))
	for k, c := range b {
		v := c.Value
		if t, ok := v.(time.Time); ok {
			v = t.UTC().Format(time.RFC3339Nano)
		}
		raw, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		out[k] = wireClaim{T: c.DataType, V: raw}
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads what MarshalJSON wrote.
func (b *Bag) UnmarshalJSON(data []byte) error {
	var in map[string]wireClaim
	if err := json.Unmarshal(data, &in); err != nil {
		return err
	}
	*b = make(Bag, len(in))
	for k, w := range in {
		c := claimstx.Claim{DataType: w.T}
		if string(w.V) != "null" {
			var err error
			switch w.T {
			case claimstx.Boolean:
				var v bool
				err = json.Unmarshal(w.V, &v)
				c.Value = v
			case claimstx.Int, claimstx.Long:
				var v int64
				err = json.Unmarshal(w.V, &v)
				c.Value = v
			case claimstx.DateTime, claimstx.Date:
				var s string
				if err = json.Unmarshal(w.V, &s); err == nil {
					var t time.Time
					t, err = time.Parse(time.RFC3339Nano, s)
					c.Value = t
				}
			case claimstx.StringCollection:
				var v []string
				err = json.Unmarshal(w.V, &v)
				c.Value = v
			default:
				var v string
				err = json.Unmarshal(w.V, &v)
				c.Value = v
			}
			if err != nil {
				return fmt.Errorf("journey: claim %s: %w", k, err)
			}
		}
		(*b)[k] = c
	}
	return nil
}
