package expr

import (
	"fmt"
)

// posErr is a syntax or compile error at a byte offset of the expression
// source; Compile converts it to a *SyntaxError with line and column.
type posErr struct {
	off int
	msg string
}

func (e *posErr) Error() string { return e.msg }

// maxDepth bounds nesting so hostile input cannot exhaust the stack.
const maxDepth = 200

// parser is a recursive-descent parser for the C# subset. Errors are raised
// with panic(*posErr) and recovered in parseProgram.
type parser struct {
	toks  []token
	i     int
	depth int
}

var keywords = map[string]bool{
	"if": true, "else": true, "for": true, "foreach": true, "while": true, "do": true, "return": true,
	"break": true, "continue": true, "throw": true, "try": true, "catch": true, "finally": true,
	"new": true, "true": true, "false": true, "null": true, "is": true, "as": true, "in": true,
	"out": true, "ref": true, "typeof": true, "default": true, "switch": true, "case": true,
	"this": true, "unchecked": true, "checked": true, "using": true, "static": true, "class": true,
}

// predefinedTypes are the C# type keywords.
var predefinedTypes = map[string]bool{
	"string": true, "int": true, "long": true, "bool": true, "double": true, "float": true, "decimal": true,
	"object": true, "byte": true, "char": true, "short": true, "uint": true, "ulong": true, "sbyte": true,
	"ushort": true, "dynamic": true, "void": true,
}

func (p *parser) fail(off int, format string, args ...any) {
	panic(&posErr{off: off, msg: fmt.Sprintf(format, args...)})
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) peekN(n int) token {
	if p.i+n < len(p.toks) {
		return p.toks[p.i+n]
	}
	return p.toks[len(p.toks)-1]
}
func (p *parser) advance() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

// is reports whether the current token is the punctuation or keyword s.
func (p *parser) is(s string) bool { return isTok(p.peek(), s) }

func isTok(t token, s string) bool {
	return (t.kind == tPunct || t.kind == tIdent) && t.text == s
}

func (p *parser) accept(s string) bool {
	if p.is(s) {
		p.i++
		return true
	}
	return false
}

func (p *parser) expect(s string) token {
	if !p.is(s) {
		p.fail(p.peek().off, "expected '%s' but found %s", s, describe(p.peek()))
	}
	return p.advance()
}

// describe names a token for error messages.
func describe(t token) string {
	switch t.kind {
	case tEOF:
		return "end of expression"
	case tString, tInterp:
		return "string literal"
	case tChar:
		return "character literal"
	case tInt, tLong, tDouble:
		return "number '" + t.text + "'"
	}
	return "'" + t.text + "'"
}

func (p *parser) ident() token {
	t := p.peek()
	if t.kind != tIdent || keywords[t.text] {
		p.fail(t.off, "expected identifier but found %s", describe(t))
	}
	return p.advance()
}

func (p *parser) enter() {
	p.depth++
	if p.depth > maxDepth {
		p.fail(p.peek().off, "expression nested too deeply")
	}
}
func (p *parser) leave() { p.depth-- }

// parseProgram parses "@(expr)" or "@{stmts}" (tokens start after '@').
// For a single expression it returns an exprSt; otherwise the block.
func parseProgram(toks []token) (root stmt, isBlock bool, err error) {
	p := &parser{toks: toks}
	defer func() {
		if r := recover(); r != nil {
			pe, ok := r.(*posErr)
			if !ok {
				panic(r)
			}
			err = pe
		}
	}()
	switch {
	case p.is("("):
		open := p.advance()
		x := p.parseExpr()
		p.expect(")")
		if p.peek().kind != tEOF {
			p.fail(p.peek().off, "unexpected %s after the expression", describe(p.peek()))
		}
		return &exprSt{p: open.off, x: x}, false, nil
	case p.is("{"):
		b := p.parseBlock()
		if p.peek().kind != tEOF {
			p.fail(p.peek().off, "unexpected %s after the block", describe(p.peek()))
		}
		return b, true, nil
	}
	p.fail(p.peek().off, "expected '(' or '{' after '@'")
	return nil, false, nil
}

// ---- types ----

// tryType parses a type at the current position; on failure it restores
// the position and returns nil.
func (p *parser) tryType(allowArray bool) *typeRef {
	save := p.i
	t := p.typeRef(allowArray)
	if t == nil {
		p.i = save
	}
	return t
}

func (p *parser) typeRef(allowArray bool) *typeRef {
	t0 := p.peek()
	if t0.kind != tIdent || (keywords[t0.text] && !predefinedTypes[t0.text]) {
		return nil
	}
	p.i++
	t := &typeRef{p: t0.off, name: t0.text}
	for p.is(".") && p.peekN(1).kind == tIdent && !keywords[p.peekN(1).text] {
		p.i++
		t.name += "." + p.advance().text
	}
	if p.is("<") {
		save := p.i
		p.i++
		ok := true
		for {
			a := p.typeRef(true)
			if a == nil {
				ok = false
				break
			}
			t.args = append(t.args, a)
			if p.accept(",") {
				continue
			}
			break
		}
		if !ok || !p.accept(">") {
			p.i = save
			return nil
		}
	}
	if p.is("?") {
		n := p.peekN(1)
		if isTok(n, ")") || isTok(n, ">") || isTok(n, ",") || isTok(n, "[") ||
			n.kind == tIdent && !keywords[n.text] && (isTok(p.peekN(2), "=") || isTok(p.peekN(2), ";") || isTok(p.peekN(2), ",") || isTok(p.peekN(2), "in")) {
			p.i++
			t.nullable = true
		}
	}
	for allowArray && p.is("[") && isTok(p.peekN(1), "]") {
		p.i += 2
		t.array++
	}
	return t
}

// ---- statements ----

func (p *parser) parseBlock() *blockSt {
	open := p.expect("{")
	b := &blockSt{p: open.off}
	for !p.is("}") {
		if p.peek().kind == tEOF {
			p.fail(p.peek().off, "expected '}' but found end of expression")
		}
		b.stmts = append(b.stmts, p.parseStatement())
	}
	p.advance()
	return b
}

func (p *parser) parseEmbedded() stmt {
	return p.parseStatement()
}

func (p *parser) parseStatement() stmt {
	p.enter()
	defer p.leave()
	t := p.peek()
	if t.kind == tPunct {
		switch t.text {
		case "{":
			return p.parseBlock()
		case ";":
			p.advance()
			return &blockSt{p: t.off}
		}
	}
	if t.kind == tIdent {
		switch t.text {
		case "if":
			p.advance()
			p.expect("(")
			c := p.parseExpr()
			p.expect(")")
			s := &ifSt{p: t.off, cond: c, then: p.parseEmbedded()}
			if p.accept("else") {
				s.els = p.parseEmbedded()
			}
			return s
		case "while":
			p.advance()
			p.expect("(")
			c := p.parseExpr()
			p.expect(")")
			return &whileSt{p: t.off, cond: c, body: p.parseEmbedded()}
		case "do":
			p.advance()
			body := p.parseEmbedded()
			p.expect("while")
			p.expect("(")
			c := p.parseExpr()
			p.expect(")")
			p.expect(";")
			return &whileSt{p: t.off, cond: c, body: body, do: true}
		case "for":
			p.advance()
			p.expect("(")
			s := &forSt{p: t.off}
			if !p.is(";") {
				if d := p.tryDecl(); d != nil {
					s.init = append(s.init, d)
				} else {
					for {
						x := p.parseExpr()
						s.init = append(s.init, &exprSt{p: x.pos(), x: x})
						if !p.accept(",") {
							break
						}
					}
				}
			}
			p.expect(";")
			if !p.is(";") {
				s.cond = p.parseExpr()
			}
			p.expect(";")
			if !p.is(")") {
				for {
					s.post = append(s.post, p.parseExpr())
					if !p.accept(",") {
						break
					}
				}
			}
			p.expect(")")
			s.body = p.parseEmbedded()
			return s
		case "foreach":
			p.advance()
			p.expect("(")
			s := &foreachSt{p: t.off}
			if p.is("var") {
				p.advance()
			} else {
				s.t = p.typeRef(true)
				if s.t == nil {
					p.fail(p.peek().off, "expected type but found %s", describe(p.peek()))
				}
			}
			s.name = p.ident().text
			p.expect("in")
			s.coll = p.parseExpr()
			p.expect(")")
			s.body = p.parseEmbedded()
			return s
		case "return":
			p.advance()
			s := &returnSt{p: t.off}
			if !p.is(";") {
				s.x = p.parseExpr()
			}
			p.expect(";")
			return s
		case "break":
			p.advance()
			p.expect(";")
			return &breakSt{p: t.off}
		case "continue":
			p.advance()
			p.expect(";")
			return &continueSt{p: t.off}
		case "throw":
			p.advance()
			s := &throwSt{p: t.off}
			if !p.is(";") {
				s.x = p.parseExpr()
			}
			p.expect(";")
			return s
		case "try":
			p.advance()
			s := &tryStmt{p: t.off, body: p.parseBlock()}
			for p.is("catch") {
				p.advance()
				var c catchClause
				if p.accept("(") {
					c.t = p.typeRef(false)
					if c.t == nil {
						p.fail(p.peek().off, "expected exception type but found %s", describe(p.peek()))
					}
					if !p.is(")") {
						c.name = p.ident().text
					}
					p.expect(")")
				}
				if p.is("when") {
					p.advance()
					p.expect("(")
					c.when = p.parseExpr()
					p.expect(")")
				}
				c.body = p.parseBlock()
				s.catches = append(s.catches, c)
			}
			if p.accept("finally") {
				s.finally = p.parseBlock()
			}
			if len(s.catches) == 0 && s.finally == nil {
				p.fail(p.peek().off, "expected 'catch' or 'finally' but found %s", describe(p.peek()))
			}
			return s
		case "unchecked", "checked":
			if isTok(p.peekN(1), "{") {
				p.advance()
				return p.parseBlock()
			}
		case "switch":
			return p.parseSwitch()
		case "const":
			// A constant local: a declaration whose variables cannot be
			// assigned.
			p.advance()
			d, ok := p.tryDecl().(*varSt)
			if !ok || d.t == nil {
				p.fail(p.peek().off, "expected a type and a name after 'const'")
			}
			d.readonly = true
			p.expect(";")
			return d
		case "using":
			return p.parseUsing()
		}
		if f := p.tryLocalFunc(); f != nil {
			return f
		}
		if d := p.tryDecl(); d != nil {
			p.expect(";")
			return d
		}
	}
	x := p.parseExpr()
	switch u := x.(type) {
	case *assignNode, *callNode, *postfixNode, *newNode:
	case *unaryNode:
		if u.op != "++" && u.op != "--" {
			p.fail(x.pos(), "only assignment, call, increment, decrement, and new object expressions can be used as a statement")
		}
	default:
		p.fail(x.pos(), "only assignment, call, increment, decrement, and new object expressions can be used as a statement")
	}
	p.expect(";")
	return &exprSt{p: x.pos(), x: x}
}

func (p *parser) parseSwitch() stmt {
	t := p.advance()
	p.expect("(")
	s := &switchSt{p: t.off, x: p.parseExpr()}
	p.expect(")")
	p.expect("{")
	for !p.accept("}") {
		var c switchCase
		for {
			if p.accept("case") {
				c.labels = append(c.labels, p.parseExpr())
				p.expect(":")
			} else if p.is("default") && isTok(p.peekN(1), ":") {
				p.i += 2
				c.hasDflt = true
			} else {
				break
			}
		}
		if len(c.labels) == 0 && !c.hasDflt {
			p.fail(p.peek().off, "expected 'case' or 'default' but found %s", describe(p.peek()))
		}
		for !p.is("case") && !p.is("}") && !(p.is("default") && isTok(p.peekN(1), ":")) {
			if p.peek().kind == tEOF {
				p.fail(p.peek().off, "expected '}' but found end of expression")
			}
			c.body = append(c.body, p.parseStatement())
		}
		s.cases = append(s.cases, c)
	}
	return s
}

// parseUsing parses `using (resource) statement` and the declaration
// form `using var x = e;` (in scope to the end of the block). The
// resources an expression can make (StringReader, XmlReader...) hold
// nothing to release, so disposal has nothing to do.
func (p *parser) parseUsing() stmt {
	t := p.advance()
	if !p.accept("(") {
		d := p.tryDecl()
		if d == nil {
			p.fail(p.peek().off, "expected '(' or a declaration after 'using'")
		}
		p.expect(";")
		return d
	}
	s := &usingSt{p: t.off}
	if d := p.tryDecl(); d != nil {
		s.decl = d
	} else {
		x := p.parseExpr()
		s.decl = &exprSt{p: x.pos(), x: x}
	}
	p.expect(")")
	s.body = p.parseEmbedded()
	return s
}

// tryLocalFunc parses a local function declaration (`static`, a return
// type or void, a name, typed parameters, a block or `=> e;`); nil
// (position restored) when the tokens are not one.
func (p *parser) tryLocalFunc() stmt {
	save := p.i
	start := p.peek()
	p.accept("static")
	var ret *typeRef
	if !p.accept("void") {
		if ret = p.tryType(true); ret == nil {
			p.i = save
			return nil
		}
	}
	n := p.peek()
	if n.kind != tIdent || keywords[n.text] || !isTok(p.peekN(1), "(") {
		p.i = save
		return nil
	}
	p.i += 2
	f := &funcSt{p: start.off, name: n.text, ret: ret}
	for !p.accept(")") {
		if len(f.params) > 0 {
			p.expect(",")
		}
		t := p.typeRef(true)
		if t == nil {
			p.fail(p.peek().off, "expected a parameter type but found %s", describe(p.peek()))
		}
		f.params = append(f.params, funcParam{t: t, name: p.ident().text})
	}
	if p.accept("=>") {
		f.expr = p.parseExpr()
		p.expect(";")
	} else {
		f.body = p.parseBlock()
	}
	return f
}

// tryDecl parses a local declaration (`var x = e`, `T x = e, y`) without the
// final ';'; nil (position restored) when the tokens are not a declaration.
func (p *parser) tryDecl() stmt {
	save := p.i
	start := p.peek()
	var t *typeRef
	if p.is("var") && p.peekN(1).kind == tIdent && !keywords[p.peekN(1).text] {
		p.advance()
	} else {
		t = p.tryType(true)
		if t == nil {
			return nil
		}
	}
	n := p.peek()
	if n.kind != tIdent || keywords[n.text] {
		p.i = save
		return nil
	}
	after := p.peekN(1)
	if !isTok(after, "=") && !isTok(after, ";") && !isTok(after, ",") {
		p.i = save
		return nil
	}
	d := &varSt{p: start.off, t: t}
	for {
		d.names = append(d.names, p.ident().text)
		var init node
		if p.accept("=") {
			init = p.parseVarInit(t)
		} else if t == nil {
			p.fail(p.peek().off, "implicitly-typed variables must be initialized")
		}
		d.inits = append(d.inits, init)
		if !p.accept(",") {
			break
		}
	}
	return d
}

// parseVarInit handles `T[] x = { ... }` array initializers as well as
// ordinary expressions.
func (p *parser) parseVarInit(t *typeRef) node {
	if p.is("{") && t != nil && t.array > 0 {
		open := p.peek()
		elem := *t
		elem.array--
		n := &newNode{p: open.off, t: &elem, isArray: true, hasInit: true}
		n.inits = p.parseInitializer(true)
		return n
	}
	return p.parseExpr()
}

// ---- expressions ----

func (p *parser) parseExpr() node {
	p.enter()
	defer p.leave()
	if l := p.tryLambda(); l != nil {
		return l
	}
	lhs := p.parseConditional()
	t := p.peek()
	if t.kind == tPunct {
		switch t.text {
		case "=", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "??=", "<<=":
			p.advance()
			rhs := p.parseExpr()
			switch lhs.(type) {
			case *identNode, *memberNode, *indexNode:
			default:
				p.fail(lhs.pos(), "the left-hand side of an assignment must be a variable, property or indexer")
			}
			return &assignNode{p: lhs.pos(), op: t.text, target: lhs, val: rhs}
		case ">":
			// x >>= y
			n := p.peekN(1)
			if isTok(n, ">=") && n.off == t.off+1 {
				p.i += 2
				rhs := p.parseExpr()
				return &assignNode{p: lhs.pos(), op: ">>=", target: lhs, val: rhs}
			}
		}
	}
	return lhs
}

// tryLambda parses `x => body` or `(a, b) => body` (optionally typed
// parameters).
func (p *parser) tryLambda() node {
	t := p.peek()
	if t.kind == tIdent && !keywords[t.text] && isTok(p.peekN(1), "=>") {
		p.i += 2
		return p.lambdaBody(t.off, []string{t.text})
	}
	if !p.is("(") {
		return nil
	}
	save := p.i
	p.i++
	var params []string
	for !p.is(")") {
		if p.peek().kind != tIdent {
			p.i = save
			return nil
		}
		// optional type
		if n := p.peekN(1); n.kind == tIdent || isTok(n, "<") || isTok(n, "[") || isTok(n, ".") {
			if p.tryType(true) == nil {
				p.i = save
				return nil
			}
		}
		if p.peek().kind != tIdent || keywords[p.peek().text] {
			p.i = save
			return nil
		}
		params = append(params, p.advance().text)
		if !p.accept(",") {
			break
		}
	}
	if !p.accept(")") || !p.is("=>") {
		p.i = save
		return nil
	}
	p.advance()
	return p.lambdaBody(t.off, params)
}

func (p *parser) lambdaBody(off int, params []string) node {
	l := &lambdaNode{p: off, params: params}
	if p.is("{") {
		l.block = p.parseBlock()
	} else {
		l.body = p.parseExpr()
	}
	return l
}

func (p *parser) parseConditional() node {
	c := p.parseCoalesce()
	if p.is("?") {
		q := p.advance()
		a := p.parseExpr()
		p.expect(":")
		b := p.parseExpr()
		return &condNode{p: q.off, c: c, a: a, b: b}
	}
	return c
}

func (p *parser) parseCoalesce() node {
	l := p.parseBinary(0)
	if p.is("??") {
		t := p.advance()
		r := p.parseCoalesce()
		return &binaryNode{p: t.off, op: "??", l: l, r: r}
	}
	return l
}

var binLevels = [][]string{
	{"||"},
	{"&&"},
	{"|"},
	{"^"},
	{"&"},
	{"==", "!="},
	{"<", ">", "<=", ">=", "is", "as"},
	{"<<", ">>"},
	{"+", "-"},
	{"*", "/", "%"},
}

// binOp returns the operator at the current position for the level, with
// the number of tokens it spans (">>" is two '>' tokens).
func (p *parser) binOp(level int) (string, int) {
	t := p.peek()
	if t.kind != tPunct && t.kind != tIdent {
		return "", 0
	}
	if t.text == ">" {
		n := p.peekN(1)
		if isTok(n, ">") && n.off == t.off+1 {
			if level == 7 && !(isTok(p.peekN(2), "=") && p.peekN(2).off == n.off+1) {
				return ">>", 2
			}
			return "", 0
		}
		if isTok(n, ">=") && n.off == t.off+1 {
			return "", 0 // >>=
		}
	}
	if t.kind == tIdent && t.text != "is" && t.text != "as" {
		return "", 0
	}
	for _, op := range binLevels[level] {
		if t.text == op {
			return op, 1
		}
	}
	return "", 0
}

func (p *parser) parseBinary(level int) node {
	if level == len(binLevels) {
		return p.parseUnary()
	}
	p.enter()
	defer p.leave()
	l := p.parseBinary(level + 1)
	for {
		op, n := p.binOp(level)
		if op == "" {
			return l
		}
		t := p.peek()
		p.i += n
		switch op {
		case "is":
			if p.accept("null") {
				l = &isNode{p: t.off, x: l, null: true}
				continue
			}
			neg := false
			if p.is("not") && isTok(p.peekN(1), "null") {
				p.i += 2
				l = &unaryNode{p: t.off, op: "!", x: &isNode{p: t.off, x: l, null: true}}
				_ = neg
				continue
			}
			ty := p.typeRef(true)
			if ty == nil {
				p.fail(p.peek().off, "expected type but found %s", describe(p.peek()))
			}
			in := &isNode{p: t.off, x: l, t: ty}
			if n := p.peek(); n.kind == tIdent && !keywords[n.text] {
				in.name = p.advance().text
			}
			l = in
		case "as":
			ty := p.typeRef(true)
			if ty == nil {
				p.fail(p.peek().off, "expected type but found %s", describe(p.peek()))
			}
			l = &asNode{p: t.off, x: l, t: ty}
		default:
			r := p.parseBinary(level + 1)
			l = &binaryNode{p: t.off, op: op, l: l, r: r}
		}
	}
}

// castFollower reports whether a token can start the operand of a cast to a
// non-keyword type: `(JObject)x` but not `(a) + b`.
func castFollower(t token) bool {
	switch t.kind {
	case tIdent:
		return !keywords[t.text] || t.text == "new" || t.text == "true" || t.text == "false" || t.text == "null" || t.text == "typeof" || t.text == "default" || t.text == "this"
	case tInt, tLong, tDouble, tString, tChar, tInterp:
		return true
	case tPunct:
		return t.text == "(" || t.text == "!" || t.text == "~"
	}
	return false
}

func (p *parser) parseUnary() node {
	p.enter()
	defer p.leave()
	t := p.peek()
	if t.kind == tPunct {
		switch t.text {
		case "!", "-", "+", "~":
			p.advance()
			x := p.parseUnary()
			if t.text == "-" {
				if lit, ok := x.(*litNode); ok {
					switch v := lit.v.(type) {
					case int64:
						if v == 1<<31 && !hasLongSuffix(p.toks, lit.p) {
							return &litNode{p: t.off, v: int32(-1 << 31)}
						}
						return &litNode{p: t.off, v: -v}
					case int32:
						return &litNode{p: t.off, v: -v}
					case float64:
						return &litNode{p: t.off, v: -v}
					}
				}
			}
			return &unaryNode{p: t.off, op: t.text, x: x}
		case "++", "--":
			p.advance()
			x := p.parseUnary()
			return &unaryNode{p: t.off, op: t.text, x: x}
		case "(":
			save := p.i
			p.i++
			if ty := p.tryType(true); ty != nil && p.is(")") {
				p.i++
				if predefinedTypes[ty.name] || ty.array > 0 || ty.nullable || castFollower(p.peek()) {
					x := p.parseUnary()
					return &castNode{p: t.off, t: ty, x: x}
				}
			}
			p.i = save
		}
	}
	return p.parsePostfix(p.parsePrimary())
}

func hasLongSuffix(toks []token, off int) bool {
	for _, t := range toks {
		if t.off == off {
			n := len(t.text)
			return n > 0 && (t.text[n-1] == 'L' || t.text[n-1] == 'l')
		}
	}
	return false
}

// genericArgs parses `<T, U>` when directly followed by '('; otherwise it
// restores the position and returns nil.
func (p *parser) genericArgs() []*typeRef {
	if !p.is("<") {
		return nil
	}
	save := p.i
	p.i++
	var args []*typeRef
	for {
		a := p.typeRef(true)
		if a == nil {
			p.i = save
			return nil
		}
		args = append(args, a)
		if !p.accept(",") {
			break
		}
	}
	if !p.accept(">") || !p.is("(") {
		p.i = save
		return nil
	}
	return args
}

func (p *parser) parsePrimary() node {
	t := p.peek()
	switch t.kind {
	case tInt, tLong, tDouble, tString, tChar:
		p.advance()
		return &litNode{p: t.off, v: t.val}
	case tInterp:
		p.advance()
		n := &interpNode{p: t.off}
		for _, part := range t.parts {
			if part.toks == nil {
				n.parts = append(n.parts, interpHole{lit: part.lit})
				continue
			}
			sub := &parser{toks: part.toks, depth: p.depth}
			if sub.peek().kind == tEOF {
				p.fail(part.off, "empty interpolation hole")
			}
			x := sub.parseExpr()
			if sub.peek().kind != tEOF {
				sub.fail(sub.peek().off, "unexpected %s in interpolation hole", describe(sub.peek()))
			}
			n.parts = append(n.parts, interpHole{x: x, align: part.align, format: part.format})
		}
		return n
	case tIdent:
		switch t.text {
		case "true", "false":
			p.advance()
			return &litNode{p: t.off, v: t.text == "true"}
		case "null":
			p.advance()
			return &litNode{p: t.off, v: nil}
		case "new":
			return p.parseNew()
		case "typeof":
			p.advance()
			p.expect("(")
			ty := p.typeRef(true)
			if ty == nil {
				p.fail(p.peek().off, "expected type but found %s", describe(p.peek()))
			}
			p.expect(")")
			return &typeofNode{p: t.off, t: ty}
		case "default":
			p.advance()
			if p.accept("(") {
				ty := p.typeRef(true)
				if ty == nil {
					p.fail(p.peek().off, "expected type but found %s", describe(p.peek()))
				}
				p.expect(")")
				return &defaultNode{p: t.off, t: ty}
			}
			return &litNode{p: t.off, v: nil}
		}
		if keywords[t.text] {
			p.fail(t.off, "unexpected %s", describe(t))
		}
		p.advance()
		if targs := p.genericArgs(); targs != nil {
			return &memberNode{p: t.off, name: t.text, targs: targs}
		}
		return &identNode{p: t.off, name: t.text}
	case tPunct:
		if t.text == "(" {
			p.advance()
			x := p.parseExpr()
			p.expect(")")
			return x
		}
	}
	p.fail(t.off, "unexpected %s", describe(t))
	return nil
}

func (p *parser) parsePostfix(x node) node {
	for {
		t := p.peek()
		if t.kind != tPunct {
			return x
		}
		switch t.text {
		case ".", "?.":
			p.advance()
			name := p.peek()
			if name.kind != tIdent {
				p.fail(name.off, "expected member name but found %s", describe(name))
			}
			p.advance()
			m := &memberNode{p: name.off, x: x, name: name.text, nullCond: t.text == "?."}
			m.targs = p.genericArgs()
			x = m
		case "?":
			n := p.peekN(1)
			if !isTok(n, "[") || n.off != t.off+1 {
				return x
			}
			p.i++
			x = p.parseIndex(x, true)
		case "[":
			x = p.parseIndex(x, false)
		case "(":
			switch x.(type) {
			case *identNode, *memberNode:
			default:
				p.fail(t.off, "expression is not callable")
			}
			args := p.parseArgs("(", ")")
			x = &callNode{p: x.pos(), fn: x, args: args}
		case "++", "--":
			p.advance()
			x = &postfixNode{p: t.off, op: t.text, x: x}
		default:
			return x
		}
	}
}

func (p *parser) parseIndex(x node, nullCond bool) node {
	open := p.expect("[")
	n := &indexNode{p: open.off, x: x, nullCond: nullCond}
	for {
		n.args = append(n.args, p.parseExpr())
		if !p.accept(",") {
			break
		}
	}
	p.expect("]")
	return n
}

func (p *parser) parseArgs(open, close string) []argNode {
	p.expect(open)
	var args []argNode
	if p.accept(close) {
		return nil
	}
	for {
		var a argNode
		if t := p.peek(); t.kind == tIdent && !keywords[t.text] && isTok(p.peekN(1), ":") {
			a.name = t.text
			p.i += 2
		}
		if p.accept("out") {
			a.out = true
			if p.is("var") && p.peekN(1).kind == tIdent {
				p.advance()
				a.outDecl = true
			} else if n := p.peekN(1); n.kind == tIdent && !keywords[n.text] || isTok(n, "<") || isTok(n, "[") {
				if p.tryType(true) != nil {
					a.outDecl = true
				}
			}
			id := p.ident()
			a.outName = id.text
			a.x = &identNode{p: id.off, name: id.text}
		} else {
			p.accept("ref")
			a.x = p.parseExpr()
		}
		args = append(args, a)
		if p.accept(close) {
			return args
		}
		p.expect(",")
	}
}

func (p *parser) parseNew() node {
	t := p.advance() // new
	n := &newNode{p: t.off}
	if p.is("[") {
		// new[] { ... }
		p.advance()
		p.expect("]")
		n.isArray = true
		n.hasInit = true
		n.inits = p.parseInitializer(true)
		return n
	}
	if p.is("{") {
		n.anon = true
		n.hasInit = true
		n.inits = p.parseInitializer(false)
		return n
	}
	ty := p.typeRef(false)
	if ty == nil {
		p.fail(p.peek().off, "expected type after 'new' but found %s", describe(p.peek()))
	}
	n.t = ty
	if p.is("[") {
		p.advance()
		n.isArray = true
		if !p.is("]") {
			n.arrayLen = p.parseExpr()
		}
		p.expect("]")
		for p.is("[") && isTok(p.peekN(1), "]") {
			p.i += 2
			n.t = &typeRef{p: ty.p, name: ty.name, args: ty.args, array: n.t.array + 1}
		}
		if p.is("{") {
			n.hasInit = true
			n.inits = p.parseInitializer(true)
		} else if n.arrayLen == nil {
			p.fail(p.peek().off, "array creation must have array size or array initializer")
		}
		return n
	}
	if p.is("(") {
		n.args = p.parseArgs("(", ")")
	}
	if p.is("{") {
		n.hasInit = true
		n.inits = p.parseInitializer(false)
	} else if !isTok(p.toks[p.i-1], ")") {
		p.fail(p.peek().off, "expected '(' but found %s", describe(p.peek()))
	}
	return n
}

// parseInitializer parses `{ ... }` after new.
func (p *parser) parseInitializer(array bool) []initElem {
	p.expect("{")
	var els []initElem
	for !p.accept("}") {
		var e initElem
		switch {
		case !array && p.peek().kind == tIdent && !keywords[p.peek().text] && isTok(p.peekN(1), "="):
			e.name = p.advance().text
			p.advance()
			e.value = p.parseExpr()
		case !array && p.is("["):
			p.advance()
			e.key = p.parseExpr()
			p.expect("]")
			p.expect("=")
			e.value = p.parseExpr()
		case !array && p.is("{"):
			p.advance()
			for !p.accept("}") {
				e.vals = append(e.vals, p.parseExpr())
				if !p.accept(",") {
					p.expect("}")
					break
				}
			}
		default:
			e.vals = []node{p.parseExpr()}
		}
		els = append(els, e)
		if !p.accept(",") {
			p.expect("}")
			break
		}
	}
	return els
}
