package search

import (
	"strconv"
	"strings"
)

// maxDepth bounds nesting (parentheses and NOT) so that a hostile input of
// any length cannot exhaust the stack. Each level costs at least one
// character, so no expression within GameLift's 1024-character limit hits it.
const maxDepth = 1024

// Filter is a compiled FilterExpression. The zero Filter matches every
// session. A Filter is immutable and safe for concurrent use.
type Filter struct {
	root *node
}

type nodeKind uint8

const (
	nCmp nodeKind = iota + 1
	nAnd
	nOr
	nNot
)

// node is one AST node: a comparison, or AND/OR (left, right) or NOT (left).
type node struct {
	kind        nodeKind
	left, right *node
	operand     operand
	op          comparator
	val         value
}

// value is a literal. Numbers keep their floor and whether a fraction was
// cut off, which is all an exact comparison with an integer needs.
type value struct {
	typ  valueType
	num  int64
	frac bool
	str  string // typeString: the string; typeNumber: canonical text
	b    bool
}

// ParseFilter compiles a FilterExpression.
func ParseFilter(src string) (Filter, error) {
	p := parser{lx: lexer{src: src}}
	if err := p.advance(); err != nil {
		return Filter{}, err
	}
	n, err := p.parseOr()
	if err != nil {
		return Filter{}, err
	}
	if p.tok.kind != tEOF {
		return Filter{}, p.expected("AND, OR or end of expression", "")
	}
	return Filter{root: n}, nil
}

// Match reports whether the session satisfies the filter.
func (f Filter) Match(s Session) bool {
	if f.root == nil {
		return true
	}
	return f.root.match(s)
}

// String prints the filter in canonical form (keywords upper case, single
// quotes, only the parentheses the tree needs). ParseFilter of the result
// yields the same filter.
func (f Filter) String() string {
	if f.root == nil {
		return ""
	}
	var b strings.Builder
	f.root.write(&b)
	return b.String()
}

type parser struct {
	lx    lexer
	tok   token // the lookahead
	depth int
}

func (p *parser) advance() error {
	t, err := p.lx.next()
	p.tok = t
	return err
}

func (p *parser) expected(what, hint string) error {
	return p.lx.expected(p.tok.off, what, describe(p.tok), hint)
}

// enter counts one level of nesting.
func (p *parser) enter() error {
	p.depth++
	if p.depth > maxDepth {
		return p.expected("at most 1024 levels of parentheses and NOT", "")
	}
	return nil
}

func (p *parser) parseOr() (*node, error) {
	left, err := p.parseAnd()
	if err != nil {
		return nil, err
	}
	for keyword(p.tok, "OR") {
		if err := p.advance(); err != nil {
			return nil, err
		}
		right, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		left = &node{kind: nOr, left: left, right: right}
	}
	return left, nil
}

func (p *parser) parseAnd() (*node, error) {
	left, err := p.parseNot()
	if err != nil {
		return nil, err
	}
	for keyword(p.tok, "AND") {
		if err := p.advance(); err != nil {
			return nil, err
		}
		right, err := p.parseNot()
		if err != nil {
			return nil, err
		}
		left = &node{kind: nAnd, left: left, right: right}
	}
	return left, nil
}

func (p *parser) parseNot() (*node, error) {
	if !keyword(p.tok, "NOT") {
		return p.parsePrimary()
	}
	if err := p.enter(); err != nil {
		return nil, err
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	x, err := p.parseNot()
	if err != nil {
		return nil, err
	}
	p.depth--
	return &node{kind: nNot, left: x}, nil
}

func (p *parser) parsePrimary() (*node, error) {
	if p.tok.kind != tLParen {
		return p.parseComparison()
	}
	if err := p.enter(); err != nil {
		return nil, err
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	x, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tRParen {
		return nil, p.expected(`AND, OR or ")"`, "")
	}
	p.depth--
	return x, p.advance()
}

func (p *parser) parseComparison() (*node, error) {
	o, err := p.lx.parseOperand(p.tok)
	if err != nil {
		return nil, err
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	if p.tok.kind != tCmp {
		hint := ""
		if p.tok.text == "!=" {
			hint = "not equal is <>"
		}
		return nil, p.expected("a comparator (=, <>, <, >, <= or >=)", hint)
	}
	op := p.tok.cmp
	typ := o.typ()
	if typ != typeNumber && op != cmpEq && op != cmpNe {
		return nil, p.expected("= or <>", o.String()+" is a "+typeName(typ)+", which compares only with = and <>")
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	v, err := p.parseValue(o, typ)
	if err != nil {
		return nil, err
	}
	return &node{kind: nCmp, operand: o, op: op, val: v}, p.advance()
}

func typeName(t valueType) string {
	switch t {
	case typeNumber:
		return "number"
	case typeBool:
		return "boolean"
	}
	return "string"
}

// parseValue reads the literal at the lookahead (without consuming it) and
// checks that it has the operand's type.
func (p *parser) parseValue(o operand, want valueType) (value, error) {
	var what, why string
	switch want {
	case typeNumber:
		what, why = "a number", o.String()+" is a number"
	case typeBool:
		what, why = "true or false", o.String()+" is a boolean"
	default:
		what, why = "a quoted string", o.String()+" is a string"
		if o.kind == opProperty {
			why = "game property values are strings, compared as strings"
		}
	}
	t := p.tok
	var v value
	switch {
	case t.kind == tString:
		v = value{typ: typeString, str: t.str}
	case t.kind == tNumber:
		var ok bool
		if v, ok = parseNumber(t.text); !ok {
			return value{}, p.expected("a number between -9223372036854775808 and 9223372036854775807", "")
		}
	case keyword(t, "TRUE"), keyword(t, "FALSE"):
		v = value{typ: typeBool, b: keyword(t, "TRUE")}
	case t.kind == tIdent && want == typeString:
		return value{}, p.expected(what, "put string values in quotes: '"+t.text+"'")
	default:
		return value{}, p.expected(what, "")
	}
	if v.typ != want {
		return value{}, p.expected(what, why)
	}
	return v, nil
}

// parseNumber reads a token of the form -?digits(.digits)? into its floor
// and whether a non-zero fraction was cut off. The canonical text drops
// leading zeros, trailing fraction zeros and the sign of zero, so that
// numbers that are equal print alike.
func parseNumber(text string) (value, bool) {
	neg := strings.HasPrefix(text, "-")
	text = strings.TrimPrefix(text, "-")
	intPart, fracPart, _ := strings.Cut(text, ".")
	intPart = strings.TrimLeft(intPart, "0")
	fracPart = strings.TrimRight(fracPart, "0")
	if intPart == "" {
		intPart = "0"
	}
	signed := intPart
	if neg {
		signed = "-" + intPart
	}
	n, err := strconv.ParseInt(signed, 10, 64)
	if err != nil {
		return value{}, false
	}
	v := value{typ: typeNumber, num: n, frac: fracPart != ""}
	canon := intPart
	if v.frac {
		canon += "." + fracPart
		if neg {
			// The floor of -1.5 is -2.
			if n == -1<<63 {
				return value{}, false
			}
			v.num--
		}
	}
	if neg && canon != "0" {
		canon = "-" + canon
	}
	v.str = canon
	return v, true
}

func (n *node) match(s Session) bool {
	switch n.kind {
	case nAnd:
		return n.left.match(s) && n.right.match(s)
	case nOr:
		return n.left.match(s) || n.right.match(s)
	case nNot:
		return !n.left.match(s)
	}
	switch n.operand.kind {
	case opGameSessionID:
		return n.op.holds(strings.Compare(s.GameSessionID(), n.val.str))
	case opGameSessionName:
		v, ok := s.GameSessionName()
		return ok && n.op.holds(strings.Compare(v, n.val.str))
	case opProperty:
		v, ok := s.GameSessionProperty(n.operand.key)
		return ok && n.op.holds(strings.Compare(v, n.val.str))
	case opMaximumSessions:
		return n.matchNumber(s.MaximumSessions())
	case opCreationTimeMillis:
		return n.matchNumber(s.CreationTimeMillis())
	case opPlayerSessionCount:
		return n.matchNumber(s.PlayerSessionCount())
	case opHasAvailablePlayerSessions:
		has := s.PlayerSessionCount() < s.MaximumSessions()
		return (has == n.val.b) == (n.op == cmpEq)
	}
	return false
}

// matchNumber compares x with the literal exactly. A literal with a fraction
// lies strictly between its floor and floor+1, where no integer is.
func (n *node) matchNumber(x int64) bool {
	if !n.val.frac {
		return n.op.holds(cmp3(x, n.val.num))
	}
	switch n.op {
	case cmpEq:
		return false
	case cmpNe:
		return true
	case cmpLt, cmpLe:
		return x <= n.val.num
	}
	return x > n.val.num // cmpGt, cmpGe
}

func cmp3(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// write prints n with the fewest parentheses that keep its shape: AND binds
// tighter than OR, both group to the left, and NOT takes a single operand.
func (n *node) write(b *strings.Builder) {
	switch n.kind {
	case nOr:
		n.left.write(b)
		b.WriteString(" OR ")
		n.right.writeParen(b, n.right.kind == nOr)
	case nAnd:
		n.left.writeParen(b, n.left.kind == nOr)
		b.WriteString(" AND ")
		n.right.writeParen(b, n.right.kind == nOr || n.right.kind == nAnd)
	case nNot:
		b.WriteString("NOT ")
		n.left.writeParen(b, n.left.kind == nOr || n.left.kind == nAnd)
	default:
		b.WriteString(n.operand.String())
		b.WriteByte(' ')
		b.WriteString(n.op.String())
		b.WriteByte(' ')
		n.val.write(b)
	}
}

func (n *node) writeParen(b *strings.Builder, paren bool) {
	if !paren {
		n.write(b)
		return
	}
	b.WriteByte('(')
	n.write(b)
	b.WriteByte(')')
}

func (v value) write(b *strings.Builder) {
	switch v.typ {
	case typeNumber:
		b.WriteString(v.str)
	case typeBool:
		b.WriteString(strconv.FormatBool(v.b))
	default:
		b.WriteByte('\'')
		for i := 0; i < len(v.str); i++ {
			if c := v.str[i]; c == '\'' || c == '\\' {
				b.WriteByte('\\')
			}
			b.WriteByte(v.str[i])
		}
		b.WriteByte('\'')
	}
}
