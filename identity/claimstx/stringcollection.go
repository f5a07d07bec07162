package claimstx

import "strings"

// StringCollection claims transformations.

func init() {
	sc := []DataType{StringCollection}
	s := []DataType{String, PhoneNumber}
	bs := []DataType{Boolean, String}
	register(&Method{Name: "AddItemToStringCollection", Family: "stringCollection",
		Inputs: []Slot{req("item", s...), opt("collection", sc...)},
		Out:    []Slot{req("collection", sc...)},
		Run: func(in Inputs) (Outputs, error) {
			c, _, err := in.collection("AddItemToStringCollection", "collection")
			if err != nil {
				return nil, err
			}
			item, ok := in.str("item")
			return one("collection", Claim{DataType: StringCollection, Value: addUnique(c, item, ok)}), nil
		}})
	register(&Method{Name: "AddParameterToStringCollection", Family: "stringCollection",
		Inputs: []Slot{opt("collection", sc...)},
		Params: []Slot{req("item", String)},
		Out:    []Slot{req("collection", sc...)},
		Run: func(in Inputs) (Outputs, error) {
			c, _, err := in.collection("AddParameterToStringCollection", "collection")
			if err != nil {
				return nil, err
			}
			item, ok := in.param("item")
			return one("collection", Claim{DataType: StringCollection, Value: addUnique(c, item, ok)}), nil
		}})
	register(&Method{Name: "GetSingleItemFromStringCollection", Family: "stringCollection",
		Inputs: []Slot{req("collection", sc...)},
		Out:    []Slot{req("extractedItem", s...)},
		Run: func(in Inputs) (Outputs, error) {
			c, _, err := in.collection("GetSingleItemFromStringCollection", "collection")
			if err != nil || len(c) == 0 {
				return Outputs{}, err
			}
			return one("extractedItem", str(c[0])), nil
		}})
	register(&Method{Name: "StringCollectionContains", Family: "stringCollection",
		Inputs: []Slot{req("inputClaim", sc...)},
		Params: []Slot{req("item", String), opt("ignoreCase", bs...)},
		Out:    []Slot{req("outputClaim", Boolean)},
		Run: func(in Inputs) (Outputs, error) {
			const m = "StringCollectionContains"
			c, _, err := in.collection(m, "inputClaim")
			if err != nil {
				return nil, err
			}
			item, _ := in.param("item")
			ic, err := in.paramBool(m, "ignoreCase", false)
			if err != nil {
				return nil, err
			}
			return one("outputClaim", boolean(contains(c, item, ic))), nil
		}})
	register(&Method{Name: "StringCollectionContainsClaim", Family: "stringCollection",
		Inputs: []Slot{req("collection", sc...), req("item", s...)},
		Params: []Slot{opt("ignoreCase", bs...)},
		Out:    []Slot{req("outputClaim", Boolean)},
		Run: func(in Inputs) (Outputs, error) {
			const m = "StringCollectionContainsClaim"
			c, _, err := in.collection(m, "collection")
			if err != nil {
				return nil, err
			}
			item, _ := in.str("item")
			ic, err := in.paramBool(m, "ignoreCase", false)
			if err != nil {
				return nil, err
			}
			return one("outputClaim", boolean(contains(c, item, ic))), nil
		}})
}

// addUnique copies c and appends item unless it is already there (B2C's
// collection claims hold unique values).
func addUnique(c []string, item string, ok bool) []string {
	out := make([]string, 0, len(c)+1)
	out = append(out, c...)
	if ok && !contains(c, item, false) {
		out = append(out, item)
	}
	return out
}

func contains(c []string, item string, ignoreCase bool) bool {
	for _, x := range c {
		if x == item || ignoreCase && strings.EqualFold(x, item) {
			return true
		}
	}
	return false
}
