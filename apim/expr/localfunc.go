package expr

// Local functions: `int HostToNetworkOrder(int host) { ... }` inside an
// @{ } block, as real policies write helpers. A function's parameters and
// locals live in a range of the evaluation's slots; a call saves that
// range and restores it on return, so recursion and calls from inside
// loops see their own variables, while the enclosing block's locals are
// shared (captured by reference, as in C#).

// localFn is a compiled local function.
type localFn struct {
	name   string
	ret    string // "" for void
	params []string
	slots  []int // the parameters' slots
	lo, hi int   // every slot of the body (parameters included)
	body   evalFn
}

// declareFunc puts a local function in scope (its body is compiled when
// the declaration is reached, so it can call itself and later functions).
func (c *compiler) declareFunc(f *funcSt) {
	if c.lookup(f.name) != nil {
		c.fail(f.p, "a local variable or function named '%s' is already defined in this scope", f.name)
	}
	lf := &localFn{name: f.name}
	if f.ret != nil {
		lf.ret = typeName(f.ret)
		if !knownType(lf.ret) {
			c.fail(f.ret.p, "unknown type '%s'", f.ret.name)
		}
	}
	for _, p := range f.params {
		t := typeName(p.t)
		if !knownType(t) {
			c.fail(p.t.p, "unknown type '%s'", p.t.name)
		}
		lf.params = append(lf.params, t)
	}
	c.scopes[len(c.scopes)-1][f.name] = &local{slot: -1, t: tObject, fn: lf}
}

// compileFunc compiles a declared local function's body.
func (c *compiler) compileFunc(f *funcSt) {
	lf := c.lookup(f.name).fn
	c.push()
	defer c.pop()
	loops := c.loops
	c.loops = 0 // break/continue do not cross into the function
	defer func() { c.loops = loops }()
	lf.lo = c.nslots
	for i, p := range f.params {
		lf.slots = append(lf.slots, c.declare(f.p, p.name, lf.params[i]).slot)
	}
	if f.expr != nil {
		lf.body = c.expr(f.expr).fn
	} else {
		if lf.ret != "" && !alwaysReturns(f.body) {
			c.fail(f.p, "'%s': not all code paths return a value", f.name)
		}
		body := c.block(f.body)
		lf.body = func(e *env) (any, error) {
			fl, err := body(e)
			if err != nil || fl != flowReturn {
				return nil, err
			}
			return e.ret, nil
		}
	}
	lf.hi = c.nslots
}

// maxCallDepth bounds local function calls in progress (recursion): the
// interpreter's own stack must not grow without bound.
const maxCallDepth = 64

func (e *env) enter() error {
	if e.depth >= maxCallDepth {
		return throwf("InsufficientExecutionStackException", "Local functions nested more than %d calls deep.", maxCallDepth)
	}
	e.depth++
	return nil
}

func (e *env) leave() { e.depth-- }

// callFunc compiles a call of a local function.
func (c *compiler) callFunc(n *callNode, lf *localFn) cexpr {
	if len(n.args) != len(lf.params) {
		c.fail(n.p, "local function '%s' takes %d arguments, not %d", lf.name, len(lf.params), len(n.args))
	}
	args := c.args(n.args)
	rt := lf.ret
	if rt == "" {
		rt = tObject
	}
	return cexpr{t: rt, fn: func(e *env) (any, error) {
		av, err := evalAll(e, args)
		if err != nil {
			return nil, err
		}
		if err := e.step(1); err != nil {
			return nil, err
		}
		for i, t := range lf.params {
			if av[i], err = implicitConvert(av[i], t); err != nil {
				return nil, err
			}
		}
		// This frame's slots are saved and restored around the call: a
		// recursive call must not overwrite the caller's variables.
		saved := append([]any(nil), e.locals[lf.lo:lf.hi]...)
		defer copy(e.locals[lf.lo:lf.hi], saved)
		if err := e.enter(); err != nil {
			return nil, err
		}
		defer e.leave()
		for i, s := range lf.slots {
			e.locals[s] = av[i]
		}
		v, err := lf.body(e)
		if err != nil || lf.ret == "" {
			return nil, err
		}
		return implicitConvert(v, lf.ret)
	}}
}
