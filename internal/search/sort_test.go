package search

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func sorted(s Sort) string {
	recs := make([]*Record, 0, len(fixtures))
	label := map[*Record]string{}
	for _, fx := range fixtures {
		recs = append(recs, fx.rec)
		label[fx.rec] = fx.label
	}
	// Reversed input shows that the order comes from Compare, not from the
	// input.
	slices.Reverse(recs)
	slices.SortFunc(recs, func(a, b *Record) int { return s.Compare(a, b) })
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = label[r]
	}
	return strings.Join(out, " ")
}

func TestSortTable(t *testing.T) {
	for _, tc := range []struct {
		expr, want string
		pos        int
		msg        string
	}{
		// Byte order: "Gamma" < "It's" < "alpha" < "back\slash" < "beta" < "say".
		// c has no name; the two "alpha" sessions tie and the older comes first.
		{expr: `gameSessionName ASC`, want: "e d a g f b h c"},
		{expr: `gameSessionName DESC`, want: "h b f a g d e c"},
		{expr: `gameSessionName desc`, want: "h b f a g d e c"},
		// d, f and h lack mode; e's is empty, which is a value.
		{expr: `gameSessionProperties.mode ASC`, want: "e g a c b d f h"},
		{expr: `gameSessionProperties.mode DESC`, want: "b a c g e d f h"},
		{expr: `gameSessionProperties.level Asc`, want: "b a f c d e g h"},
		{expr: `gameSessionProperties.nosuch DESC`, want: "a b c d e f g h"},
		{expr: `maximumSessions DESC`, want: "d g a b f c e h"},
		{expr: `maximumSessions ASC`, want: "h e c f a b g d"},
		{expr: `playerSessionCount ASC`, want: "c h g e a f b d"},
		{expr: `  playerSessionCount   DESC  `, want: "d b f a e g c h"},
		{expr: `creationTimeMillis DESC`, want: "h g f e d c b a"},
		{expr: `creationTimeMillis ASC`, want: "a b c d e f g h"},
		{expr: `hasAvailablePlayerSessions DESC`, want: "a c d g b e f h"},
		{expr: `hasAvailablePlayerSessions ASC`, want: "b e f h a c d g"},
		{expr: `gameSessionId DESC`, want: "h g f e d c b a"},

		{expr: ``, pos: 1, msg: `expected an operand at position 1, found end of expression`},
		{expr: `maximumSessions`, pos: 16, msg: `expected ASC or DESC at position 16, found end of expression`},
		{expr: `maximumSessions UP`, pos: 17, msg: `expected ASC or DESC at position 17, found "UP"`},
		{expr: `maximumSessions ASC DESC`, pos: 21, msg: `expected end of expression at position 21, found "DESC"`},
		{expr: `maximumSessions ASC, playerSessionCount DESC`, pos: 20, msg: `found ","`},
		{expr: `MaximumSessions ASC`, pos: 1, msg: `did you mean maximumSessions?`},
		{expr: `ASC`, pos: 1, msg: `expected an operand at position 1, found "ASC"`},
		{expr: `maximumSessions = 1`, pos: 17, msg: `expected ASC or DESC at position 17, found "="`},
		{expr: `gameSessionName 'x'`, pos: 17, msg: `found "'x'"`},
		{expr: `gameSessionName 'x`, pos: 19, msg: `(the string at position 17 is not closed)`},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			s, err := ParseSort(tc.expr)
			if tc.pos == 0 {
				if err != nil {
					t.Fatalf("ParseSort: %v", err)
				}
				if got := sorted(s); got != tc.want {
					t.Errorf("order [%s]; want [%s]", got, tc.want)
				}
				again, err := ParseSort(s.String())
				if err != nil || again != s {
					t.Errorf("ParseSort(%q) = %v, %v; want %v", s.String(), again, err, s)
				}
				return
			}
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("got %v; want a SyntaxError at position %d", err, tc.pos)
			}
			if se.Pos != tc.pos || !strings.Contains(se.Msg, tc.msg) {
				t.Errorf("got position %d, %q; want position %d, message containing %q", se.Pos, se.Msg, tc.pos, tc.msg)
			}
		})
	}
}

// The zero Sort is the tiebreak alone: creation time, then id.
func TestSortTiebreak(t *testing.T) {
	if got := sorted(Sort{}); got != "a b c d e f g h" {
		t.Errorf("zero Sort: [%s]", got)
	}
	x := &Record{ID: "x", MaxPlayers: 5, CreatedMillis: 10}
	y := &Record{ID: "y", MaxPlayers: 5, CreatedMillis: 10}
	z := &Record{ID: "w", MaxPlayers: 5, CreatedMillis: 11}
	for _, expr := range []string{"maximumSessions ASC", "maximumSessions DESC", "gameSessionName ASC", "gameSessionName DESC"} {
		s, err := ParseSort(expr)
		if err != nil {
			t.Fatal(err)
		}
		list := []*Record{z, y, x}
		slices.SortFunc(list, func(a, b *Record) int { return s.Compare(a, b) })
		if list[0] != x || list[1] != y || list[2] != z {
			t.Errorf("%s: order %s %s %s; want x y w", expr, list[0].ID, list[1].ID, list[2].ID)
		}
		if s.Compare(x, x) != 0 || !s.Less(x, y) || s.Less(y, x) {
			t.Errorf("%s: Compare/Less disagree", expr)
		}
	}
}

func TestCompareDoesNotAllocate(t *testing.T) {
	s, err := ParseSort("gameSessionProperties.mode DESC")
	if err != nil {
		t.Fatal(err)
	}
	a, b := fixtures[0].rec, fixtures[2].rec
	if n := testing.AllocsPerRun(100, func() { s.Compare(a, b) }); n != 0 {
		t.Errorf("Compare allocates %v times per call", n)
	}
}
