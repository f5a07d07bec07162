package expr

// The static System.Array methods real policies call on arrays (the
// instance side is LINQ's): searching with a predicate, sorting, clearing
// and converting.

import "sort"

// arrayItems reads argument i as an array (null: ArgumentNullException).
func arrayItems(e *env, args []any, i int) ([]any, error) {
	a := argAt(args, i)
	if a == nil {
		return nil, errArgNull("array")
	}
	items, err := enumerate(a)
	if err != nil {
		return nil, err
	}
	return items, e.chargeScan(len(items))
}

// itemsAndMatch reads an array (argument 0) and a predicate (argument 1).
func itemsAndMatch(e *env, args []any) ([]any, func(any) (bool, error), error) {
	items, err := arrayItems(e, args, 0)
	if err != nil {
		return nil, nil, err
	}
	match, err := predicate(e, args, 1)
	if err == nil && match == nil {
		err = errArgNull("match")
	}
	return items, match, err
}

// findIn runs match over items from the start (or the end) and returns
// the first index it accepts, or -1.
func findIn(e *env, args []any, fromEnd bool) ([]any, int, error) {
	items, match, err := itemsAndMatch(e, args)
	if err != nil {
		return nil, -1, err
	}
	for k := range items {
		i := k
		if fromEnd {
			i = len(items) - 1 - k
		}
		ok, err := match(items[i])
		if err != nil {
			return nil, -1, err
		}
		if ok {
			return items, i, nil
		}
	}
	return items, -1, nil
}

func init() {
	ar := static("Array")
	ar.m("Exists", "bool", func(e *env, _ []string, args []any) (any, error) {
		_, i, err := findIn(e, args, false)
		return i >= 0, err
	})
	ar.m("Find", "object", func(e *env, _ []string, args []any) (any, error) {
		items, i, err := findIn(e, args, false)
		if err != nil || i < 0 {
			return nil, err
		}
		return items[i], nil
	})
	ar.m("FindLast", "object", func(e *env, _ []string, args []any) (any, error) {
		items, i, err := findIn(e, args, true)
		if err != nil || i < 0 {
			return nil, err
		}
		return items[i], nil
	})
	ar.m("FindIndex", "int", func(e *env, _ []string, args []any) (any, error) {
		_, i, err := findIn(e, args, false)
		return int32(i), err
	})
	ar.m("FindLastIndex", "int", func(e *env, _ []string, args []any) (any, error) {
		_, i, err := findIn(e, args, true)
		return int32(i), err
	})
	ar.m("FindAll", "object[]", func(e *env, _ []string, args []any) (any, error) {
		items, match, err := itemsAndMatch(e, args)
		if err != nil {
			return nil, err
		}
		out := []any{}
		for _, it := range items {
			ok, err := match(it)
			if err != nil {
				return nil, err
			}
			if ok {
				out = append(out, it)
			}
		}
		return toArray(out), nil
	})
	ar.m("TrueForAll", "bool", func(e *env, _ []string, args []any) (any, error) {
		items, match, err := itemsAndMatch(e, args)
		if err != nil {
			return nil, err
		}
		for _, it := range items {
			if ok, err := match(it); err != nil || !ok {
				return false, err
			}
		}
		return true, nil
	})
	ar.m("LastIndexOf", "int", func(e *env, _ []string, args []any) (any, error) {
		items, err := arrayItems(e, args, 0)
		if err != nil {
			return nil, err
		}
		for i := len(items) - 1; i >= 0; i-- {
			if equals(items[i], argAt(args, 1)) {
				return int32(i), nil
			}
		}
		return int32(-1), nil
	})
	ar.m("ConvertAll", "object[]", func(e *env, _ []string, args []any) (any, error) {
		items, err := arrayItems(e, args, 0)
		if err != nil {
			return nil, err
		}
		l, err := lambdaArg(args, 1)
		if err != nil {
			return nil, err
		}
		out := make([]any, len(items))
		for i, it := range items {
			if out[i], err = l.invoke(e, it); err != nil {
				return nil, err
			}
		}
		return toArray(out), nil
	})
	ar.m("ForEach", "object", func(e *env, _ []string, args []any) (any, error) {
		items, err := arrayItems(e, args, 0)
		if err != nil {
			return nil, err
		}
		l, err := lambdaArg(args, 1)
		if err != nil {
			return nil, err
		}
		for _, it := range items {
			if _, err := l.invoke(e, it); err != nil {
				return nil, err
			}
		}
		return nil, nil
	})
	// Sort sorts in place (strings ordinally, numbers by value), as
	// Array.Sort does with the default comparer on one type of element.
	ar.m("Sort", "object", func(e *env, _ []string, args []any) (any, error) {
		var firstErr error
		less := func(a, b any) bool {
			c, err := compareValues(a, b)
			if err != nil && firstErr == nil {
				firstErr = err
			}
			return c < 0
		}
		switch x := argAt(args, 0).(type) {
		case nil:
			return nil, errArgNull("array")
		case []string:
			sort.Strings(x)
		case []byte:
			sort.Slice(x, func(i, j int) bool { return x[i] < x[j] })
		case []any:
			if err := e.chargeScan(len(x) * 4); err != nil {
				return nil, err
			}
			sort.SliceStable(x, func(i, j int) bool { return less(x[i], x[j]) })
		default:
			return nil, throwf("ArgumentException", "Array.Sort takes an array, not '%s'.", dotnetTypeName(x))
		}
		return nil, firstErr
	})
	ar.m("Clear", "object", func(e *env, _ []string, args []any) (any, error) {
		start, n := 0, -1
		if len(args) == 3 {
			var err1, err2 error
			start, err1 = intArg(args, 1)
			n, err2 = intArg(args, 2)
			if err1 != nil || err2 != nil {
				return nil, errRange("index")
			}
		}
		clear := func(l int, zero func(i int)) error {
			if n < 0 {
				n = l - start
			}
			if start < 0 || n < 0 || start+n > l {
				return errRange("length")
			}
			for i := start; i < start+n; i++ {
				zero(i)
			}
			return nil
		}
		switch x := argAt(args, 0).(type) {
		case nil:
			return nil, errArgNull("array")
		case []string:
			return nil, clear(len(x), func(i int) { x[i] = "" })
		case []byte:
			return nil, clear(len(x), func(i int) { x[i] = 0 })
		case []any:
			return nil, clear(len(x), func(i int) { x[i] = nil })
		}
		return nil, throwf("ArgumentException", "Array.Clear takes an array.")
	})
}
