package expr

// Compilation of `new` expressions: constructors, arrays, object and
// collection initializers, anonymous objects (which become JObjects).

import "strings"

func (c *compiler) newExpr(n *newNode) cexpr {
	if n.anon {
		return c.anonObject(n)
	}
	if n.isArray {
		return c.newArrayExpr(n)
	}
	t := canonType(n.t.name)
	st := statics[t]
	if st == nil || st.ctor == nil {
		if st == nil && !knownType(t) {
			c.fail(n.t.p, "unknown type '%s'", n.t.name)
		}
		c.fail(n.t.p, "cannot create an instance of '%s'", n.t.name)
	}
	targs := c.targs(n.t.args)
	if t == "Regex" {
		c.checkRegexArgs("", true, n.args)
	}
	args := c.args(n.args)
	ctor := st.ctor
	// A HashSet<T> is a List that keeps one of each element.
	set := t == "List" && strings.HasSuffix(n.t.name, "HashSet")
	type initFn func(e *env, obj any) error
	var inits []initFn
	for _, el := range n.inits {
		switch {
		case el.name != "":
			name := el.name
			vf := c.expr(el.value).fn
			inits = append(inits, func(e *env, obj any) error {
				v, err := vf(e)
				if err != nil {
					return err
				}
				return setMember(e, obj, name, v)
			})
		case el.key != nil:
			kf, vf := c.expr(el.key).fn, c.expr(el.value).fn
			inits = append(inits, func(e *env, obj any) error {
				k, err := kf(e)
				if err != nil {
					return err
				}
				v, err := vf(e)
				if err != nil {
					return err
				}
				ti, ok := lookupSetIndex(typeNameOf(obj))
				if !ok {
					return throwf("RuntimeBinderException", "Cannot apply indexing with [] to '%s'", dotnetTypeName(obj))
				}
				return ti.setIndex(e, obj, []any{k}, v)
			})
		default:
			vals := c.exprs(el.vals)
			inits = append(inits, func(e *env, obj any) error {
				av, err := evalAll(e, vals)
				if err != nil {
					return err
				}
				_, err = callMethod(e, obj, "Add", nil, av)
				return err
			})
		}
	}
	rt := t
	return cexpr{t: rt, fn: func(e *env) (any, error) {
		av, err := evalAll(e, args)
		if err != nil {
			return nil, err
		}
		if err := e.chargeAll(av); err != nil {
			return nil, err
		}
		obj, err := ctor(e, targs, av)
		if err != nil {
			return nil, err
		}
		if l, ok := obj.(*List); ok && set {
			l.Set, l.Items = true, distinct(l.Items)
		}
		if err := e.charge(obj); err != nil {
			return nil, err
		}
		for _, f := range inits {
			if err := f(e, obj); err != nil {
				return nil, err
			}
		}
		return obj, nil
	}}
}

func (c *compiler) newArrayExpr(n *newNode) cexpr {
	elem := ""
	if n.t != nil {
		elem = typeName(n.t)
		if !knownType(elem) {
			c.fail(n.t.p, "unknown type '%s'", n.t.name)
		}
	}
	arrT := "object[]"
	switch elem {
	case "string":
		arrT = "string[]"
	case "byte":
		arrT = "byte[]"
	}
	if n.arrayLen != nil && !n.hasInit {
		lf := c.expr(n.arrayLen).fn
		return cexpr{t: arrT, fn: func(e *env) (any, error) {
			v, err := lf(e)
			if err != nil {
				return nil, err
			}
			k, size, _ := num(v)
			if k != kInt && k != kLong {
				return nil, errCast(v, "int")
			}
			if size < 0 {
				return nil, throwf("OverflowException", "Arithmetic operation resulted in an overflow.")
			}
			if size > maxArrayLen {
				return nil, errTooLarge()
			}
			arr := newArray(elem, int(size))
			return arr, e.charge(arr)
		}}
	}
	var vals []evalFn
	for _, el := range n.inits {
		for _, v := range el.vals {
			vals = append(vals, c.expr(v).fn)
		}
	}
	if elem == "" && len(vals) > 0 {
		arrT = tObject
	}
	return cexpr{t: arrT, fn: func(e *env) (any, error) {
		items, err := evalAll(e, vals)
		if err != nil {
			return nil, err
		}
		switch elem {
		case "string":
			out := make([]string, len(items))
			for i, it := range items {
				s, ok := it.(string)
				if !ok && it != nil {
					return nil, errCast(it, "string")
				}
				out[i] = s
			}
			return out, nil
		case "byte":
			out := make([]byte, len(items))
			for i, it := range items {
				k, b, _ := num(it)
				if k == kNone {
					return nil, errCast(it, "byte")
				}
				out[i] = byte(b)
			}
			return out, nil
		case "":
			return toArray(items), nil
		}
		if items == nil {
			items = []any{}
		}
		for i, it := range items {
			if items[i], err = implicitConvert(it, elem); err != nil {
				return nil, err
			}
		}
		return items, nil
	}}
}

func (c *compiler) anonObject(n *newNode) cexpr {
	type field struct {
		name string
		fn   evalFn
	}
	var fields []field
	for _, el := range n.inits {
		switch {
		case el.name != "":
			fields = append(fields, field{el.name, c.expr(el.value).fn})
		case len(el.vals) == 1:
			name := ""
			switch x := el.vals[0].(type) {
			case *identNode:
				name = x.name
			case *memberNode:
				name = x.name
			default:
				c.fail(n.p, "invalid anonymous type member declarator")
			}
			fields = append(fields, field{name, c.expr(el.vals[0]).fn})
		default:
			c.fail(n.p, "invalid anonymous type member declarator")
		}
	}
	return cexpr{t: "JObject", fn: func(e *env) (any, error) {
		o := &JObject{}
		for _, f := range fields {
			v, err := f.fn(e)
			if err != nil {
				return nil, err
			}
			t, err := ToJToken(v)
			if err != nil {
				return nil, err
			}
			o.Set(f.name, t)
		}
		return o, nil
	}}
}
