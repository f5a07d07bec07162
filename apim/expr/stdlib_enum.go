package expr

// System.Enum's static methods (Parse, TryParse, GetName, GetNames,
// IsDefined) over the enums the engine knows, and System.Tuple.Create.

import (
	"sort"
	"strings"
)

// enumMembers are an enum's members by value (typeName as typeof gives
// it, "System.DayOfWeek" or "DayOfWeek").
func enumMembers(typeName string) ([]EnumValue, error) {
	st := statics[canonType(strings.TrimPrefix(typeName, "System."))]
	var out []EnumValue
	if st != nil {
		for _, p := range st.props {
			if p.t != "Enum" {
				continue
			}
			if v, err := p.get(nil); err == nil {
				if ev, ok := v.(EnumValue); ok {
					out = append(out, ev)
				}
			}
		}
	}
	if len(out) == 0 {
		return nil, throwf("ArgumentException", "Type provided must be an Enum. (Parameter 'enumType')")
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Value < out[j].Value })
	return out, nil
}

func enumParse(typeName, s string, ignoreCase bool) (EnumValue, error) {
	members, err := enumMembers(typeName)
	if err != nil {
		return EnumValue{}, err
	}
	s = strings.TrimSpace(s)
	for _, m := range members {
		if m.Name == s || ignoreCase && strings.EqualFold(m.Name, s) {
			return m, nil
		}
	}
	return EnumValue{}, throwf("ArgumentException", "Requested value '%s' was not found.", s)
}

// tuple is a System.Tuple.
type tuple struct{ items []any }

func (*tuple) csType() string { return "Tuple" }

func init() {
	en := static("Enum")
	typeArg := func(args []any) (string, error) {
		s, ok := argAt(args, 0).(string)
		if !ok {
			return "", throwf("ArgumentException", "Pass the enum type as typeof(T).")
		}
		return s, nil
	}
	// membersArg are the members of the enum typeof(T) names (argument 0).
	membersArg := func(args []any) ([]EnumValue, error) {
		t, err := typeArg(args)
		if err != nil {
			return nil, err
		}
		return enumMembers(t)
	}
	en.m("Parse", "Enum", func(_ *env, _ []string, args []any) (any, error) {
		t, err := typeArg(args)
		if err != nil {
			return nil, err
		}
		s, err := strArg(args, 1)
		if err != nil {
			return nil, err
		}
		ic, _ := argAt(args, 2).(bool)
		return enumParse(t, s, ic)
	})
	en.m("TryParse", "bool", func(e *env, targs []string, args []any) (any, error) {
		ref, ok := argAt(args, len(args)-1).(*outRef)
		if !ok || len(targs) != 1 {
			return nil, errArgs("TryParse", len(args))
		}
		s, _ := argAt(args, 0).(string)
		ic, _ := argAt(args, 1).(bool)
		v, err := enumParse(targs[0], s, ic)
		if err != nil {
			e.locals[ref.slot] = nil
			return false, nil
		}
		e.locals[ref.slot] = v
		return true, nil
	})
	en.m("GetName", "string", func(_ *env, _ []string, args []any) (any, error) {
		members, err := membersArg(args)
		if err != nil {
			return nil, err
		}
		want := -1
		switch x := argAt(args, 1).(type) {
		case EnumValue:
			want = x.Value
		case int32:
			want = int(x)
		}
		for _, m := range members {
			if m.Value == want {
				return m.Name, nil
			}
		}
		return nil, nil
	})
	en.m("GetNames", "string[]", func(_ *env, _ []string, args []any) (any, error) {
		members, err := membersArg(args)
		if err != nil {
			return nil, err
		}
		out := make([]string, len(members))
		for i, m := range members {
			out[i] = m.Name
		}
		return out, nil
	})
	en.m("IsDefined", "bool", func(_ *env, _ []string, args []any) (any, error) {
		members, err := membersArg(args)
		if err != nil {
			return nil, err
		}
		for _, m := range members {
			switch x := argAt(args, 1).(type) {
			case string:
				if m.Name == x {
					return true, nil
				}
			case int32:
				if m.Value == int(x) {
					return true, nil
				}
			case EnumValue:
				if m == x {
					return true, nil
				}
			}
		}
		return false, nil
	})

	static("Tuple").m("Create", "Tuple", func(_ *env, _ []string, args []any) (any, error) {
		if len(args) == 0 || len(args) > 7 {
			return nil, errArgs("Create", len(args))
		}
		return &tuple{items: append([]any(nil), args...)}, nil
	})
	tt := typ("Tuple")
	for i := 1; i <= 7; i++ {
		i := i
		tt.prop("Item"+string(rune('0'+i)), tObject, func(_ *env, v any) (any, error) {
			t := v.(*tuple)
			if i > len(t.items) {
				return nil, throwf("RuntimeBinderException", "'Tuple' does not contain a definition for 'Item%d'", i)
			}
			return t.items[i-1], nil
		})
	}

	b := static("byte")
	parseByte := func(s string) (any, error) {
		v, err := parseInt(32)(s)
		if n, ok := v.(int32); err != nil || !ok || n < 0 || n > 255 {
			return byte(0), throwf("OverflowException", "Value was either too large or too small for an unsigned byte.")
		}
		return byte(v.(int32)), nil
	}
	b.m("Parse", "byte", s1(parseByte)).m("TryParse", "bool", tryParse(parseByte)).
		konst("MaxValue", "byte", byte(255)).konst("MinValue", "byte", byte(0))
}
