package proc

import "strings"

// SplitArgs splits a runtime configuration's Parameters into arguments.
// Amazon's agent splits on single spaces and nothing else; this also folds
// runs of whitespace and honours double quotes, so that `-map "two words"`
// and `-name ""` mean what they say. Inside quotes a backslash escapes a
// double quote or a backslash; everywhere else backslashes are literal, so
// Windows-style paths survive.
func SplitArgs(s string) []string {
	var (
		args    []string
		cur     strings.Builder
		inArg   bool // something (maybe an empty "") has started an argument
		inQuote bool
	)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case inQuote && c == '\\' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\'):
			i++
			cur.WriteByte(s[i])
		case c == '"':
			inQuote = !inQuote
			inArg = true
		case !inQuote && (c == ' ' || c == '\t' || c == '\n' || c == '\r'):
			if inArg {
				args = append(args, cur.String())
				cur.Reset()
				inArg = false
			}
		default:
			cur.WriteByte(c)
			inArg = true
		}
	}
	if inArg {
		args = append(args, cur.String())
	}
	return args
}
