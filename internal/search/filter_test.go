package search

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// The fixed sessions every expression runs against, named a to h. They cover
// a missing name, missing and empty properties, full and empty sessions, a
// zero maximum, and names with quotes and backslashes.
var fixtures = []struct {
	label string
	rec   *Record
}{
	{"a", &Record{ID: arn("a"), Name: "alpha", Properties: map[string]string{"mode": "brawl", "level": "5"}, MaxPlayers: 10, CreatedMillis: 1000, Players: 3}},
	{"b", &Record{ID: arn("b"), Name: "beta", Properties: map[string]string{"mode": "ctf", "level": "10"}, MaxPlayers: 10, CreatedMillis: 2000, Players: 10}},
	{"c", &Record{ID: arn("c"), Properties: map[string]string{"mode": "brawl"}, MaxPlayers: 4, CreatedMillis: 3000, Players: 0}},
	{"d", &Record{ID: arn("d"), Name: "It's", Properties: map[string]string{}, MaxPlayers: 200, CreatedMillis: 4000, Players: 199}},
	{"e", &Record{ID: arn("e"), Name: "Gamma", Properties: map[string]string{"mode": "", "region": "eu-west"}, MaxPlayers: 2, CreatedMillis: 5000, Players: 2}},
	{"f", &Record{ID: arn("f"), Name: `back\slash`, Properties: map[string]string{"game-mode": "duel", "level": "5"}, MaxPlayers: 8, CreatedMillis: 6000, Players: 8}},
	{"g", &Record{ID: arn("g"), Name: "alpha", Properties: map[string]string{"mode": "Brawl"}, MaxPlayers: 16, CreatedMillis: 7000, Players: 1}},
	{"h", &Record{ID: arn("h"), Name: `say "hi"`, MaxPlayers: 0, CreatedMillis: 8000, Players: 0}},
}

func arn(label string) string {
	return "arn:aws:gamelift:us-west-2::gamesession/fleet-1/gsess-" + label
}

// filterCase is one expression and either the labels of the sessions it
// matches (in fixture order, space-separated) or the exact error position
// and a piece of the message.
type filterCase struct {
	expr string
	want string
	pos  int
	msg  string
}

var filterCases = []filterCase{
	// Strings: = and <>, case, quoting and escapes.
	{expr: `gameSessionName = 'alpha'`, want: "a g"},
	{expr: `gameSessionName<>'alpha'`, want: "b d e f h"}, // c has no name
	{expr: `gameSessionName = 'ALPHA'`, want: ""},
	{expr: `gameSessionName = 'It\'s'`, want: "d"},
	{expr: `gameSessionName = "It's"`, want: "d"},
	{expr: `gameSessionName = "say \"hi\""`, want: "h"},
	{expr: `gameSessionName = 'say "hi"'`, want: "h"},
	{expr: `gameSessionName = 'back\\slash'`, want: "f"},
	{expr: `gameSessionName = 'b\ack\\sl\ash'`, want: "f"}, // \a is a plain a
	{expr: `gameSessionName = ''`, want: ""},
	{expr: `gameSessionId = '` + arn("c") + `'`, want: "c"},
	{expr: `gameSessionId <> '` + arn("c") + `'`, want: "a b d e f g h"},
	{expr: `gameSessionId = 'gsess-c'`, want: ""}, // the full ARN only

	// Numbers: every comparator, leading zeros, fractions, negatives.
	{expr: `maximumSessions = 10`, want: "a b"},
	{expr: `maximumSessions <> 10`, want: "c d e f g h"},
	{expr: `maximumSessions < 8`, want: "c e h"},
	{expr: `maximumSessions <= 8`, want: "c e f h"},
	{expr: `maximumSessions > 10`, want: "d g"},
	{expr: `maximumSessions >= 10`, want: "a b d g"},
	{expr: `maximumSessions=010`, want: "a b"},
	{expr: `maximumSessions = 10.00`, want: "a b"},
	{expr: `playerSessionCount = 0`, want: "c h"},
	{expr: `playerSessionCount < 2.5`, want: "c e g h"},
	{expr: `playerSessionCount <= 2.5`, want: "c e g h"},
	{expr: `playerSessionCount > 2.5`, want: "a b d f"},
	{expr: `playerSessionCount >= 2.5`, want: "a b d f"},
	{expr: `playerSessionCount = 2.5`, want: ""},
	{expr: `playerSessionCount <> 2.5`, want: "a b c d e f g h"},
	{expr: `playerSessionCount >= -0.5`, want: "a b c d e f g h"},
	{expr: `playerSessionCount <= -0.5`, want: ""},
	{expr: `playerSessionCount > -1`, want: "a b c d e f g h"},
	{expr: `creationTimeMillis >= 4000 AND creationTimeMillis < 7000`, want: "d e f"},
	{expr: `creationTimeMillis = 8000`, want: "h"},

	// Booleans.
	{expr: `hasAvailablePlayerSessions = true`, want: "a c d g"},
	{expr: `hasAvailablePlayerSessions <> true`, want: "b e f h"},
	{expr: `hasAvailablePlayerSessions = FALSE`, want: "b e f h"},
	{expr: `hasAvailablePlayerSessions<>False`, want: "a c d g"},
	{expr: `maximumSessions>=10 AND hasAvailablePlayerSessions=true`, want: "a d g"}, // GameLift's doc example

	// Game properties: always strings; missing values fail every comparison.
	{expr: `gameSessionProperties.mode = 'brawl'`, want: "a c"},
	{expr: `gameSessionProperties.mode = "brawl"`, want: "a c"},
	{expr: `gameSessionProperties.mode <> 'brawl'`, want: "b e g"},
	{expr: `NOT gameSessionProperties.mode = 'brawl'`, want: "b d e f g h"},
	{expr: `gameSessionProperties.mode = ''`, want: "e"},
	{expr: `gameSessionProperties.game-mode = 'duel'`, want: "f"},
	{expr: `gameSessionProperties.level = '5'`, want: "a f"},
	{expr: `gameSessionProperties.nosuch <> 'x'`, want: ""},
	{expr: `NOT gameSessionProperties.nosuch = 'x'`, want: "a b c d e f g h"},

	// Precedence and associativity.
	{expr: `NOT gameSessionName = 'alpha' AND maximumSessions = 10`, want: "b"},
	{expr: `NOT (gameSessionName = 'alpha' AND maximumSessions = 10)`, want: "b c d e f g h"},
	{expr: `maximumSessions = 2 OR maximumSessions = 10 AND playerSessionCount = 10`, want: "b e"},
	{expr: `(maximumSessions = 2 OR maximumSessions = 10) AND playerSessionCount = 10`, want: "b"},
	{expr: `gameSessionName = 'beta' OR gameSessionName = 'alpha' AND maximumSessions = 16`, want: "b g"},
	{expr: `maximumSessions = 10 AND playerSessionCount = 3 OR maximumSessions = 2 AND playerSessionCount = 2`, want: "a e"},
	{expr: `((maximumSessions = 10))`, want: "a b"},
	{expr: `NOT NOT maximumSessions = 10`, want: "a b"},
	{expr: `NOT (NOT (maximumSessions = 10 OR maximumSessions = 2))`, want: "a b e"},
	{expr: `gameSessionName = 'alpha' AND (NOT gameSessionProperties.mode = 'Brawl' OR playerSessionCount > 100)`, want: "a"},
	{expr: `(gameSessionProperties.mode = 'brawl' OR (gameSessionProperties.mode = 'ctf' OR gameSessionProperties.mode = 'Brawl')) AND hasAvailablePlayerSessions = true`, want: "a c g"},
	{expr: `maximumSessions = 10 AND (playerSessionCount = 3 AND gameSessionName = 'alpha')`, want: "a"},

	// Keywords in any case, whitespace anywhere or nowhere.
	{expr: `maximumSessions = 10 and playerSessionCount < 5 or gameSessionName = 'Gamma'`, want: "a e"},
	{expr: `Not(maximumSessions>=10)AnD(playerSessionCount=0)`, want: "c h"},
	{expr: "\tmaximumSessions\n=\r\n10 ", want: "a b"},
	{expr: `(maximumSessions=2)OR(maximumSessions=0)`, want: "e h"},

	// Errors, with the exact (1-based, character) position.
	{expr: ``, pos: 1, msg: `expected an operand at position 1, found end of expression`},
	{expr: `   `, pos: 4, msg: `expected an operand at position 4, found end of expression`},
	{expr: `gameSessionName`, pos: 16, msg: `expected a comparator (=, <>, <, >, <= or >=) at position 16, found end of expression`},
	{expr: `maximumSessions = 10 AND playerSessionCount AND x = 1`, pos: 45, msg: `expected a comparator (=, <>, <, >, <= or >=) at position 45, found "AND"`},
	{expr: `maximumSessions >= 10 AND`, pos: 26, msg: `expected an operand at position 26, found end of expression`},
	{expr: `gameSessionName = alpha`, pos: 19, msg: `expected a quoted string at position 19, found "alpha" (put string values in quotes: 'alpha')`},
	{expr: `gameSessionName = 'alpha`, pos: 25, msg: `expected "'" at position 25, found end of expression (the string at position 19 is not closed)`},
	{expr: `gameSessionName = 'x\`, pos: 22, msg: `(the string at position 19 is not closed)`},
	{expr: `gameSessionName = "x'`, pos: 22, msg: `expected "\"" at position 22`},
	{expr: `gameSessionName > 'alpha'`, pos: 17, msg: `expected = or <> at position 17, found ">" (gameSessionName is a string, which compares only with = and <>)`},
	{expr: `gameSessionId <= 'x'`, pos: 15, msg: `expected = or <>`},
	{expr: `maximumSessions = 'ten'`, pos: 19, msg: `expected a number at position 19, found "'ten'" (maximumSessions is a number)`},
	{expr: `creationTimeMillis > true`, pos: 22, msg: `expected a number at position 22, found "true"`},
	{expr: `hasAvailablePlayerSessions = 1`, pos: 30, msg: `expected true or false at position 30, found "1" (hasAvailablePlayerSessions is a boolean)`},
	{expr: `hasAvailablePlayerSessions = 'true'`, pos: 30, msg: `expected true or false at position 30`},
	{expr: `hasAvailablePlayerSessions < true`, pos: 28, msg: `expected = or <> at position 28`},
	{expr: `maximumSessions >= 10 AND hasAvailablePlayerSessions = yes`, pos: 56, msg: `expected true or false at position 56, found "yes"`},
	{expr: `gameSessionProperties.level > 5`, pos: 29, msg: `expected = or <> at position 29, found ">" (gameSessionProperties.level is a string`},
	{expr: `gameSessionProperties.level = 5`, pos: 31, msg: `expected a quoted string at position 31, found "5" (game property values are strings, compared as strings)`},
	{expr: `gamesessionname = 'x'`, pos: 1, msg: `expected an operand at position 1, found "gamesessionname" (operands are case-sensitive: did you mean gameSessionName?)`},
	{expr: `GameSessionProperties.mode = 'x'`, pos: 1, msg: `did you mean gameSessionProperties.mode?`},
	{expr: `foo = 1`, pos: 1, msg: `expected an operand at position 1, found "foo" (one of gameSessionId, `},
	{expr: `gameSessionProperties = 'x'`, pos: 1, msg: `expected gameSessionProperties.<key> at position 1, found "gameSessionProperties"`},
	{expr: `gameSessionProperties. = 'x'`, pos: 1, msg: `expected gameSessionProperties.<key> at position 1`},
	{expr: `gameSessionProperties.a.b = 'x'`, pos: 1, msg: `has no "."`},
	{expr: `(maximumSessions = 10`, pos: 22, msg: `expected AND, OR or ")" at position 22, found end of expression`},
	{expr: `maximumSessions = 10)`, pos: 21, msg: `expected AND, OR or end of expression at position 21, found ")"`},
	{expr: `maximumSessions = 10 playerSessionCount = 1`, pos: 22, msg: `expected AND, OR or end of expression at position 22, found "playerSessionCount"`},
	{expr: `playerSessionCount < 5 AND NOT (gameSessionName = 'a' OR)`, pos: 57, msg: `expected an operand at position 57, found ")"`},
	{expr: `maximumSessions == 10`, pos: 18, msg: `expected a number at position 18, found "="`},
	{expr: `maximumSessions != 10`, pos: 17, msg: `expected a comparator (=, <>, <, >, <= or >=) at position 17, found "!=" (not equal is <>)`},
	{expr: `maximumSessions = 10AND playerSessionCount = 1`, pos: 19, msg: `expected a number at position 19, found "10AND"`},
	{expr: `maximumSessions = 1.`, pos: 19, msg: `found "1."`},
	{expr: `maximumSessions = .5`, pos: 19, msg: `expected a number at position 19, found "."`},
	{expr: `maximumSessions = +5`, pos: 19, msg: `found "+"`},
	{expr: `maximumSessions = 99999999999999999999`, pos: 19, msg: `expected a number between -9223372036854775808 and 9223372036854775807 at position 19`},
	{expr: `maximumSessions = - 1`, pos: 19, msg: `found "-"`},
	{expr: `maximumSessions = 10 AND OR playerSessionCount = 1`, pos: 26, msg: `expected an operand at position 26, found "OR"`},
	{expr: `NOT`, pos: 4, msg: `expected an operand at position 4, found end of expression`},
	{expr: `()`, pos: 2, msg: `expected an operand at position 2, found ")"`},
	{expr: `gameSessionName = 'x' # comment`, pos: 23, msg: `found "#"`},
	// Positions count characters, not bytes: "é" is two bytes.
	{expr: `gameSessionName = 'é' AND @`, pos: 27, msg: `expected an operand at position 27, found "@"`},
	{expr: `gameSessionName = '` + strings.Repeat("x", 60) + `' x`, pos: 82, msg: `found "x"`},
	{expr: `maximumSessions = ` + "'" + strings.Repeat("y", 60) + "'", pos: 19, msg: `found "'yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy..."`},
}

func matching(f Filter) string {
	var got []string
	for _, fx := range fixtures {
		if f.Match(fx.rec) {
			got = append(got, fx.label)
		}
	}
	return strings.Join(got, " ")
}

func TestFilterTable(t *testing.T) {
	var valid, invalid int
	for _, tc := range filterCases {
		t.Run(tc.expr, func(t *testing.T) {
			f, err := ParseFilter(tc.expr)
			if tc.pos == 0 {
				valid++
				if err != nil {
					t.Fatalf("ParseFilter: %v", err)
				}
				if got := matching(f); got != tc.want {
					t.Errorf("matches [%s]; want [%s]", got, tc.want)
				}
				// The canonical form means the same.
				g, err := ParseFilter(f.String())
				if err != nil {
					t.Fatalf("reparsing %q: %v", f.String(), err)
				}
				if got := matching(g); got != tc.want {
					t.Errorf("%q matches [%s]; want [%s]", f.String(), got, tc.want)
				}
				return
			}
			invalid++
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("got %v (filter %q); want a SyntaxError at position %d", err, f.String(), tc.pos)
			}
			if se.Pos != tc.pos || !strings.Contains(se.Msg, tc.msg) {
				t.Errorf("got position %d, %q; want position %d, message containing %q", se.Pos, se.Msg, tc.pos, tc.msg)
			}
			if want := fmt.Sprintf("at position %d,", se.Pos); !strings.Contains(se.Msg, want) {
				t.Errorf("message %q does not say %q", se.Msg, want)
			}
		})
	}
	if valid < 20 || invalid < 20 || valid+invalid < 40 {
		t.Errorf("%d valid and %d invalid expressions; the table should keep at least 20 of each", valid, invalid)
	}
}

func TestFilterString(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`not maximumSessions=1 and (playerSessionCount=2 or playerSessionCount=3)`, `NOT maximumSessions = 1 AND (playerSessionCount = 2 OR playerSessionCount = 3)`},
		{`(maximumSessions=1 and maximumSessions=2) and maximumSessions=3`, `maximumSessions = 1 AND maximumSessions = 2 AND maximumSessions = 3`},
		{`maximumSessions=1 and (maximumSessions=2 and maximumSessions=3)`, `maximumSessions = 1 AND (maximumSessions = 2 AND maximumSessions = 3)`},
		{`maximumSessions=1 or (maximumSessions=2 or maximumSessions=3)`, `maximumSessions = 1 OR (maximumSessions = 2 OR maximumSessions = 3)`},
		{`(maximumSessions=1 or maximumSessions=2) or maximumSessions=3`, `maximumSessions = 1 OR maximumSessions = 2 OR maximumSessions = 3`},
		{`maximumSessions=1 or maximumSessions=2 and maximumSessions=3`, `maximumSessions = 1 OR maximumSessions = 2 AND maximumSessions = 3`},
		{`not (not maximumSessions=1)`, `NOT NOT maximumSessions = 1`},
		{`NOT (maximumSessions=1 OR maximumSessions=2)`, `NOT (maximumSessions = 1 OR maximumSessions = 2)`},
		{`gameSessionName="it's \\ \"x\""`, `gameSessionName = 'it\'s \\ "x"'`},
		{`playerSessionCount < -007.50`, `playerSessionCount < -7.5`},
		{`playerSessionCount < -0.0`, `playerSessionCount < 0`},
		{`hasAvailablePlayerSessions = TRUE`, `hasAvailablePlayerSessions = true`},
	} {
		f, err := ParseFilter(tc.in)
		if err != nil {
			t.Errorf("ParseFilter(%q): %v", tc.in, err)
			continue
		}
		if got := f.String(); got != tc.want {
			t.Errorf("ParseFilter(%q).String() = %q; want %q", tc.in, got, tc.want)
		}
	}
}

func TestZeroFilterMatchesAll(t *testing.T) {
	if got := matching(Filter{}); got != "a b c d e f g h" {
		t.Errorf("zero Filter matches [%s]", got)
	}
}

func TestFilterDepth(t *testing.T) {
	nest := func(n int) string {
		return strings.Repeat("(", n) + "maximumSessions = 10" + strings.Repeat(")", n)
	}
	if _, err := ParseFilter(nest(maxDepth)); err != nil {
		t.Fatalf("%d levels: %v", maxDepth, err)
	}
	_, err := ParseFilter(nest(maxDepth + 1))
	var se *SyntaxError
	if !errors.As(err, &se) || se.Pos != maxDepth+1 {
		t.Fatalf("%d levels: %v; want an error at position %d", maxDepth+1, err, maxDepth+1)
	}
	nots := strings.Repeat("NOT ", maxDepth+1) + "maximumSessions = 10"
	if _, err := ParseFilter(nots); !errors.As(err, &se) || se.Pos != 4*maxDepth+1 {
		t.Fatalf("%d NOTs: %v; want an error at position %d", maxDepth+1, err, 4*maxDepth+1)
	}
}

func TestMatchDoesNotAllocate(t *testing.T) {
	f, err := ParseFilter(`(gameSessionProperties.mode = 'brawl' OR gameSessionName <> 'x') AND NOT maximumSessions < 2.5 AND hasAvailablePlayerSessions = true`)
	if err != nil {
		t.Fatal(err)
	}
	s := fixtures[0].rec
	if n := testing.AllocsPerRun(100, func() { f.Match(s) }); n != 0 {
		t.Errorf("Match allocates %v times per call", n)
	}
}

func BenchmarkMatch(b *testing.B) {
	f, err := ParseFilter(`maximumSessions >= 10 AND hasAvailablePlayerSessions = true AND (gameSessionProperties.mode = 'brawl' OR gameSessionProperties.mode = 'ctf')`)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		f.Match(fixtures[i%len(fixtures)].rec)
	}
}

func BenchmarkParseFilter(b *testing.B) {
	const expr = `maximumSessions >= 10 AND hasAvailablePlayerSessions = true AND (gameSessionProperties.mode = 'brawl' OR gameSessionName <> 'it\'s')`
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseFilter(expr); err != nil {
			b.Fatal(err)
		}
	}
}
