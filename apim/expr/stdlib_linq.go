package expr

// System.Linq.Enumerable over arrays, lists, strings, JArray, JObject and
// dictionaries. Operators are eager (they return arrays), which is
// observably the same for the side-effect-free lambdas policies use.

import "sort"

func lambdaArg(args []any, i int) (*lambdaFn, error) {
	l, ok := argAt(args, i).(*lambdaFn)
	if !ok {
		return nil, throwf("ArgumentException", "Argument %d: a lambda expression is expected", i+1)
	}
	return l, nil
}

// toArray returns string[] when every element is a string, else object[].
func toArray(items []any) any {
	if len(items) > 0 {
		ss := make([]string, len(items))
		for i, it := range items {
			s, ok := it.(string)
			if !ok {
				return append([]any{}, items...)
			}
			ss[i] = s
		}
		return ss
	}
	return []any{}
}

func predicate(e *env, args []any, i int) (func(any) (bool, error), error) {
	if len(args) <= i {
		return nil, nil
	}
	l, err := lambdaArg(args, i)
	if err != nil {
		return nil, err
	}
	return func(x any) (bool, error) {
		v, err := l.invoke(e, x)
		if err != nil {
			return false, err
		}
		return condBool(v)
	}, nil
}

func linq(name, t string, f func(e *env, items []any, targs []string, args []any) (any, error)) {
	typ("IEnumerable").method(name, t, func(e *env, v any, targs []string, args []any) (any, error) {
		items, err := enumerate(v)
		if err != nil {
			return nil, err
		}
		if err := e.chargeScan(len(items)); err != nil {
			return nil, err
		}
		return f(e, items, targs, args)
	})
}

func errNoElements() error {
	return throwf("InvalidOperationException", "Sequence contains no elements")
}

func init() {
	linq("Select", "object[]", func(e *env, items []any, _ []string, args []any) (any, error) {
		l, err := lambdaArg(args, 0)
		if err != nil {
			return nil, err
		}
		out := make([]any, len(items))
		for i, it := range items {
			if out[i], err = l.invoke(e, it, int32(i)); err != nil {
				return nil, err
			}
		}
		return toArray(out), nil
	})
	linq("SelectMany", "object[]", func(e *env, items []any, _ []string, args []any) (any, error) {
		l, err := lambdaArg(args, 0)
		if err != nil {
			return nil, err
		}
		var out []any
		for _, it := range items {
			v, err := l.invoke(e, it)
			if err != nil {
				return nil, err
			}
			sub, err := enumerate(v)
			if err != nil {
				return nil, err
			}
			if len(out)+len(sub) > maxArrayLen {
				return nil, errTooLarge()
			}
			out = append(out, sub...)
		}
		return toArray(out), nil
	})
	linq("Where", "object[]", func(e *env, items []any, _ []string, args []any) (any, error) {
		p, err := predicate(e, args, 0)
		if err != nil || p == nil {
			return nil, throwf("ArgumentException", "Where needs a predicate")
		}
		out := []any{}
		for _, it := range items {
			ok, err := p(it)
			if err != nil {
				return nil, err
			}
			if ok {
				out = append(out, it)
			}
		}
		return toArray(out), nil
	})
	find := func(last, orDefault, single bool) func(*env, []any, []string, []any) (any, error) {
		return func(e *env, items []any, _ []string, args []any) (any, error) {
			p, err := predicate(e, args, 0)
			if err != nil {
				return nil, err
			}
			var found any
			n := 0
			for i := range items {
				it := items[i]
				if last {
					it = items[len(items)-1-i]
				}
				if p != nil {
					ok, err := p(it)
					if err != nil {
						return nil, err
					}
					if !ok {
						continue
					}
				}
				if n == 0 {
					found = it
				}
				n++
				if !single {
					break
				}
			}
			if single && n > 1 {
				return nil, throwf("InvalidOperationException", "Sequence contains more than one matching element")
			}
			if n == 0 {
				if orDefault {
					if p == nil && len(args) == 1 {
						return args[0], nil
					}
					return nil, nil
				}
				if p != nil {
					return nil, throwf("InvalidOperationException", "Sequence contains no matching element")
				}
				return nil, errNoElements()
			}
			return found, nil
		}
	}
	linq("First", tObject, find(false, false, false))
	linq("FirstOrDefault", tObject, find(false, true, false))
	linq("Last", tObject, find(true, false, false))
	linq("LastOrDefault", tObject, find(true, true, false))
	linq("Single", tObject, find(false, false, true))
	linq("SingleOrDefault", tObject, find(false, true, true))
	linq("Any", "bool", func(e *env, items []any, _ []string, args []any) (any, error) {
		p, err := predicate(e, args, 0)
		if err != nil {
			return nil, err
		}
		for _, it := range items {
			if p == nil {
				return true, nil
			}
			ok, err := p(it)
			if err != nil || ok {
				return ok, err
			}
		}
		return false, nil
	})
	linq("All", "bool", func(e *env, items []any, _ []string, args []any) (any, error) {
		p, err := predicate(e, args, 0)
		if err != nil || p == nil {
			return nil, throwf("ArgumentException", "All needs a predicate")
		}
		for _, it := range items {
			ok, err := p(it)
			if err != nil || !ok {
				return false, err
			}
		}
		return true, nil
	})
	linq("Count", "int", func(e *env, items []any, _ []string, args []any) (any, error) {
		p, err := predicate(e, args, 0)
		if err != nil {
			return nil, err
		}
		if p == nil {
			return int32(len(items)), nil
		}
		n := int32(0)
		for _, it := range items {
			ok, err := p(it)
			if err != nil {
				return nil, err
			}
			if ok {
				n++
			}
		}
		return n, nil
	})
	linq("Contains", "bool", func(e *env, items []any, _ []string, args []any) (any, error) {
		x := argAt(args, 0)
		ic := false
		if c, ok := argAt(args, 1).(EnumValue); ok {
			ic = c.Value%2 == 1
		}
		for _, it := range items {
			if equals(it, x) {
				return true, nil
			}
			if ic {
				a, ok1 := it.(string)
				b, ok2 := x.(string)
				if ok1 && ok2 && len(a) == len(b) && equalFold(a, b) {
					return true, nil
				}
			}
		}
		return false, nil
	})
	linq("ToArray", "object[]", func(e *env, items []any, _ []string, _ []any) (any, error) { return toArray(items), nil })
	linq("ToList", "List", func(e *env, items []any, _ []string, _ []any) (any, error) {
		return &List{Elem: tObject, Items: append([]any(nil), items...)}, nil
	})
	linq("Skip", "object[]", func(e *env, items []any, _ []string, args []any) (any, error) {
		n, err := intArg(args, 0)
		if err != nil {
			return nil, err
		}
		n = max(0, min(n, len(items)))
		return toArray(items[n:]), nil
	})
	linq("Take", "object[]", func(e *env, items []any, _ []string, args []any) (any, error) {
		n, err := intArg(args, 0)
		if err != nil {
			return nil, err
		}
		n = max(0, min(n, len(items)))
		return toArray(items[:n]), nil
	})
	order := func(desc bool) func(*env, []any, []string, []any) (any, error) {
		return func(e *env, items []any, _ []string, args []any) (any, error) {
			l, err := lambdaArg(args, 0)
			if err != nil {
				return nil, err
			}
			keys := make([]any, len(items))
			for i, it := range items {
				if keys[i], err = l.invoke(e, it); err != nil {
					return nil, err
				}
			}
			idx := make([]int, len(items))
			for i := range idx {
				idx[i] = i
			}
			var cerr error
			sort.SliceStable(idx, func(a, b int) bool {
				c, err := compareValues(keys[idx[a]], keys[idx[b]])
				if err != nil {
					cerr = err
				}
				if desc {
					return c > 0
				}
				return c < 0
			})
			if cerr != nil {
				return nil, cerr
			}
			out := make([]any, len(items))
			for i, j := range idx {
				out[i] = items[j]
			}
			return toArray(out), nil
		}
	}
	linq("OrderBy", "object[]", order(false))
	linq("OrderByDescending", "object[]", order(true))
	linq("Reverse", "object[]", func(e *env, items []any, _ []string, _ []any) (any, error) {
		out := make([]any, len(items))
		for i, it := range items {
			out[len(items)-1-i] = it
		}
		return toArray(out), nil
	})
	linq("Distinct", "object[]", func(e *env, items []any, _ []string, _ []any) (any, error) {
		var out []any
		seen := map[any]bool{}
	outer:
		for _, it := range items {
			if hashable(it) {
				if seen[it] {
					continue
				}
				seen[it] = true
				out = append(out, it)
				continue
			}
			for i, o := range out {
				if equals(o, it) {
					if err := e.step(i + 1); err != nil {
						return nil, err
					}
					continue outer
				}
			}
			if err := e.step(len(out)); err != nil {
				return nil, err
			}
			out = append(out, it)
		}
		return toArray(out), nil
	})
	linq("Concat", "object[]", func(e *env, items []any, _ []string, args []any) (any, error) {
		more, err := enumerate(argAt(args, 0))
		if err != nil {
			return nil, err
		}
		if len(items)+len(more) > maxArrayLen {
			return nil, errTooLarge()
		}
		return toArray(append(append([]any{}, items...), more...)), nil
	})
	linq("ElementAt", tObject, func(e *env, items []any, _ []string, args []any) (any, error) {
		i, err := indexArg(args, len(items))
		if err != nil {
			return nil, err
		}
		return items[i], nil
	})
	linq("ElementAtOrDefault", tObject, func(e *env, items []any, _ []string, args []any) (any, error) {
		i, err := intArg(args, 0)
		if err != nil {
			return nil, err
		}
		if i < 0 || i >= len(items) {
			return nil, nil
		}
		return items[i], nil
	})
	agg := func(kind string) func(*env, []any, []string, []any) (any, error) {
		return func(e *env, items []any, _ []string, args []any) (any, error) {
			vals := items
			if len(args) == 1 {
				l, err := lambdaArg(args, 0)
				if err != nil {
					return nil, err
				}
				vals = make([]any, len(items))
				for i, it := range items {
					if vals[i], err = l.invoke(e, it); err != nil {
						return nil, err
					}
				}
			}
			if len(vals) == 0 {
				if kind == "Sum" {
					return int32(0), nil
				}
				return nil, errNoElements()
			}
			var acc any = vals[0]
			if jv, ok := acc.(*JValue); ok {
				acc = jv.Value
			}
			for _, v := range vals[1:] {
				switch kind {
				case "Sum", "Average":
					r, err := binaryOp("+", acc, v)
					if err != nil {
						return nil, err
					}
					acc = r
				case "Min", "Max":
					c, err := compareValues(v, acc)
					if err != nil {
						return nil, err
					}
					if (kind == "Min" && c < 0) || (kind == "Max" && c > 0) {
						acc = v
					}
				}
			}
			if kind == "Average" {
				_, _, f := num(acc)
				return f / float64(len(vals)), nil
			}
			return acc, nil
		}
	}
	for _, k := range []string{"Sum", "Min", "Max", "Average"} {
		linq(k, tObject, agg(k))
	}
	linq("ToDictionary", "Dictionary", func(e *env, items []any, _ []string, args []any) (any, error) {
		kf, err := lambdaArg(args, 0)
		if err != nil {
			return nil, err
		}
		var vf *lambdaFn
		if len(args) > 1 {
			if vf, err = lambdaArg(args, 1); err != nil {
				return nil, err
			}
		}
		d := NewDict(tObject, tObject)
		for _, it := range items {
			k, err := kf.invoke(e, it)
			if err != nil {
				return nil, err
			}
			v := it
			if vf != nil {
				if v, err = vf.invoke(e, it); err != nil {
					return nil, err
				}
			}
			if !hashable(k) {
				return nil, throwf("ArgumentException", "Unsupported dictionary key type '%s'", dotnetTypeName(k))
			}
			if _, dup := d.Get(k); dup {
				return nil, throwf("ArgumentException", "An item with the same key has already been added. Key: %s", ToString(k))
			}
			d.Set(k, v)
		}
		return d, nil
	})
	linq("Cast", "object[]", func(e *env, items []any, targs []string, _ []any) (any, error) {
		t := firstOr(targs, tObject)
		out := make([]any, len(items))
		for i, it := range items {
			v, err := castTo(it, t)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return toArray(out), nil
	})
	linq("OfType", "object[]", func(e *env, items []any, targs []string, _ []any) (any, error) {
		t := firstOr(targs, tObject)
		out := []any{}
		for _, it := range items {
			if isType(it, t) {
				out = append(out, it)
			}
		}
		return toArray(out), nil
	})
	linq("SequenceEqual", "bool", func(e *env, items []any, _ []string, args []any) (any, error) {
		other, err := enumerate(argAt(args, 0))
		if err != nil {
			return nil, err
		}
		if len(other) != len(items) {
			return false, nil
		}
		for i := range items {
			if !equals(items[i], other[i]) {
				return false, nil
			}
		}
		return true, nil
	})
}

func equalFold(a, b string) bool {
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
