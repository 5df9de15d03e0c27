package search

import (
	"strings"
)

type operandKind uint8

const (
	opNone operandKind = iota
	opGameSessionID
	opGameSessionName
	opProperty
	opMaximumSessions
	opCreationTimeMillis
	opPlayerSessionCount
	opHasAvailablePlayerSessions
)

// operandNames is indexed by operandKind; opProperty's entry is the prefix.
var operandNames = [...]string{
	opGameSessionID:              "gameSessionId",
	opGameSessionName:            "gameSessionName",
	opProperty:                   "gameSessionProperties",
	opMaximumSessions:            "maximumSessions",
	opCreationTimeMillis:         "creationTimeMillis",
	opPlayerSessionCount:         "playerSessionCount",
	opHasAvailablePlayerSessions: "hasAvailablePlayerSessions",
}

const operandList = "gameSessionId, gameSessionName, gameSessionProperties.<key>, maximumSessions, creationTimeMillis, playerSessionCount or hasAvailablePlayerSessions"

type valueType uint8

const (
	typeString valueType = iota + 1
	typeNumber
	typeBool
)

type operand struct {
	kind operandKind
	key  string // opProperty only
}

func (o operand) String() string {
	if o.kind == opProperty {
		return operandNames[opProperty] + "." + o.key
	}
	return operandNames[o.kind]
}

func (o operand) typ() valueType {
	switch o.kind {
	case opMaximumSessions, opCreationTimeMillis, opPlayerSessionCount:
		return typeNumber
	case opHasAvailablePlayerSessions:
		return typeBool
	}
	return typeString
}

// parseOperand turns an identifier token into an operand.
func (l *lexer) parseOperand(t token) (operand, error) {
	if t.kind != tIdent || keyword(t, "AND") || keyword(t, "OR") || keyword(t, "NOT") {
		return operand{}, l.expected(t.off, "an operand", describe(t), "")
	}
	prefix := operandNames[opProperty] + "."
	if t.text == operandNames[opProperty] {
		return operand{}, l.expected(t.off, "gameSessionProperties.<key>", describe(t), "")
	}
	if key, ok := strings.CutPrefix(t.text, prefix); ok {
		if key == "" || strings.Contains(key, ".") {
			return operand{}, l.expected(t.off, "gameSessionProperties.<key>", describe(t),
				"a game property key is not empty and has no \".\"")
		}
		return operand{kind: opProperty, key: key}, nil
	}
	for k, name := range operandNames {
		if operandKind(k) != opProperty && operandKind(k) != opNone && t.text == name {
			return operand{kind: operandKind(k)}, nil
		}
	}
	return operand{}, l.expected(t.off, "an operand", describe(t), operandHint(t.text))
}

// operandHint helps with the most likely slip, a wrong letter case.
func operandHint(s string) string {
	for k, name := range operandNames {
		switch {
		case operandKind(k) == opNone:
		case operandKind(k) == opProperty:
			if len(s) > len(name)+1 && strings.EqualFold(s[:len(name)+1], name+".") {
				return "operands are case-sensitive: did you mean " + name + "." + s[len(name)+1:] + "?"
			}
		case strings.EqualFold(s, name):
			return "operands are case-sensitive: did you mean " + name + "?"
		}
	}
	return "one of " + operandList
}

type comparator uint8

// cmpLe and cmpGe must directly follow cmpLt and cmpGt: the lexer relies on it.
const (
	cmpEq comparator = iota + 1
	cmpNe
	cmpLt
	cmpLe
	cmpGt
	cmpGe
)

var comparatorText = [...]string{cmpEq: "=", cmpNe: "<>", cmpLt: "<", cmpLe: "<=", cmpGt: ">", cmpGe: ">="}

func (c comparator) String() string { return comparatorText[c] }

// holds applies the comparator to the result of a three-way comparison.
func (c comparator) holds(r int) bool {
	switch c {
	case cmpEq:
		return r == 0
	case cmpNe:
		return r != 0
	case cmpLt:
		return r < 0
	case cmpLe:
		return r <= 0
	case cmpGt:
		return r > 0
	case cmpGe:
		return r >= 0
	}
	return false
}
