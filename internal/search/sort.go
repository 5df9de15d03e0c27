package search

import "strings"

// Sort is a compiled SortExpression. The zero Sort orders by the tiebreak
// alone: creationTimeMillis, then gameSessionId.
type Sort struct {
	operand operand
	desc    bool
}

// ParseSort compiles a SortExpression: an operand, then ASC or DESC.
func ParseSort(src string) (Sort, error) {
	p := parser{lx: lexer{src: src}}
	if err := p.advance(); err != nil {
		return Sort{}, err
	}
	o, err := p.lx.parseOperand(p.tok)
	if err != nil {
		return Sort{}, err
	}
	if err := p.advance(); err != nil {
		return Sort{}, err
	}
	var s Sort
	switch {
	case keyword(p.tok, "ASC"):
		s = Sort{operand: o}
	case keyword(p.tok, "DESC"):
		s = Sort{operand: o, desc: true}
	default:
		return Sort{}, p.expected("ASC or DESC", "")
	}
	if err := p.advance(); err != nil {
		return Sort{}, err
	}
	if p.tok.kind != tEOF {
		return Sort{}, p.expected("end of expression", "a sort expression has one operand and one direction")
	}
	return s, nil
}

// String prints the sort in canonical form ("maximumSessions DESC").
func (s Sort) String() string {
	if s.operand.kind == opNone {
		return ""
	}
	if s.desc {
		return s.operand.String() + " DESC"
	}
	return s.operand.String() + " ASC"
}

// Less reports whether a sorts before b.
func (s Sort) Less(a, b Session) bool { return s.Compare(a, b) < 0 }

// Compare orders a and b: -1 if a comes first, 1 if b does. Sessions that
// lack the value come last in either direction, and ties go to the older
// session, then to the lower gameSessionId, so only a session compares equal
// to itself.
func (s Sort) Compare(a, b Session) int {
	if c := s.compareKey(a, b); c != 0 {
		return c
	}
	if c := cmp3(a.CreationTimeMillis(), b.CreationTimeMillis()); c != 0 {
		return c
	}
	return strings.Compare(a.GameSessionID(), b.GameSessionID())
}

func (s Sort) compareKey(a, b Session) int {
	var c int
	switch s.operand.kind {
	case opNone:
		return 0
	case opGameSessionID:
		c = strings.Compare(a.GameSessionID(), b.GameSessionID())
	case opGameSessionName:
		av, aok := a.GameSessionName()
		bv, bok := b.GameSessionName()
		if !aok || !bok {
			return missingLast(aok, bok)
		}
		c = strings.Compare(av, bv)
	case opProperty:
		av, aok := a.GameSessionProperty(s.operand.key)
		bv, bok := b.GameSessionProperty(s.operand.key)
		if !aok || !bok {
			return missingLast(aok, bok)
		}
		c = strings.Compare(av, bv)
	case opMaximumSessions:
		c = cmp3(a.MaximumSessions(), b.MaximumSessions())
	case opCreationTimeMillis:
		c = cmp3(a.CreationTimeMillis(), b.CreationTimeMillis())
	case opPlayerSessionCount:
		c = cmp3(a.PlayerSessionCount(), b.PlayerSessionCount())
	case opHasAvailablePlayerSessions:
		c = cmpBool(a.PlayerSessionCount() < a.MaximumSessions(), b.PlayerSessionCount() < b.MaximumSessions())
	}
	if s.desc {
		return -c
	}
	return c
}

// missingLast orders a present value before a missing one, whatever the
// direction; two missing values tie.
func missingLast(aok, bok bool) int {
	switch {
	case aok && !bok:
		return -1
	case !aok && bok:
		return 1
	}
	return 0
}

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case b:
		return -1
	}
	return 1
}
