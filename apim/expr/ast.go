package expr

// AST produced by the parser and consumed by the compiler. Every node keeps
// the byte offset of its first token for error positions.

type node interface{ pos() int }

type (
	// litNode is a constant: string, Char, int32, int64, float64, bool, nil.
	litNode struct {
		p int
		v any
	}
	identNode struct {
		p    int
		name string
	}
	// memberNode is x.name or x?.name; targs holds generic arguments of a
	// method name (x.As<JObject>).
	memberNode struct {
		p        int
		x        node
		name     string
		nullCond bool
		targs    []*typeRef
	}
	callNode struct {
		p    int
		fn   node // identNode or memberNode
		args []argNode
	}
	indexNode struct {
		p        int
		x        node
		args     []node
		nullCond bool
	}
	unaryNode struct {
		p  int
		op string // "!", "-", "+", "~", "++", "--" (prefix)
		x  node
	}
	postfixNode struct {
		p  int
		op string // "++" or "--"
		x  node
	}
	binaryNode struct {
		p    int
		op   string
		l, r node
	}
	condNode struct {
		p       int
		c, a, b node
	}
	assignNode struct {
		p      int
		op     string // "=", "+=", ...
		target node
		val    node
	}
	castNode struct {
		p int
		t *typeRef
		x node
	}
	isNode struct {
		p    int
		x    node
		t    *typeRef
		name string // `x is T name` pattern variable, or ""
		null bool   // `x is null`
	}
	asNode struct {
		p int
		x node
		t *typeRef
	}
	// newNode is `new T(args) { init }`, `new T[n]`, `new T[] {..}`, `new[] {..}`.
	newNode struct {
		p        int
		t        *typeRef // nil for new[] / anonymous types
		args     []argNode
		isArray  bool
		arrayLen node
		inits    []initElem
		hasInit  bool
		anon     bool // new { a = 1 }
	}
	lambdaNode struct {
		p      int
		params []string
		body   node     // expression body
		block  *blockSt // or block body
	}
	interpNode struct {
		p     int
		parts []interpHole
	}
	typeofNode struct {
		p int
		t *typeRef
	}
	defaultNode struct {
		p int
		t *typeRef
	}
)

// interpHole is a compiled-to-AST interpolation part.
type interpHole struct {
	lit    string
	x      node // nil for literal text
	align  int
	format string
}

// initElem is one element of an object or collection initializer:
// Name = value, [key] = value, { a, b } or a plain value.
type initElem struct {
	name  string // property initializer
	key   node   // index initializer
	vals  []node // collection element (Add args)
	value node
}

// argNode is a call argument.
type argNode struct {
	name    string // named argument (preserveContent: true)
	out     bool
	outDecl bool // out var x / out T x
	outName string
	x       node
}

// typeRef is a parsed type name.
type typeRef struct {
	p        int
	name     string // dotted, as written
	args     []*typeRef
	array    int // number of [] suffixes
	nullable bool
}

func (n *litNode) pos() int     { return n.p }
func (n *identNode) pos() int   { return n.p }
func (n *memberNode) pos() int  { return n.p }
func (n *callNode) pos() int    { return n.p }
func (n *indexNode) pos() int   { return n.p }
func (n *unaryNode) pos() int   { return n.p }
func (n *postfixNode) pos() int { return n.p }
func (n *binaryNode) pos() int  { return n.p }
func (n *condNode) pos() int    { return n.p }
func (n *assignNode) pos() int  { return n.p }
func (n *castNode) pos() int    { return n.p }
func (n *isNode) pos() int      { return n.p }
func (n *asNode) pos() int      { return n.p }
func (n *newNode) pos() int     { return n.p }
func (n *lambdaNode) pos() int  { return n.p }
func (n *interpNode) pos() int  { return n.p }
func (n *typeofNode) pos() int  { return n.p }
func (n *defaultNode) pos() int { return n.p }

// Statements.
type stmt interface{ pos() int }

type (
	blockSt struct {
		p     int
		stmts []stmt
	}
	varSt struct {
		p        int
		t        *typeRef // nil for var
		names    []string
		inits    []node // nil entries when not initialized
		readonly bool   // const
	}
	exprSt struct {
		p int
		x node
	}
	ifSt struct {
		p    int
		cond node
		then stmt
		els  stmt
	}
	foreachSt struct {
		p    int
		t    *typeRef
		name string
		coll node
		body stmt
	}
	forSt struct {
		p    int
		init []stmt
		cond node
		post []node
		body stmt
	}
	whileSt struct {
		p    int
		cond node
		body stmt
		do   bool
	}
	returnSt struct {
		p int
		x node
	}
	breakSt    struct{ p int }
	continueSt struct{ p int }
	throwSt    struct {
		p int
		x node // nil: rethrow
	}
	tryStmt struct {
		p       int
		body    *blockSt
		catches []catchClause
		finally *blockSt
	}
	switchSt struct {
		p     int
		x     node
		cases []switchCase
	}
	// funcSt is a local function: `T Name(T1 a, T2 b) { ... }` or
	// `=> expr;` (ret nil: void).
	funcSt struct {
		p      int
		name   string
		ret    *typeRef
		params []funcParam
		body   *blockSt
		expr   node
	}
	// usingSt is `using (resource) body`: the resource (a declaration or
	// an expression) is in scope in body.
	usingSt struct {
		p    int
		decl stmt
		body stmt
	}
)

// funcParam is a local function's parameter.
type funcParam struct {
	t    *typeRef
	name string
}

type catchClause struct {
	t    *typeRef
	name string
	when node
	body *blockSt
}

type switchCase struct {
	labels  []node // nil entry = default
	body    []stmt
	hasDflt bool
}

func (s *blockSt) pos() int    { return s.p }
func (s *varSt) pos() int      { return s.p }
func (s *exprSt) pos() int     { return s.p }
func (s *ifSt) pos() int       { return s.p }
func (s *foreachSt) pos() int  { return s.p }
func (s *forSt) pos() int      { return s.p }
func (s *whileSt) pos() int    { return s.p }
func (s *returnSt) pos() int   { return s.p }
func (s *breakSt) pos() int    { return s.p }
func (s *continueSt) pos() int { return s.p }
func (s *throwSt) pos() int    { return s.p }
func (s *tryStmt) pos() int    { return s.p }
func (s *switchSt) pos() int   { return s.p }
func (s *funcSt) pos() int     { return s.p }
func (s *usingSt) pos() int    { return s.p }
