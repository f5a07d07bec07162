package expr

import (
	"errors"
	"fmt"
	"strings"
)

// env is the per-evaluation state: the context, the local variable slots of
// the program (lambda parameters included) and the loop budget.
type env struct {
	ctx    *Context
	locals []any
	ret    any
	steps  int
	// done is ctx.Cancel.Done() (nil: never cancelled); it is polled when
	// steps reaches nextCheck.
	done      <-chan struct{}
	nextCheck int
	depth     int // local function calls in progress
}

// evalFn is a compiled expression.
type evalFn func(*env) (any, error)

// flow is how a statement finished.
type flow int

const (
	flowNext flow = iota
	flowReturn
	flowBreak
	flowContinue
)

// stmtFn is a compiled statement; a return value is left in env.ret.
type stmtFn func(*env) (flow, error)

// cexpr is a compiled expression with its static type ("object" when only
// known at run time) and, for literals, its constant value.
type cexpr struct {
	fn      evalFn
	t       string
	isConst bool
	val     any
}

// nullableValue are the value types whose null is a Nullable<T> without
// a value (int?, DateTime? ...).
var nullableValue = map[string]bool{"int": true, "long": true, "double": true, "bool": true, "char": true, "byte": true,
	"DateTime": true, "TimeSpan": true, "Guid": true, "DateTimeOffset": true, "Enum": true}

// errNullShort is the internal signal of a null-conditional access whose
// receiver was null; the outermost access of the chain turns it into null.
var errNullShort = errors.New("null short-circuit")

type local struct {
	slot     int
	t        string
	readonly bool     // a const local
	fn       *localFn // a local function (no slot)
}

type compiler struct {
	scopes []map[string]*local
	nslots int
	loops  int
}

func (c *compiler) fail(off int, format string, args ...any) {
	panic(&posErr{off: off, msg: sprintf(format, args...)})
}

func (c *compiler) push() { c.scopes = append(c.scopes, map[string]*local{}) }
func (c *compiler) pop()  { c.scopes = c.scopes[:len(c.scopes)-1] }

func (c *compiler) lookup(name string) *local {
	for i := len(c.scopes) - 1; i >= 0; i-- {
		if l, ok := c.scopes[i][name]; ok {
			return l
		}
	}
	return nil
}

func (c *compiler) declare(off int, name, t string) *local {
	if c.lookup(name) != nil {
		c.fail(off, "a local variable named '%s' is already defined in this scope", name)
	}
	if name == "context" {
		c.fail(off, "a local variable cannot be named 'context'")
	}
	l := &local{slot: c.nslots, t: t}
	c.nslots++
	c.scopes[len(c.scopes)-1][name] = l
	return l
}

func constExpr(v any, t string) cexpr {
	return cexpr{fn: func(*env) (any, error) { return v, nil }, t: t, isConst: true, val: v}
}

// ---- expressions ----

func (c *compiler) expr(n node) cexpr {
	switch n := n.(type) {
	case *memberNode, *indexNode, *callNode:
		x := c.chain(n)
		if hasNullCond(n) {
			inner := x.fn
			x.fn = func(e *env) (any, error) {
				v, err := inner(e)
				if err == errNullShort {
					return nil, nil
				}
				return v, err
			}
		}
		return x
	case *litNode:
		return constExpr(n.v, typeNameOf(n.v))
	case *identNode:
		return c.ident(n)
	case *interpNode:
		return c.interp(n)
	case *unaryNode:
		return c.unary(n)
	case *postfixNode:
		return c.incDec(n.x, n.op, true, n.p)
	case *binaryNode:
		return c.binary(n)
	case *condNode:
		cond := c.expr(n.c)
		a, b := c.expr(n.a), c.expr(n.b)
		t := a.t
		if a.t != b.t {
			t = tObject
			if a.isConst && a.val == nil {
				t = b.t
			} else if b.isConst && b.val == nil {
				t = a.t
			}
		}
		cf, af, bf := cond.fn, a.fn, b.fn
		return cexpr{t: t, fn: func(e *env) (any, error) {
			ok, err := evalBool(e, cf)
			if err != nil {
				return nil, err
			}
			if ok {
				return af(e)
			}
			return bf(e)
		}}
	case *assignNode:
		return c.assign(n)
	case *castNode:
		x := c.expr(n.x)
		t := typeName(n.t)
		if !knownType(t) {
			c.fail(n.t.p, "unknown type '%s'", n.t.name)
		}
		xf := x.fn
		nullable := n.t.nullable
		return cexpr{t: t, fn: func(e *env) (any, error) {
			v, err := xf(e)
			if err != nil {
				return nil, err
			}
			if v == nil && nullable {
				return nil, nil
			}
			return castTo(v, t)
		}}
	case *asNode:
		x := c.expr(n.x)
		t := typeName(n.t)
		if !knownType(t) {
			c.fail(n.t.p, "unknown type '%s'", n.t.name)
		}
		xf := x.fn
		return cexpr{t: t, fn: func(e *env) (any, error) {
			v, err := xf(e)
			if err != nil {
				return nil, err
			}
			if !isType(v, t) {
				return nil, nil
			}
			return castTo(v, t)
		}}
	case *isNode:
		x := c.expr(n.x)
		xf := x.fn
		if n.null {
			return cexpr{t: "bool", fn: func(e *env) (any, error) {
				v, err := xf(e)
				return v == nil, err
			}}
		}
		t := typeName(n.t)
		if !knownType(t) {
			c.fail(n.t.p, "unknown type '%s'", n.t.name)
		}
		slot := -1
		if n.name != "" {
			slot = c.declare(n.p, n.name, t).slot
		}
		return cexpr{t: "bool", fn: func(e *env) (any, error) {
			v, err := xf(e)
			if err != nil {
				return nil, err
			}
			ok := isType(v, t)
			if ok && slot >= 0 {
				e.locals[slot], _ = castTo(v, t)
			}
			return ok, nil
		}}
	case *newNode:
		return c.newExpr(n)
	case *lambdaNode:
		c.fail(n.p, "a lambda expression is only supported as a method argument")
	case *typeofNode:
		t := typeName(n.t)
		return constExpr(dotnetName(t), "string")
	case *defaultNode:
		t := typeName(n.t)
		return constExpr(zeroValue(t), t)
	}
	c.fail(n.pos(), "unsupported expression")
	return cexpr{}
}

func hasNullCond(n node) bool {
	for {
		switch x := n.(type) {
		case *memberNode:
			if x.nullCond {
				return true
			}
			n = x.x
		case *indexNode:
			if x.nullCond {
				return true
			}
			n = x.x
		case *callNode:
			n = x.fn
		default:
			return false
		}
		if n == nil {
			return false
		}
	}
}

// part compiles a receiver inside a member/index/call chain without the
// null-conditional wrapper (the outermost access adds it).
func (c *compiler) part(n node) cexpr {
	switch n.(type) {
	case *memberNode, *indexNode, *callNode:
		return c.chain(n)
	}
	return c.expr(n)
}

func (c *compiler) chain(n node) cexpr {
	switch n := n.(type) {
	case *memberNode:
		return c.member(n)
	case *indexNode:
		return c.index(n)
	case *callNode:
		return c.call(n)
	}
	panic("unreachable")
}

func (c *compiler) ident(n *identNode) cexpr {
	if l := c.lookup(n.name); l != nil {
		slot := l.slot
		return cexpr{t: l.t, fn: func(e *env) (any, error) { return e.locals[slot], nil }}
	}
	if n.name == "context" {
		return cexpr{t: "context", fn: func(e *env) (any, error) {
			if e.ctx == nil {
				return nil, nil
			}
			return e.ctx, nil
		}}
	}
	if _, ok := c.asType(n); ok {
		c.fail(n.p, "'%s' is a type, which is not valid in the given context", n.name)
	}
	c.fail(n.p, "unknown identifier '%s'", n.name)
	return cexpr{}
}

// dotted returns the name chain a.b.c of a node made only of identifiers
// that are not locals.
func (c *compiler) dotted(n node) (string, bool) {
	switch n := n.(type) {
	case *identNode:
		if c.lookup(n.name) != nil || n.name == "context" {
			return "", false
		}
		return n.name, true
	case *memberNode:
		if n.x == nil || n.nullCond || n.targs != nil {
			return "", false
		}
		d, ok := c.dotted(n.x)
		if !ok {
			return "", false
		}
		return d + "." + n.name, true
	}
	return "", false
}

// asType reports whether n names a type with static members or
// constructors.
func (c *compiler) asType(n node) (string, bool) {
	d, ok := c.dotted(n)
	if !ok {
		return "", false
	}
	t := canonType(d)
	if statics[t] != nil {
		return t, true
	}
	return "", false
}

// display gives a readable name for the receiver in errors.
func (c *compiler) display(n node, t string) string {
	if d := exprPath(n); d != "" && strings.HasPrefix(d, "context") {
		return d
	}
	if ti := types[t]; ti != nil && ti.display != "" {
		return ti.display
	}
	return t
}

func exprPath(n node) string {
	switch n := n.(type) {
	case *identNode:
		return n.name
	case *memberNode:
		if n.x == nil {
			return n.name
		}
		p := exprPath(n.x)
		if p == "" {
			return ""
		}
		return p + "." + n.name
	}
	return ""
}

func (c *compiler) member(n *memberNode) cexpr {
	if n.x == nil {
		c.fail(n.p, "unknown method '%s'", n.name)
	}
	if t, ok := c.asType(n.x); ok {
		st := statics[t]
		p, ok := st.props[n.name]
		if !ok {
			if _, isM := st.methods[n.name]; isM {
				c.fail(n.p, "method '%s.%s' used as a value", t, n.name)
			}
			c.fail(n.p, "'%s' does not contain a definition for '%s'", t, n.name)
		}
		get := p.get
		return cexpr{t: p.t, fn: get}
	}
	x := c.part(n.x)
	if nullableValue[x.t] && !n.nullCond && (n.name == "HasValue" || n.name == "Value") {
		// Nullable<T>: a null int?, DateTime? ... has HasValue false
		// (not a null reference), and its Value throws as in .NET.
		xfn, hasValue := x.fn, n.name == "HasValue"
		t := x.t
		if hasValue {
			t = "bool"
		}
		return cexpr{t: t, fn: func(e *env) (any, error) {
			v, err := xfn(e)
			switch {
			case err != nil:
				return nil, err
			case hasValue:
				return v != nil, nil
			case v == nil:
				return nil, throwf("InvalidOperationException", "Nullable object must have a value.")
			}
			return v, nil
		}}
	}
	xf := receiver(x.fn, n.nullCond)
	name := n.name
	if p, ok := lookupProp(x.t, name); ok && x.t != tObject {
		get := p.get
		return cexpr{t: p.t, fn: func(e *env) (any, error) {
			v, err := xf(e)
			if err != nil {
				return nil, err
			}
			return get(e, v)
		}}
	}
	if isChecked(x.t) {
		if _, isM := lookupMethod(x.t, name); isM {
			c.fail(n.p, "method '%s' used as a value (missing parentheses?)", name)
		}
		c.fail(n.p, "unknown member '%s' on %s", name, c.display(n.x, x.t))
	}
	return cexpr{t: tObject, fn: func(e *env) (any, error) {
		v, err := xf(e)
		if err != nil {
			return nil, err
		}
		return getMember(e, v, name)
	}}
}

// getMember resolves a property on a run-time value.
func getMember(e *env, v any, name string) (any, error) {
	t := typeNameOf(v)
	if p, ok := lookupProp(t, name); ok {
		return p.get(e, v)
	}
	return nil, errNoMember(v, name)
}

// callMethod resolves and calls a method on a run-time value.
func callMethod(e *env, v any, name string, targs []string, args []any) (any, error) {
	t := typeNameOf(v)
	if m, ok := lookupMethod(t, name); ok {
		return m.call(e, v, targs, args)
	}
	return nil, errNoMember(v, name)
}

// evalBool evaluates a condition.
func evalBool(e *env, f evalFn) (bool, error) {
	v, err := f(e)
	if err != nil {
		return false, err
	}
	return condBool(v)
}

// receiver evaluates the target of a member access, indexer or method call:
// null is a NullReferenceException, or ends a ?. chain when nullCond.
func receiver(xf func(*env) (any, error), nullCond bool) func(*env) (any, error) {
	return func(e *env) (any, error) {
		v, err := xf(e)
		if err == nil && v == nil {
			if nullCond {
				return nil, errNullShort
			}
			return nil, errNullRef()
		}
		return v, err
	}
}

func (c *compiler) index(n *indexNode) cexpr {
	x := c.part(n.x)
	args := c.exprs(n.args)
	xf := receiver(x.fn, n.nullCond)
	t := tObject
	var idx func(e *env, v any, args []any) (any, error)
	if ti, ok := lookupIndex(x.t); ok && x.t != tObject {
		idx, t = ti.index, ti.indexT
	} else if isChecked(x.t) {
		c.fail(n.p, "cannot apply indexing with [] to %s", c.display(n.x, x.t))
	}
	if t == "" {
		t = tObject
	}
	return cexpr{t: t, fn: func(e *env) (any, error) {
		v, err := xf(e)
		if err != nil {
			return nil, err
		}
		av, err := evalAll(e, args)
		if err != nil {
			return nil, err
		}
		if idx != nil {
			return idx(e, v, av)
		}
		return indexValue(e, v, av)
	}}
}

func indexValue(e *env, v any, args []any) (any, error) {
	if ti, ok := lookupIndex(typeNameOf(v)); ok {
		return ti.index(e, v, args)
	}
	return nil, throwf("RuntimeBinderException", "Cannot apply indexing with [] to an expression of type '%s'", dotnetTypeName(v))
}

func (c *compiler) exprs(ns []node) []evalFn {
	out := make([]evalFn, len(ns))
	for i, n := range ns {
		out[i] = c.expr(n).fn
	}
	return out
}

func evalAll(e *env, fs []evalFn) ([]any, error) {
	if len(fs) == 0 {
		return nil, nil
	}
	out := make([]any, len(fs))
	for i, f := range fs {
		v, err := f(e)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// args compiles call arguments; lambdas become *lambdaFn constants and out
// arguments *outRef constants.
func (c *compiler) args(as []argNode) []evalFn {
	out := make([]evalFn, len(as))
	for i, a := range as {
		switch {
		case a.out:
			var l *local
			if a.outDecl {
				l = c.declare(a.x.pos(), a.outName, tObject)
			} else if l = c.lookup(a.outName); l == nil {
				c.fail(a.x.pos(), "unknown identifier '%s'", a.outName)
			}
			ref := &outRef{slot: l.slot}
			out[i] = func(*env) (any, error) { return ref, nil }
		default:
			if ln, ok := a.x.(*lambdaNode); ok {
				lf := c.lambda(ln)
				out[i] = func(*env) (any, error) { return lf, nil }
				continue
			}
			out[i] = c.expr(a.x).fn
		}
	}
	return out
}

func (c *compiler) targs(ts []*typeRef) []string {
	var out []string
	for _, t := range ts {
		n := typeName(t)
		if !knownType(n) {
			c.fail(t.p, "unknown type '%s'", t.name)
		}
		out = append(out, n)
	}
	return out
}

func resultType(t string, targs []string) string {
	if t == "$T" {
		if len(targs) > 0 {
			return targs[0]
		}
		return tObject
	}
	if t == "" {
		return tObject
	}
	return t
}

func (c *compiler) call(n *callNode) cexpr {
	if id, ok := n.fn.(*identNode); ok {
		if l := c.lookup(id.name); l != nil && l.fn != nil {
			return c.callFunc(n, l.fn)
		}
	}
	fn, ok := n.fn.(*memberNode)
	if !ok || fn.x == nil {
		name := exprPath(n.fn)
		c.fail(n.p, "unknown method '%s'", name)
	}
	targs := c.targs(fn.targs)
	if t, ok := c.asType(fn.x); ok {
		st := statics[t]
		m, ok := st.methods[fn.name]
		if !ok {
			c.fail(fn.p, "'%s' does not contain a definition for '%s'", t, fn.name)
		}
		if t == "Regex" {
			c.checkRegexArgs(fn.name, false, n.args)
		}
		args := c.args(n.args)
		call := m.call
		return cexpr{t: resultType(m.t, targs), fn: func(e *env) (any, error) {
			av, err := evalAll(e, args)
			if err != nil {
				return nil, err
			}
			if err := e.chargeAll(av); err != nil {
				return nil, err
			}
			v, err := call(e, targs, av)
			if err != nil {
				return nil, err
			}
			return v, e.charge(v)
		}}
	}
	x := c.part(fn.x)
	args := c.args(n.args)
	xf := receiver(x.fn, fn.nullCond)
	name := fn.name
	var call func(e *env, v any, targs []string, args []any) (any, error)
	rt := tObject
	if m, ok := lookupMethod(x.t, name); ok && x.t != tObject {
		call, rt = m.call, resultType(m.t, targs)
	} else if isChecked(x.t) {
		if _, isProp := lookupProp(x.t, name); isProp {
			c.fail(fn.p, "non-invocable member '%s' of %s cannot be used like a method", name, c.display(fn.x, x.t))
		}
		c.fail(fn.p, "unknown member '%s' on %s", name, c.display(fn.x, x.t))
	}
	return cexpr{t: rt, fn: func(e *env) (any, error) {
		v, err := xf(e)
		if err != nil {
			return nil, err
		}
		av, err := evalAll(e, args)
		if err != nil {
			return nil, err
		}
		if err := e.charge(v); err != nil {
			return nil, err
		}
		if err := e.chargeAll(av); err != nil {
			return nil, err
		}
		var r any
		if call != nil {
			r, err = call(e, v, targs, av)
		} else {
			r, err = callMethod(e, v, name, targs, av)
		}
		if err != nil {
			return nil, err
		}
		return r, e.charge(r)
	}}
}

// lambdaFn is a compiled lambda; its parameters live in env slots.
type lambdaFn struct {
	slots []int
	body  evalFn
}

// invoke calls the lambda (counting toward the step budget).
func (l *lambdaFn) invoke(e *env, args ...any) (any, error) {
	if err := e.step(1); err != nil {
		return nil, err
	}
	for i, s := range l.slots {
		if i < len(args) {
			e.locals[s] = args[i]
		}
	}
	return l.body(e)
}

// charge counts the size of a produced value against the step budget so
// that loops building large strings or arrays stay bounded in time.
func (e *env) charge(v any) error {
	n := 0
	switch x := v.(type) {
	case string:
		n = len(x) >> 8
	case []any:
		n = len(x) >> 4
	case []string:
		n = len(x) >> 4
	case []byte:
		n = len(x) >> 8
	}
	if n == 0 {
		return nil
	}
	return e.step(n)
}

// cancelEvery is how many steps may pass between two polls of the
// request's context.
const cancelEvery = 64

// step counts n units of work against the budget (loop iterations, lambda
// calls, 16 parsed tokens, 16 scanned items...) and polls the request's
// context every cancelEvery units: the first call of an evaluation polls,
// so an evaluation that starts after the caller left stops at once.
func (e *env) step(n int) error {
	e.steps += n
	if e.steps > maxSteps {
		return errSteps()
	}
	if e.steps >= e.nextCheck {
		e.nextCheck = e.steps + cancelEvery
		if e.done != nil {
			select {
			case <-e.done:
				return errCancelled(e.ctx)
			default:
			}
		}
	}
	return nil
}

// chargeScan counts a scan over n items (one step per 16).
func (e *env) chargeScan(n int) error {
	if e == nil || n < 16 {
		return nil
	}
	return e.step(n >> 4)
}

// errCancelled is the error of an evaluation whose request was cancelled
// (the caller went away, or a wait branch lost). It is a *RuntimeError,
// not an exception: catch clauses cannot swallow it.
func errCancelled(c *Context) error {
	cause := "context canceled"
	if c != nil && c.Cancel != nil && c.Cancel.Err() != nil {
		cause = c.Cancel.Err().Error()
	}
	return &RuntimeError{Msg: fmt.Sprintf("The operation was canceled: the request is no longer being served (%s).", cause)}
}

func (e *env) chargeAll(vs []any) error {
	for _, v := range vs {
		if err := e.charge(v); err != nil {
			return err
		}
	}
	return nil
}

func errSteps() error {
	return throwf("InvalidOperationException", "Expression exceeded %d loop iterations.", maxSteps)
}

func (c *compiler) lambda(n *lambdaNode) *lambdaFn {
	c.push()
	defer c.pop()
	l := &lambdaFn{}
	for _, p := range n.params {
		l.slots = append(l.slots, c.declare(n.p, p, tObject).slot)
	}
	if n.body != nil {
		l.body = c.expr(n.body).fn
		return l
	}
	body := c.block(n.block)
	l.body = func(e *env) (any, error) {
		f, err := body(e)
		if err != nil {
			return nil, err
		}
		if f == flowReturn {
			return e.ret, nil
		}
		return nil, nil
	}
	return l
}

func (c *compiler) interp(n *interpNode) cexpr {
	type part struct {
		lit    string
		fn     evalFn
		align  int
		format string
	}
	parts := make([]part, len(n.parts))
	for i, h := range n.parts {
		parts[i] = part{lit: h.lit, align: h.align, format: h.format}
		if h.x != nil {
			parts[i].fn = c.expr(h.x).fn
		}
	}
	return cexpr{t: "string", fn: func(e *env) (any, error) {
		var b strings.Builder
		for _, p := range parts {
			if p.fn == nil {
				b.WriteString(p.lit)
				continue
			}
			v, err := p.fn(e)
			if err != nil {
				return nil, err
			}
			s := ToString(v)
			if p.format != "" {
				if s, err = formatValue(v, p.format); err != nil {
					return nil, err
				}
			}
			s = align(s, p.align)
			b.WriteString(s)
			if b.Len() > maxStringLen {
				return nil, errTooLarge()
			}
		}
		r := b.String()
		return r, e.charge(r)
	}}
}

func align(s string, n int) string {
	w := len([]rune(s))
	switch {
	case n > 0 && w < n:
		return strings.Repeat(" ", n-w) + s
	case n < 0 && w < -n:
		return s + strings.Repeat(" ", -n-w)
	}
	return s
}

func (c *compiler) unary(n *unaryNode) cexpr {
	if n.op == "++" || n.op == "--" {
		return c.incDec(n.x, n.op, false, n.p)
	}
	x := c.expr(n.x)
	xf := x.fn
	op := n.op
	t := x.t
	if op == "!" {
		t = "bool"
	}
	return cexpr{t: t, fn: func(e *env) (any, error) {
		v, err := xf(e)
		if err != nil {
			return nil, err
		}
		return unaryOp(op, v)
	}}
}

func (c *compiler) binary(n *binaryNode) cexpr {
	l, r := c.expr(n.l), c.expr(n.r)
	lf, rf := l.fn, r.fn
	switch n.op {
	case "&&", "||":
		and := n.op == "&&"
		return cexpr{t: "bool", fn: func(e *env) (any, error) {
			b, err := evalBool(e, lf)
			if err != nil {
				return nil, err
			}
			if b != and {
				return b, nil
			}
			return evalBool(e, rf)
		}}
	case "??":
		t := l.t
		if t != r.t {
			t = tObject
		}
		return cexpr{t: t, fn: func(e *env) (any, error) {
			v, err := lf(e)
			if err != nil || v != nil {
				return v, err
			}
			return rf(e)
		}}
	case "==", "!=":
		neq := n.op == "!="
		return cexpr{t: "bool", fn: func(e *env) (any, error) {
			a, err := lf(e)
			if err != nil {
				return nil, err
			}
			b, err := rf(e)
			if err != nil {
				return nil, err
			}
			return equals(a, b) != neq, nil
		}}
	}
	op := n.op
	t := tObject
	switch op {
	case "<", ">", "<=", ">=":
		t = "bool"
	case "+":
		if l.t == "XNamespace" {
			t = "XName" // XNamespace + string
		} else if l.t == "string" || r.t == "string" {
			// string concatenation; null operands are "" as in C#.
			return cexpr{t: "string", fn: func(e *env) (any, error) {
				a, err := lf(e)
				if err != nil {
					return nil, err
				}
				b, err := rf(e)
				if err != nil {
					return nil, err
				}
				r, err := concat(a, b)
				if err != nil {
					return nil, err
				}
				return r, e.charge(r)
			}}
		}
	}
	if l.t == r.t && (l.t == "int" || l.t == "long" || l.t == "double") && t == tObject {
		t = l.t
	}
	return cexpr{t: t, fn: func(e *env) (any, error) {
		a, err := lf(e)
		if err != nil {
			return nil, err
		}
		b, err := rf(e)
		if err != nil {
			return nil, err
		}
		r, err := binaryOp(op, a, b)
		if err != nil {
			return nil, err
		}
		return r, e.charge(r)
	}}
}

// lvalue is an assignable target: get and set closures.
type lvalue struct {
	t   string
	get evalFn
	set func(e *env, v any) error
}

func (c *compiler) lvalue(n node) lvalue {
	switch n := n.(type) {
	case *identNode:
		l := c.lookup(n.name)
		if l == nil {
			if n.name == "context" {
				c.fail(n.p, "cannot assign to 'context'")
			}
			c.fail(n.p, "unknown identifier '%s'", n.name)
		}
		if l.readonly || l.fn != nil {
			c.fail(n.p, "'%s' cannot be assigned to: it is a constant or a local function", n.name)
		}
		slot, t := l.slot, l.t
		return lvalue{t: t,
			get: func(e *env) (any, error) { return e.locals[slot], nil },
			set: func(e *env, v any) error {
				v, err := implicitConvert(v, t)
				if err != nil {
					return err
				}
				e.locals[slot] = v
				return nil
			}}
	case *indexNode:
		x := c.part(n.x)
		args := c.exprs(n.args)
		xf := receiver(x.fn, false)
		get := func(e *env) (any, []any, error) {
			v, err := xf(e)
			if err != nil {
				return nil, nil, err
			}
			av, err := evalAll(e, args)
			return v, av, err
		}
		return lvalue{t: tObject,
			get: func(e *env) (any, error) {
				v, av, err := get(e)
				if err != nil {
					return nil, err
				}
				return indexValue(e, v, av)
			},
			set: func(e *env, val any) error {
				v, av, err := get(e)
				if err != nil {
					return err
				}
				ti, ok := lookupSetIndex(typeNameOf(v))
				if !ok {
					return throwf("RuntimeBinderException", "Property or indexer of '%s' cannot be assigned to -- it is read only", dotnetTypeName(v))
				}
				return ti.setIndex(e, v, av, val)
			}}
	case *memberNode:
		if n.x == nil || n.nullCond {
			break
		}
		x := c.part(n.x)
		if _, settable := lookupSetProp(x.t, n.name); isChecked(x.t) && !settable {
			c.fail(n.p, "property '%s' of %s cannot be assigned to -- it is read only", n.name, c.display(n.x, x.t))
		}
		xf := receiver(x.fn, false)
		name := n.name
		return lvalue{t: tObject,
			get: func(e *env) (any, error) {
				v, err := xf(e)
				if err != nil {
					return nil, err
				}
				return getMember(e, v, name)
			},
			set: func(e *env, val any) error {
				v, err := xf(e)
				if err != nil {
					return err
				}
				return setMember(e, v, name, val)
			}}
	}
	c.fail(n.pos(), "the left-hand side of an assignment must be a variable, property or indexer")
	return lvalue{}
}

func setMember(e *env, v any, name string, val any) error {
	if f, ok := lookupSetProp(typeNameOf(v), name); ok {
		return f(e, v, val)
	}
	return throwf("RuntimeBinderException", "Property or indexer '%s.%s' cannot be assigned to -- it is read only", dotnetTypeName(v), name)
}

func (c *compiler) assign(n *assignNode) cexpr {
	lv := c.lvalue(n.target)
	var val cexpr
	if ln, ok := n.val.(*lambdaNode); ok {
		c.fail(ln.p, "a lambda expression is only supported as a method argument")
	}
	val = c.expr(n.val)
	vf := val.fn
	op := n.op
	if op == "=" {
		return cexpr{t: lv.t, fn: func(e *env) (any, error) {
			v, err := vf(e)
			if err != nil {
				return nil, err
			}
			return v, lv.set(e, v)
		}}
	}
	bop := strings.TrimSuffix(op, "=")
	return cexpr{t: lv.t, fn: func(e *env) (any, error) {
		cur, err := lv.get(e)
		if err != nil {
			return nil, err
		}
		var v any
		if bop == "??" {
			if cur != nil {
				return cur, nil
			}
			if v, err = vf(e); err != nil {
				return nil, err
			}
		} else {
			r, err := vf(e)
			if err != nil {
				return nil, err
			}
			if bop == "+" && (isString(cur) || isString(r)) {
				v, err = concat(cur, r)
			} else {
				v, err = binaryOp(bop, cur, r)
			}
			if err != nil {
				return nil, err
			}
			v = narrowTo(v, cur)
			if err := e.charge(v); err != nil {
				return nil, err
			}
		}
		return v, lv.set(e, v)
	}}
}

func isString(v any) bool { _, ok := v.(string); return ok }

func (c *compiler) incDec(target node, op string, post bool, off int) cexpr {
	lv := c.lvalue(target)
	d := int32(1)
	if op == "--" {
		d = -1
	}
	return cexpr{t: lv.t, fn: func(e *env) (any, error) {
		cur, err := lv.get(e)
		if err != nil {
			return nil, err
		}
		nv, err := binaryOp("+", cur, d)
		if err != nil {
			return nil, err
		}
		nv = narrowTo(nv, cur)
		if err := lv.set(e, nv); err != nil {
			return nil, err
		}
		if post {
			return cur, nil
		}
		return nv, nil
	}}
}

// ---- statements ----

func (c *compiler) block(b *blockSt) stmtFn {
	c.push()
	defer c.pop()
	// Local functions are in scope in the whole block (called before
	// their declaration, and recursively): declared first, compiled in
	// place.
	for _, s := range b.stmts {
		if f, ok := s.(*funcSt); ok {
			c.declareFunc(f)
		}
	}
	fns := make([]stmtFn, 0, len(b.stmts))
	for _, s := range b.stmts {
		fns = append(fns, c.stmt(s))
	}
	if len(fns) == 1 {
		return fns[0]
	}
	return func(e *env) (flow, error) {
		for _, f := range fns {
			fl, err := f(e)
			if err != nil || fl != flowNext {
				return fl, err
			}
		}
		return flowNext, nil
	}
}

// embedded compiles a statement in its own scope.
func (c *compiler) embedded(s stmt) stmtFn {
	if b, ok := s.(*blockSt); ok {
		return c.block(b)
	}
	c.push()
	defer c.pop()
	return c.stmt(s)
}

func (c *compiler) stmt(s stmt) stmtFn {
	switch s := s.(type) {
	case *blockSt:
		return c.block(s)
	case *exprSt:
		f := c.expr(s.x).fn
		return func(e *env) (flow, error) {
			_, err := f(e)
			return flowNext, err
		}
	case *varSt:
		return c.varDecl(s)
	case *ifSt:
		cond := c.expr(s.cond).fn
		then := c.embedded(s.then)
		var els stmtFn
		if s.els != nil {
			els = c.embedded(s.els)
		}
		return func(e *env) (flow, error) {
			b, err := evalBool(e, cond)
			if err != nil {
				return flowNext, err
			}
			if b {
				return then(e)
			}
			if els != nil {
				return els(e)
			}
			return flowNext, nil
		}
	case *returnSt:
		if s.x == nil {
			c.fail(s.p, "an object of a type convertible to 'object' is required after 'return'")
		}
		if ln, ok := s.x.(*lambdaNode); ok {
			c.fail(ln.p, "a lambda expression is only supported as a method argument")
		}
		f := c.expr(s.x).fn
		return func(e *env) (flow, error) {
			v, err := f(e)
			if err != nil {
				return flowNext, err
			}
			e.ret = v
			return flowReturn, nil
		}
	case *breakSt:
		if c.loops == 0 {
			c.fail(s.p, "no enclosing loop out of which to break")
		}
		return func(*env) (flow, error) { return flowBreak, nil }
	case *continueSt:
		if c.loops == 0 {
			c.fail(s.p, "no enclosing loop out of which to continue")
		}
		return func(*env) (flow, error) { return flowContinue, nil }
	case *throwSt:
		if s.x == nil {
			return func(*env) (flow, error) {
				return flowNext, throwf("Exception", "rethrow outside catch")
			}
		}
		f := c.expr(s.x).fn
		return func(e *env) (flow, error) {
			v, err := f(e)
			if err != nil {
				return flowNext, err
			}
			if ex, ok := v.(*csErr); ok {
				return flowNext, ex
			}
			if v == nil {
				return flowNext, errNullRef()
			}
			return flowNext, throwf("Exception", "%s", ToString(v))
		}
	case *whileSt:
		return c.while(s)
	case *forSt:
		return c.forLoop(s)
	case *foreachSt:
		return c.foreach(s)
	case *tryStmt:
		return c.try(s)
	case *switchSt:
		return c.switchStmt(s)
	case *funcSt:
		c.compileFunc(s)
		return func(*env) (flow, error) { return flowNext, nil }
	case *usingSt:
		c.push()
		defer c.pop()
		decl, body := c.stmt(s.decl), c.embedded(s.body)
		return func(e *env) (flow, error) {
			if _, err := decl(e); err != nil {
				return flowNext, err
			}
			return body(e)
		}
	}
	c.fail(s.pos(), "unsupported statement")
	return nil
}

func (c *compiler) varDecl(s *varSt) stmtFn {
	t := tObject
	if s.t != nil {
		t = typeName(s.t)
		if !knownType(t) {
			c.fail(s.t.p, "unknown type '%s'", s.t.name)
		}
	}
	var fns []stmtFn
	for i, name := range s.names {
		var init cexpr
		hasInit := s.inits[i] != nil
		if hasInit {
			if ln, ok := s.inits[i].(*lambdaNode); ok {
				c.fail(ln.p, "a lambda expression is only supported as a method argument")
			}
			init = c.expr(s.inits[i])
		}
		lt := t
		if s.t == nil {
			lt = init.t
			if init.isConst && init.val == nil {
				c.fail(s.p, "cannot assign <null> to an implicitly-typed variable")
			}
		}
		l := c.declare(s.p, name, lt)
		l.readonly = s.readonly
		slot := l.slot
		if !hasInit {
			zero := zeroValue(lt)
			fns = append(fns, func(e *env) (flow, error) { e.locals[slot] = zero; return flowNext, nil })
			continue
		}
		f := init.fn
		fns = append(fns, func(e *env) (flow, error) {
			v, err := f(e)
			if err != nil {
				return flowNext, err
			}
			if v, err = implicitConvert(v, lt); err != nil {
				return flowNext, err
			}
			e.locals[slot] = v
			return flowNext, nil
		})
	}
	if len(fns) == 1 {
		return fns[0]
	}
	return func(e *env) (flow, error) {
		for _, f := range fns {
			if _, err := f(e); err != nil {
				return flowNext, err
			}
		}
		return flowNext, nil
	}
}

// loopBody runs a loop body and maps its flow: done reports that the loop
// must stop, with the flow to propagate.
func loopBody(e *env, body stmtFn) (stop bool, fl flow, err error) {
	if err := e.step(1); err != nil {
		return true, flowNext, err
	}
	fl, err = body(e)
	if err != nil {
		return true, flowNext, err
	}
	switch fl {
	case flowReturn:
		return true, flowReturn, nil
	case flowBreak:
		return true, flowNext, nil
	}
	return false, flowNext, nil
}

func (c *compiler) while(s *whileSt) stmtFn {
	cond := c.expr(s.cond).fn
	c.loops++
	body := c.embedded(s.body)
	c.loops--
	do := s.do
	return func(e *env) (flow, error) {
		first := true
		for {
			if !(do && first) {
				b, err := evalBool(e, cond)
				if err != nil {
					return flowNext, err
				}
				if !b {
					return flowNext, nil
				}
			}
			first = false
			if stop, fl, err := loopBody(e, body); stop {
				return fl, err
			}
		}
	}
}

func (c *compiler) forLoop(s *forSt) stmtFn {
	c.push()
	defer c.pop()
	var inits []stmtFn
	for _, i := range s.init {
		inits = append(inits, c.stmt(i))
	}
	var cond evalFn
	if s.cond != nil {
		cond = c.expr(s.cond).fn
	}
	posts := c.exprs(s.post)
	c.loops++
	body := c.embedded(s.body)
	c.loops--
	return func(e *env) (flow, error) {
		for _, f := range inits {
			if _, err := f(e); err != nil {
				return flowNext, err
			}
		}
		for {
			if cond != nil {
				b, err := evalBool(e, cond)
				if err != nil {
					return flowNext, err
				}
				if !b {
					return flowNext, nil
				}
			}
			if stop, fl, err := loopBody(e, body); stop {
				return fl, err
			}
			for _, p := range posts {
				if _, err := p(e); err != nil {
					return flowNext, err
				}
			}
		}
	}
}

func (c *compiler) foreach(s *foreachSt) stmtFn {
	coll := c.expr(s.coll).fn
	c.push()
	defer c.pop()
	t := tObject
	if s.t != nil {
		t = typeName(s.t)
	}
	slot := c.declare(s.p, s.name, t).slot
	c.loops++
	body := c.embedded(s.body)
	c.loops--
	return func(e *env) (flow, error) {
		v, err := coll(e)
		if err != nil {
			return flowNext, err
		}
		items, err := enumerate(v)
		if err != nil {
			return flowNext, err
		}
		for _, it := range items {
			if t != tObject {
				if it, err = castTo(it, t); err != nil {
					return flowNext, err
				}
			}
			e.locals[slot] = it
			if stop, fl, err := loopBody(e, body); stop {
				return fl, err
			}
		}
		return flowNext, nil
	}
}

func (c *compiler) try(s *tryStmt) stmtFn {
	body := c.block(s.body)
	type catchFn struct {
		t    string
		slot int
		when evalFn
		body stmtFn
	}
	var catches []catchFn
	for _, cl := range s.catches {
		c.push()
		cf := catchFn{t: "Exception", slot: -1}
		if cl.t != nil {
			cf.t = canonType(cl.t.name)
		}
		if cl.name != "" {
			cf.slot = c.declare(cl.body.p, cl.name, "Exception").slot
		}
		if cl.when != nil {
			cf.when = c.expr(cl.when).fn
		}
		cf.body = c.block(cl.body)
		c.pop()
		catches = append(catches, cf)
	}
	var finally stmtFn
	if s.finally != nil {
		finally = c.block(s.finally)
	}
	run := func(e *env) (flow, error) {
		fl, err := body(e)
		if err == nil {
			return fl, nil
		}
		ex, ok := err.(*csErr)
		if !ok {
			return fl, err
		}
		if ex.typ == "InvalidOperationException" && strings.HasPrefix(ex.msg, "Expression exceeded") {
			return fl, err // the loop budget cannot be caught
		}
		for _, cf := range catches {
			if !isA(ex.typ, cf.t) {
				continue
			}
			if cf.slot >= 0 {
				e.locals[cf.slot] = ex
			}
			if cf.when != nil {
				v, err := cf.when(e)
				if err != nil {
					return flowNext, err
				}
				if b, _ := v.(bool); !b {
					continue
				}
			}
			return cf.body(e)
		}
		return fl, err
	}
	if finally == nil {
		return run
	}
	return func(e *env) (flow, error) {
		fl, err := run(e)
		ffl, ferr := finally(e)
		if ferr != nil {
			return ffl, ferr
		}
		if ffl == flowReturn {
			return ffl, nil
		}
		return fl, err
	}
}

func (c *compiler) switchStmt(s *switchSt) stmtFn {
	x := c.expr(s.x).fn
	type caseFn struct {
		labels []evalFn
		dflt   bool
		body   stmtFn
	}
	var cases []caseFn
	c.loops++ // break is allowed
	for _, cs := range s.cases {
		cf := caseFn{dflt: cs.hasDflt, labels: c.exprs(cs.labels)}
		cf.body = c.block(&blockSt{p: s.p, stmts: cs.body})
		cases = append(cases, cf)
	}
	c.loops--
	return func(e *env) (flow, error) {
		v, err := x(e)
		if err != nil {
			return flowNext, err
		}
		match := -1
		for i, cf := range cases {
			for _, l := range cf.labels {
				lv, err := l(e)
				if err != nil {
					return flowNext, err
				}
				if equals(v, lv) {
					match = i
					break
				}
			}
			if match >= 0 {
				break
			}
		}
		if match < 0 {
			for i, cf := range cases {
				if cf.dflt {
					match = i
				}
			}
		}
		if match < 0 {
			return flowNext, nil
		}
		fl, err := cases[match].body(e)
		if fl == flowBreak {
			fl = flowNext
		}
		return fl, err
	}
}

// alwaysReturns reports whether s cannot complete normally (C#'s
// reachability rule, simplified).
func alwaysReturns(s stmt) bool {
	switch s := s.(type) {
	case *returnSt, *throwSt:
		return true
	case *blockSt:
		for _, x := range s.stmts {
			if alwaysReturns(x) {
				return true
			}
		}
	case *ifSt:
		return s.els != nil && alwaysReturns(s.then) && alwaysReturns(s.els)
	case *usingSt:
		return alwaysReturns(s.body)
	case *tryStmt:
		if s.finally != nil && alwaysReturns(s.finally) {
			return true
		}
		if !alwaysReturns(s.body) {
			return false
		}
		for _, c := range s.catches {
			if !alwaysReturns(c.body) {
				return false
			}
		}
		return true
	case *whileSt:
		if l, ok := s.cond.(*litNode); ok && l.v == true && !hasBreak(s.body) {
			return true
		}
		return s.do && alwaysReturns(s.body)
	case *forSt:
		return s.cond == nil && !hasBreak(s.body)
	case *switchSt:
		dflt := false
		for _, cs := range s.cases {
			dflt = dflt || cs.hasDflt
			if !alwaysReturns(&blockSt{stmts: cs.body}) {
				return false
			}
		}
		return dflt
	}
	return false
}

// hasBreak reports whether a loop body contains a break for that loop.
func hasBreak(s stmt) bool {
	switch s := s.(type) {
	case *breakSt:
		return true
	case *blockSt:
		for _, x := range s.stmts {
			if hasBreak(x) {
				return true
			}
		}
	case *ifSt:
		return hasBreak(s.then) || s.els != nil && hasBreak(s.els)
	case *usingSt:
		return hasBreak(s.body)
	case *tryStmt:
		if hasBreak(s.body) {
			return true
		}
		for _, c := range s.catches {
			if hasBreak(c.body) {
				return true
			}
		}
	}
	return false
}
