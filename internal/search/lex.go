package search

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// SyntaxError reports a malformed expression.
type SyntaxError struct {
	// Pos is the 1-based character (code point) position of the offending
	// token; one past the last character for an unexpected end.
	Pos int
	// Msg is the full message, position included.
	Msg string
}

func (e *SyntaxError) Error() string { return e.Msg }

type tokKind uint8

const (
	tEOF tokKind = iota
	tIdent
	tNumber
	tString
	tCmp
	tLParen
	tRParen
	tInvalid // a character that starts no token
)

type token struct {
	kind tokKind
	off  int    // byte offset of the token's first byte
	text string // the token as written, quotes included
	str  string // tString: the value, escapes resolved
	cmp  comparator
}

type lexer struct {
	src string
	off int
}

// pos turns a byte offset into the 1-based character position users see.
func (l *lexer) pos(off int) int { return utf8.RuneCountInString(l.src[:off]) + 1 }

// expected builds every SyntaxError, so that all messages read alike:
// expected <what> at position <n>, found <found> (<hint>).
func (l *lexer) expected(off int, what, found, hint string) *SyntaxError {
	p := l.pos(off)
	msg := fmt.Sprintf("expected %s at position %d, found %s", what, p, found)
	if hint != "" {
		msg += " (" + hint + ")"
	}
	return &SyntaxError{Pos: p, Msg: msg}
}

func isIdentStart(r rune) bool { return r == '_' || unicode.IsLetter(r) }

// isIdentPart includes "." (gameSessionProperties.<key>) and "-" (keys such
// as game-mode).
func isIdentPart(r rune) bool {
	return isIdentStart(r) || unicode.IsDigit(r) || r == '.' || r == '-'
}

func isDigit(b byte) bool { return '0' <= b && b <= '9' }

// next returns the next token. It fails only on a string without its closing
// quote or a number run into other characters.
func (l *lexer) next() (token, error) {
	for l.off < len(l.src) {
		r, n := utf8.DecodeRuneInString(l.src[l.off:])
		if !unicode.IsSpace(r) {
			break
		}
		l.off += n
	}
	start := l.off
	if start >= len(l.src) {
		return token{kind: tEOF, off: start}, nil
	}
	tok := func(k tokKind, end int) token {
		l.off = end
		return token{kind: k, off: start, text: l.src[start:end]}
	}
	c := l.src[start]
	switch {
	case c == '(':
		return tok(tLParen, start+1), nil
	case c == ')':
		return tok(tRParen, start+1), nil
	case c == '=':
		t := tok(tCmp, start+1)
		t.cmp = cmpEq
		return t, nil
	case c == '<' || c == '>':
		end, op := start+1, cmpLt
		if c == '>' {
			op = cmpGt
		}
		if end < len(l.src) {
			switch {
			case l.src[end] == '=':
				end++
				op++ // cmpLe follows cmpLt, cmpGe follows cmpGt
			case c == '<' && l.src[end] == '>':
				end, op = end+1, cmpNe
			}
		}
		t := tok(tCmp, end)
		t.cmp = op
		return t, nil
	case c == '\'' || c == '"':
		return l.lexString(c)
	case isDigit(c) || (c == '-' && start+1 < len(l.src) && isDigit(l.src[start+1])):
		return l.lexNumber()
	case c == '!' && start+1 < len(l.src) && l.src[start+1] == '=':
		// Kept as one token so that the error can show what was meant.
		return tok(tInvalid, start+2), nil
	}
	r, n := utf8.DecodeRuneInString(l.src[start:])
	if !isIdentStart(r) {
		return tok(tInvalid, start+n), nil
	}
	end := start + n
	for end < len(l.src) {
		r, n := utf8.DecodeRuneInString(l.src[end:])
		if !isIdentPart(r) {
			break
		}
		end += n
	}
	return tok(tIdent, end), nil
}

// lexString reads a quoted string. Quotes and backslashes are ASCII, which
// UTF-8 never uses inside a multi-byte character, so working on bytes keeps
// any text, even invalid UTF-8, exactly as given.
func (l *lexer) lexString(quote byte) (token, error) {
	start := l.off
	i := start + 1
	var b *strings.Builder // only for strings with escapes
	from := i
	for i < len(l.src) {
		switch l.src[i] {
		case '\\':
			if i+1 >= len(l.src) {
				i = len(l.src)
				continue
			}
			if b == nil {
				b = &strings.Builder{}
			}
			b.WriteString(l.src[from:i])
			b.WriteByte(l.src[i+1])
			i += 2
			from = i
			continue
		case quote:
			val := l.src[from:i]
			if b != nil {
				b.WriteString(val)
				val = b.String()
			}
			l.off = i + 1
			return token{kind: tString, off: start, text: l.src[start:l.off], str: val}, nil
		}
		i++
	}
	return token{}, l.expected(len(l.src), strconv.Quote(string(quote)), "end of expression",
		fmt.Sprintf("the string at position %d is not closed", l.pos(start)))
}

// lexNumber reads -?digits(.digits)?. A number run into letters, dots or
// more signs ("10AND", "1.2.3", "5.") is one malformed token rather than a
// number followed by something else.
func (l *lexer) lexNumber() (token, error) {
	start := l.off
	i := start
	if l.src[i] == '-' {
		i++
	}
	for i < len(l.src) && isDigit(l.src[i]) {
		i++
	}
	if i+1 < len(l.src) && l.src[i] == '.' && isDigit(l.src[i+1]) {
		i++
		for i < len(l.src) && isDigit(l.src[i]) {
			i++
		}
	}
	end := i
	for end < len(l.src) {
		r, n := utf8.DecodeRuneInString(l.src[end:])
		if !isIdentPart(r) {
			break
		}
		end += n
	}
	if end > i {
		return token{}, l.expected(start, "a number", describeText(l.src[start:end]), "")
	}
	l.off = end
	return token{kind: tNumber, off: start, text: l.src[start:end]}, nil
}

// describe names a token for an error message.
func describe(t token) string {
	if t.kind == tEOF {
		return "end of expression"
	}
	return describeText(t.text)
}

// describeText quotes source text, shortened so that a long string value
// does not swamp the message.
func describeText(s string) string {
	const max = 40
	if utf8.RuneCountInString(s) > max {
		n := 0
		for i := range s {
			if n == max {
				s = s[:i] + "..."
				break
			}
			n++
		}
	}
	return strconv.Quote(s)
}

// keyword reports whether t is the keyword kw (given in upper case). Only
// ASCII letters fold: strings.EqualFold would also accept "ſ" for "s" or the
// Kelvin sign for "k".
func keyword(t token, kw string) bool {
	if t.kind != tIdent || len(t.text) != len(kw) {
		return false
	}
	for i := 0; i < len(kw); i++ {
		c := t.text[i]
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		if c != kw[i] {
			return false
		}
	}
	return true
}
