// Package search parses and evaluates the FilterExpression and SortExpression
// of GameLift's SearchGameSessions (spec/gamelift-api.md §4.4).
//
// An expression is parsed once per request into a small tree; evaluating it
// against a [Session] does not allocate.
//
// # Filter grammar
//
//	filter     = or EOF
//	or         = and { "OR" and }
//	and        = not { "AND" not }
//	not        = "NOT" not | primary
//	primary    = "(" or ")" | comparison
//	comparison = operand comparator value
//	comparator = "=" | "<>" | "<" | ">" | "<=" | ">="
//	value      = number | "true" | "false" | string
//
// This gives the documented precedence, from high to low: comparators,
// parentheses, NOT, AND, OR. AND and OR group left to right.
//
// The decisions GameLift's documentation leaves open:
//
//   - Operands are case-sensitive and spelled exactly as GameLift documents
//     them: gameSessionId (the full ARN), gameSessionName,
//     gameSessionProperties.<key>, maximumSessions, creationTimeMillis,
//     playerSessionCount and hasAvailablePlayerSessions. If an operand is
//     spelled with the wrong case, the error suggests the right spelling.
//   - A property key in an expression consists of letters, digits, "_" and
//     "-". GameLift does not index keys that contain ".", so such keys are
//     rejected.
//   - The keywords AND, OR, NOT, ASC, DESC, true and false are
//     case-insensitive (ASCII only).
//   - A number is an optional "-", then decimal digits, then an optional
//     fraction (".5"). It is compared exactly with the integer operand, so
//     playerSessionCount < 2.5 matches 0, 1 and 2. A number outside the int64
//     range is an error. There is no exponent and no leading "+".
//   - A string goes in single quotes or, as an openlift extension, in double
//     quotes. A backslash makes the next character literal ('it\'s', "a\"b",
//     'back\\slash'), and there are no other escapes: '\n' is "n". Strings are
//     compared byte by byte, and case matters.
//   - String operands (gameSessionId, gameSessionName and game properties) and
//     hasAvailablePlayerSessions allow only = and <>. Game property values are
//     strings, so gameSessionProperties.level > 5 is an error rather than a
//     string comparison in which '10' would sort before '5'. Write
//     gameSessionProperties.level = '5' instead.
//   - A session that has no name, or lacks the property, fails every
//     comparison on it, <> included. NOT is plain negation, so
//     NOT gameSessionProperties.mode = 'x' also matches sessions without
//     mode. gameSessionProperties.mode <> 'x' matches only sessions that have
//     a mode other than 'x'.
//   - hasAvailablePlayerSessions is playerSessionCount < maximumSessions.
//   - Nesting (parentheses and NOT) may go 1024 levels deep. That is more
//     than any expression within GameLift's 1024-character limit can reach.
//
// # Sort grammar
//
//	sort = operand ( "ASC" | "DESC" ) EOF
//
// Sessions that lack the value (no name, or no such property) come last in
// both directions. false sorts before true, and strings sort byte by byte.
// Ties are broken by creationTimeMillis and then by gameSessionId, both
// ascending, which makes the order total. Paging by offset relies on that.
//
// # Errors
//
// A malformed expression gets a [*SyntaxError]. Its position is 1-based and
// counts characters (Unicode code points), not bytes, for example:
//
//	expected a comparator at position 17, found "AND"
package search
