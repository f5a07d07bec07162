package rawxml

import "fmt"

// logicalAt returns the logical character at c: a valid entity or character
// reference counts as the character it stands for, anything else (including
// an '&' that starts no valid reference, as in "a && b") is the raw rune.
// ref reports a reference; ok is false at the end of the input.
func (p *parser) logicalAt(c cursor) (r rune, next cursor, ref, ok bool) {
	r, next = p.runeAt(c)
	if r == eof {
		return 0, c, false, false
	}
	if r == '&' {
		if d, end, msg := p.refAt(c); msg == "" {
			return d, end, true, true
		}
	}
	return r, next, false, true
}

// frameKind is what the expression lexer is inside of.
type frameKind uint8

const (
	inCode           frameKind = iota // C# code inside brackets; closer ends it
	inHole                            // code in an interpolation hole: '}' ends it, ':' starts a format
	inInterp                          // literal part of $"..."
	inInterpVerbatim                  // literal part of $@"..." or @$"..."
)

type frame struct {
	kind   frameKind
	closer rune   // for inCode and inHole
	at     cursor // where the construct opened, for error messages
}

// exprLexer finds the end of one policy expression. It works on logical
// characters and appends every one it consumes, decoded, to the text.
type exprLexer struct {
	p  *parser
	tb *textBuilder
}

// peek returns the k-th logical character ahead (0 = under the cursor).
func (l *exprLexer) peek(k int) (rune, bool) {
	c := l.p.cur
	var r rune
	for range k + 1 {
		var ok bool
		if r, c, _, ok = l.p.logicalAt(c); !ok {
			return 0, false
		}
	}
	return r, true
}

func (l *exprLexer) is(k int, want rune) bool {
	r, ok := l.peek(k)
	return ok && r == want
}

// take consumes one logical character and appends it to the text.
func (l *exprLexer) take() rune {
	at := l.p.cur
	r, next, ref, ok := l.p.logicalAt(at)
	if !ok {
		return eof
	}
	if ref {
		l.tb.subst(r, at)
	} else {
		l.tb.raw(r, at)
	}
	l.p.cur = next
	return r
}

// expr reads a policy expression starting at the '@' under the cursor, up to
// and including the bracket that matches its opening "(" or "{". It keeps an
// explicit stack of brackets and interpolated strings rather than recursing,
// so pathological nesting cannot exhaust the goroutine stack.
func (p *parser) expr(tb *textBuilder) error {
	start := p.cur
	l := &exprLexer{p: p, tb: tb}
	l.take() // '@'
	outer := ')'
	if l.take() == '{' {
		outer = '}'
	}
	stack := []frame{{kind: inCode, closer: outer, at: start}}
	for len(stack) > 0 {
		at := p.cur
		r, ok := l.peek(0)
		if !ok {
			return l.unterminated(start, outer, stack, "")
		}
		top := stack[len(stack)-1]
		if top.kind == inInterp || top.kind == inInterpVerbatim {
			verbatim := top.kind == inInterpVerbatim
			switch {
			case r == '"':
				l.take()
				if verbatim && l.is(0, '"') { // "" is an escaped quote
					l.take()
				} else {
					stack = stack[:len(stack)-1]
				}
			case r == '\\' && !verbatim:
				l.take()
				if c, ok := l.peek(0); ok && c != '\n' {
					l.take()
				}
			case r == '{':
				l.take()
				if l.is(0, '{') { // {{ is an escaped brace
					l.take()
				} else {
					stack = append(stack, frame{kind: inHole, closer: '}', at: at})
				}
			case r == '\n' && !verbatim:
				// C# does not allow a newline here; end the string so one
				// typo does not swallow the rest of the document. The C#
				// compiler reports the real error later.
				stack = stack[:len(stack)-1]
			default:
				l.take()
			}
			continue
		}

		// Code (inside brackets or an interpolation hole).
		switch {
		case r == '"':
			l.take()
			if !l.quoted('"') {
				return l.unterminated(start, outer, stack, fmt.Sprintf("string literal at %s is not closed", at.pos()))
			}
		case r == '\'':
			l.take()
			if !l.quoted('\'') {
				return l.unterminated(start, outer, stack, fmt.Sprintf("character literal at %s is not closed", at.pos()))
			}
		case r == '@' && l.is(1, '"'):
			l.take()
			l.take()
			if !l.verbatim() {
				return l.unterminated(start, outer, stack, fmt.Sprintf("verbatim string at %s is not closed", at.pos()))
			}
		case r == '$' && l.is(1, '"'):
			l.take()
			l.take()
			stack = append(stack, frame{kind: inInterp, at: at})
		case (r == '$' && l.is(1, '@') || r == '@' && l.is(1, '$')) && l.is(2, '"'):
			l.take()
			l.take()
			l.take()
			stack = append(stack, frame{kind: inInterpVerbatim, at: at})
		case r == '/' && l.is(1, '/'):
			for c, ok := l.peek(0); ok && c != '\n'; c, ok = l.peek(0) {
				l.take()
			}
		case r == '/' && l.is(1, '*'):
			l.take()
			l.take()
			if !l.blockComment() {
				return l.unterminated(start, outer, stack, fmt.Sprintf("comment at %s is not closed", at.pos()))
			}
		case r == '(' || r == '[' || r == '{':
			l.take()
			stack = append(stack, frame{kind: inCode, closer: closerOf(r), at: at})
		case r == ')' || r == ']' || r == '}':
			if r != top.closer {
				return &Error{at.pos(), fmt.Sprintf("mismatched %q in expression: expected %q to close %s opened at %s",
					r, top.closer, openerOf(top, len(stack) == 1), top.at.pos())}
			}
			l.take()
			stack = stack[:len(stack)-1]
		case r == ':' && top.kind == inHole:
			// Format specifier, as in {DateTime.UtcNow:yyyy-MM-dd}: literal
			// text up to the closing brace.
			l.take()
			for c, ok := l.peek(0); ok && c != '}' && c != '"' && c != '\n'; c, ok = l.peek(0) {
				l.take()
			}
		default:
			l.take()
		}
	}
	return nil
}

// quoted consumes the rest of a regular string or char literal whose opening
// quote was just taken. It stops after the closing quote, or before a newline
// (C# forbids one there; stopping keeps a typo local and the C# compiler
// reports it later). It reports false only when the input ends first.
func (l *exprLexer) quoted(q rune) bool {
	for {
		r, ok := l.peek(0)
		switch {
		case !ok:
			return false
		case r == '\n':
			return true
		}
		l.take()
		switch r {
		case q:
			return true
		case '\\':
			if c, ok := l.peek(0); ok && c != '\n' {
				l.take()
			}
		}
	}
}

// verbatim consumes the rest of @"..." ("" is an escaped quote; newlines are
// allowed). It reports false when the input ends first.
func (l *exprLexer) verbatim() bool {
	for {
		r, ok := l.peek(0)
		if !ok {
			return false
		}
		l.take()
		if r == '"' {
			if !l.is(0, '"') {
				return true
			}
			l.take()
		}
	}
}

// blockComment consumes the rest of /* ... */; false when the input ends first.
func (l *exprLexer) blockComment() bool {
	for {
		r, ok := l.peek(0)
		if !ok {
			return false
		}
		l.take()
		if r == '*' && l.is(0, '/') {
			l.take()
			return true
		}
	}
}

// unterminated reports an expression that runs to the end of the input, at
// the '@' where it starts, with a hint at the innermost open construct.
func (l *exprLexer) unterminated(start cursor, outer rune, stack []frame, hint string) error {
	msg := fmt.Sprintf("unterminated expression: missing %q", outer)
	if hint == "" && len(stack) > 1 {
		f := stack[len(stack)-1]
		switch f.kind {
		case inInterp, inInterpVerbatim:
			hint = fmt.Sprintf("interpolated string at %s is not closed", f.at.pos())
		default:
			hint = fmt.Sprintf("%s at %s is not closed", openerOf(f, false), f.at.pos())
		}
	}
	if hint != "" {
		msg += "; " + hint
	}
	return &Error{start.pos(), msg}
}

func closerOf(open rune) rune {
	switch open {
	case '(':
		return ')'
	case '[':
		return ']'
	}
	return '}'
}

// openerOf names the bracket that opened f, for error messages; the
// outermost frame (kind inCode with the expression's '@' as its position) is
// named "@(" or "@{".
func openerOf(f frame, outermost bool) string {
	o := "{"
	switch f.closer {
	case ')':
		o = "("
	case ']':
		o = "["
	}
	if outermost {
		o = "@" + o
	}
	return "'" + o + "'"
}
