package expr

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// tokKind classifies a token.
type tokKind int

const (
	tEOF tokKind = iota
	tIdent
	tInt    // int literal (val int32)
	tLong   // long literal (val int64)
	tDouble // double literal (val float64)
	tString // regular or verbatim string (val string)
	tChar   // char literal (val Char)
	tInterp // interpolated string (parts)
	tPunct  // operator or punctuation (text)
)

// token is one lexical token. off is the byte offset in the source given to
// the lexer's owner (the full expression text), used for error positions.
type token struct {
	kind  tokKind
	text  string // identifier name, punctuation, or source text of literals
	val   any
	off   int
	parts []interpPart // tInterp only
}

// interpPart is a piece of an interpolated string: either literal text or a
// hole {expr[,align][:format]}.
type interpPart struct {
	lit    string
	toks   []token // hole tokens, ending with tEOF; nil for literal parts
	align  int
	format string
	off    int
}

// puncts lists multi-character operators first; the lexer takes the longest
// match. '>' is always a single token so that nested generic arguments close
// correctly; the parser joins adjacent '>' '>' into a shift.
var puncts = []string{
	"??=", "<<=",
	"=>", "==", "!=", "<=", ">=", "&&", "||", "??", "?.", "++", "--", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "<<",
	"{", "}", "(", ")", "[", "]", ";", ",", ".", "+", "-", "*", "/", "%", "!", "~", "<", ">", "=", "?", ":", "&", "|", "^",
}

// lexer turns C# source into tokens.
type lexer struct {
	src  string // the text being lexed
	base int    // offset of src within the full expression
	pos  int
}

// lex tokenizes src; base is added to token offsets. The result always ends
// with a tEOF token.
func lex(src string, base int) ([]token, error) {
	l := &lexer{src: src, base: base}
	var toks []token
	for {
		t, err := l.next()
		if err != nil {
			return nil, err
		}
		toks = append(toks, t)
		if t.kind == tEOF {
			return toks, nil
		}
		if len(toks) > maxTokens {
			return nil, l.errAt(l.pos, "expression too long")
		}
	}
}

// maxTokens bounds the work done on hostile input.
const maxTokens = 200000

func (l *lexer) errAt(pos int, msg string) error {
	return &posErr{off: l.base + pos, msg: msg}
}

func (l *lexer) skipSpace() error {
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v':
			l.pos++
		case c == '/' && strings.HasPrefix(l.src[l.pos:], "//"):
			for l.pos < len(l.src) && l.src[l.pos] != '\n' {
				l.pos++
			}
		case c == '/' && strings.HasPrefix(l.src[l.pos:], "/*"):
			end := strings.Index(l.src[l.pos+2:], "*/")
			if end < 0 {
				return l.errAt(l.pos, "unterminated comment")
			}
			l.pos += end + 4
		case c >= 0x80:
			r, n := utf8.DecodeRuneInString(l.src[l.pos:])
			if r == '\uFEFF' || unicode.IsSpace(r) {
				l.pos += n
				continue
			}
			return nil
		default:
			return nil
		}
	}
	return nil
}

func isIdentStart(r rune) bool { return r == '_' || unicode.IsLetter(r) }
func isIdentPart(r rune) bool  { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }

func (l *lexer) next() (token, error) {
	if err := l.skipSpace(); err != nil {
		return token{}, err
	}
	start := l.pos
	if l.pos >= len(l.src) {
		return token{kind: tEOF, off: l.base + start}, nil
	}
	c := l.src[l.pos]
	rest := l.src[l.pos:]
	switch {
	case c == '"':
		s, err := l.regularString()
		return token{kind: tString, val: s, text: l.src[start:l.pos], off: l.base + start}, err
	case strings.HasPrefix(rest, `@"`):
		l.pos++
		s, err := l.verbatimString()
		return token{kind: tString, val: s, text: l.src[start:l.pos], off: l.base + start}, err
	case strings.HasPrefix(rest, `$"`), strings.HasPrefix(rest, `$@"`), strings.HasPrefix(rest, `@$"`):
		verbatim := rest[1] == '@' || rest[0] == '@'
		if verbatim {
			l.pos += 2
		} else {
			l.pos++
		}
		parts, err := l.interpolated(verbatim)
		return token{kind: tInterp, parts: parts, text: l.src[start:l.pos], off: l.base + start}, err
	case c == '\'':
		return l.charLit()
	case c >= '0' && c <= '9' || c == '.' && l.pos+1 < len(l.src) && isDigit(l.src[l.pos+1]):
		return l.number()
	case c == '@' && l.pos+1 < len(l.src):
		// verbatim identifier @name
		r, _ := utf8.DecodeRuneInString(l.src[l.pos+1:])
		if isIdentStart(r) {
			l.pos++
			t := l.ident()
			t.off = l.base + start
			return t, nil
		}
	}
	r, _ := utf8.DecodeRuneInString(rest)
	if isIdentStart(r) {
		return l.ident(), nil
	}
	for _, p := range puncts {
		if strings.HasPrefix(rest, p) {
			if p == "?." && len(rest) > 2 && isDigit(rest[2]) {
				continue // "a ?.5 : b" is a conditional
			}
			l.pos += len(p)
			return token{kind: tPunct, text: p, off: l.base + start}, nil
		}
	}
	return token{}, l.errAt(start, "unexpected character "+strconv.QuoteRune(r))
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func (l *lexer) ident() token {
	start := l.pos
	for l.pos < len(l.src) {
		r, n := utf8.DecodeRuneInString(l.src[l.pos:])
		if !isIdentPart(r) {
			break
		}
		l.pos += n
	}
	return token{kind: tIdent, text: l.src[start:l.pos], off: l.base + start}
}

func (l *lexer) number() (token, error) {
	start := l.pos
	s := l.src
	tok := func(k tokKind, v any) (token, error) {
		return token{kind: k, val: v, text: s[start:l.pos], off: l.base + start}, nil
	}
	if strings.HasPrefix(s[l.pos:], "0x") || strings.HasPrefix(s[l.pos:], "0X") {
		l.pos += 2
		ds := l.pos
		for l.pos < len(s) && (isHex(s[l.pos]) || s[l.pos] == '_') {
			l.pos++
		}
		digits := strings.ReplaceAll(s[ds:l.pos], "_", "")
		u, err := strconv.ParseUint(digits, 16, 64)
		if err != nil {
			return token{}, l.errAt(start, "invalid hex literal")
		}
		return l.intSuffix(start, u)
	}
	for l.pos < len(s) && (isDigit(s[l.pos]) || s[l.pos] == '_') {
		l.pos++
	}
	isReal := false
	if l.pos+1 < len(s) && s[l.pos] == '.' && isDigit(s[l.pos+1]) {
		isReal = true
		l.pos++
		for l.pos < len(s) && (isDigit(s[l.pos]) || s[l.pos] == '_') {
			l.pos++
		}
	}
	if l.pos < len(s) && (s[l.pos] == 'e' || s[l.pos] == 'E') {
		p := l.pos + 1
		if p < len(s) && (s[p] == '+' || s[p] == '-') {
			p++
		}
		if p < len(s) && isDigit(s[p]) {
			isReal = true
			l.pos = p
			for l.pos < len(s) && isDigit(s[l.pos]) {
				l.pos++
			}
		}
	}
	text := strings.ReplaceAll(s[start:l.pos], "_", "")
	if l.pos < len(s) {
		switch s[l.pos] {
		case 'd', 'D', 'f', 'F', 'm', 'M':
			l.pos++
			f, err := strconv.ParseFloat(text, 64)
			if err != nil {
				return token{}, l.errAt(start, "invalid number")
			}
			return tok(tDouble, f)
		}
	}
	if isReal {
		f, err := strconv.ParseFloat(text, 64)
		if err != nil {
			return token{}, l.errAt(start, "invalid number")
		}
		return tok(tDouble, f)
	}
	u, err := strconv.ParseUint(text, 10, 64)
	if err != nil {
		return token{}, l.errAt(start, "integral constant is too large")
	}
	return l.intSuffix(start, u)
}

func isHex(c byte) bool { return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

// intSuffix reads an optional L/U suffix and types the literal as C# does.
func (l *lexer) intSuffix(start int, u uint64) (token, error) {
	long := false
	for l.pos < len(l.src) && strings.IndexByte("lLuU", l.src[l.pos]) >= 0 {
		if l.src[l.pos] == 'l' || l.src[l.pos] == 'L' {
			long = true
		}
		l.pos++
	}
	text := l.src[start:l.pos]
	if !long && u <= 0x7fffffff {
		return token{kind: tInt, val: int32(u), text: text, off: l.base + start}, nil
	}
	if u > 1<<63 {
		return token{}, l.errAt(start, "integral constant is too large")
	}
	// 2147483648 (and 1<<63) are only valid after unary minus; the parser
	// negates; keep the bit pattern.
	return token{kind: tLong, val: int64(u), text: text, off: l.base + start}, nil
}

// escape reads one backslash escape (l.pos at the backslash) and returns the
// rune it denotes.
func (l *lexer) escape() (string, error) {
	start := l.pos
	l.pos++
	if l.pos >= len(l.src) {
		return "", l.errAt(start, "unterminated string literal")
	}
	c := l.src[l.pos]
	l.pos++
	switch c {
	case 'n':
		return "\n", nil
	case 't':
		return "\t", nil
	case 'r':
		return "\r", nil
	case '0':
		return "\x00", nil
	case 'a':
		return "\a", nil
	case 'b':
		return "\b", nil
	case 'f':
		return "\f", nil
	case 'v':
		return "\v", nil
	case '\\', '"', '\'':
		return string(c), nil
	case 'u', 'U', 'x':
		n := 4
		if c == 'U' {
			n = 8
		}
		ds := l.pos
		for l.pos < len(l.src) && l.pos-ds < n && isHex(l.src[l.pos]) {
			l.pos++
		}
		if l.pos == ds || (c != 'x' && l.pos-ds != n) {
			return "", l.errAt(start, "unrecognized escape sequence")
		}
		v, _ := strconv.ParseUint(l.src[ds:l.pos], 16, 32)
		return string(rune(v)), nil
	}
	return "", l.errAt(start, "unrecognized escape sequence '\\"+string(c)+"'")
}

func (l *lexer) regularString() (string, error) {
	start := l.pos
	l.pos++ // opening quote
	var b strings.Builder
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		switch c {
		case '"':
			l.pos++
			return b.String(), nil
		case '\\':
			s, err := l.escape()
			if err != nil {
				return "", err
			}
			b.WriteString(s)
		case '\n':
			return "", l.errAt(start, "newline in string literal")
		default:
			b.WriteByte(c)
			l.pos++
		}
	}
	return "", l.errAt(start, "unterminated string literal")
}

func (l *lexer) verbatimString() (string, error) {
	start := l.pos
	l.pos++ // opening quote
	var b strings.Builder
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		if c == '"' {
			if l.pos+1 < len(l.src) && l.src[l.pos+1] == '"' {
				b.WriteByte('"')
				l.pos += 2
				continue
			}
			l.pos++
			return b.String(), nil
		}
		b.WriteByte(c)
		l.pos++
	}
	return "", l.errAt(start, "unterminated string literal")
}

func (l *lexer) charLit() (token, error) {
	start := l.pos
	l.pos++
	if l.pos >= len(l.src) {
		return token{}, l.errAt(start, "unterminated character literal")
	}
	var r rune
	if l.src[l.pos] == '\\' {
		s, err := l.escape()
		if err != nil {
			return token{}, err
		}
		r, _ = utf8.DecodeRuneInString(s)
	} else {
		var n int
		r, n = utf8.DecodeRuneInString(l.src[l.pos:])
		if r == '\'' || r == '\n' {
			return token{}, l.errAt(start, "empty character literal")
		}
		l.pos += n
	}
	if l.pos >= len(l.src) || l.src[l.pos] != '\'' {
		return token{}, l.errAt(start, "too many characters in character literal")
	}
	l.pos++
	return token{kind: tChar, val: Char(r), text: l.src[start:l.pos], off: l.base + start}, nil
}

// interpolated lexes the body of $"..." (l.pos at the opening quote).
func (l *lexer) interpolated(verbatim bool) ([]interpPart, error) {
	start := l.pos
	l.pos++
	var parts []interpPart
	var b strings.Builder
	litStart := l.pos
	flush := func() {
		if b.Len() > 0 {
			parts = append(parts, interpPart{lit: b.String(), off: l.base + litStart})
			b.Reset()
		}
	}
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		switch {
		case c == '"':
			if verbatim && l.pos+1 < len(l.src) && l.src[l.pos+1] == '"' {
				b.WriteByte('"')
				l.pos += 2
				continue
			}
			l.pos++
			flush()
			return parts, nil
		case c == '\\' && !verbatim:
			s, err := l.escape()
			if err != nil {
				return nil, err
			}
			b.WriteString(s)
		case c == '{':
			if l.pos+1 < len(l.src) && l.src[l.pos+1] == '{' {
				b.WriteByte('{')
				l.pos += 2
				continue
			}
			flush()
			p, err := l.hole()
			if err != nil {
				return nil, err
			}
			parts = append(parts, p)
			litStart = l.pos
		case c == '}':
			if l.pos+1 < len(l.src) && l.src[l.pos+1] == '}' {
				b.WriteByte('}')
				l.pos += 2
				continue
			}
			return nil, l.errAt(l.pos, "unexpected '}' in interpolated string (use '}}')")
		case c == '\n' && !verbatim:
			return nil, l.errAt(start, "newline in interpolated string")
		default:
			b.WriteByte(c)
			l.pos++
		}
	}
	return nil, l.errAt(start, "unterminated interpolated string")
}

// hole lexes one {expr[,align][:format]} of an interpolated string (l.pos at
// '{'). The expression is tokenized with a sub-lexer so nested strings and
// brackets are handled by the real rules.
func (l *lexer) hole() (interpPart, error) {
	open := l.pos
	l.pos++
	sub := &lexer{src: l.src, base: l.base, pos: l.pos}
	var toks []token
	depth := 0
	for {
		t, err := sub.next()
		if err != nil {
			return interpPart{}, err
		}
		if t.kind == tEOF {
			return interpPart{}, l.errAt(open, "unterminated interpolation hole")
		}
		if t.kind == tPunct {
			switch t.text {
			case "(", "[", "{":
				depth++
			case ")", "]":
				depth--
			case "}":
				if depth == 0 {
					l.pos = sub.pos
					toks = append(toks, token{kind: tEOF, off: t.off})
					return interpPart{toks: toks, off: l.base + open}, nil
				}
				depth--
			case ",", ":":
				if depth == 0 {
					p := interpPart{off: l.base + open}
					p.toks = append(toks, token{kind: tEOF, off: t.off})
					if t.text == "," {
						// alignment: optional sign and digits, skipping spaces
						j := sub.pos
						for j < len(l.src) && l.src[j] == ' ' {
							j++
						}
						ds := j
						if j < len(l.src) && l.src[j] == '-' {
							j++
						}
						for j < len(l.src) && isDigit(l.src[j]) {
							j++
						}
						a, err := strconv.Atoi(l.src[ds:j])
						if err != nil || a > 1<<16 || a < -1<<16 {
							return interpPart{}, l.errAt(ds, "invalid interpolation alignment")
						}
						p.align = a
						for j < len(l.src) && l.src[j] == ' ' {
							j++
						}
						sub.pos = j
						if j < len(l.src) && l.src[j] == ':' {
							sub.pos++
						} else if j < len(l.src) && l.src[j] == '}' {
							l.pos = j + 1
							return p, nil
						} else {
							return interpPart{}, l.errAt(j, "expected '}' in interpolation hole")
						}
					}
					end := strings.IndexByte(l.src[sub.pos:], '}')
					if end < 0 {
						return interpPart{}, l.errAt(open, "unterminated interpolation hole")
					}
					p.format = l.src[sub.pos : sub.pos+end]
					l.pos = sub.pos + end + 1
					return p, nil
				}
			}
		}
		toks = append(toks, t)
		if len(toks) > maxTokens {
			return interpPart{}, l.errAt(open, "expression too long")
		}
	}
}
