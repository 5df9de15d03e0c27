package search

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParseFilter checks that the parser never panics, that every error is a
// SyntaxError pointing inside the input, and that whatever parses prints to
// a form that parses back to the same tree and matches the same sessions.
func FuzzParseFilter(f *testing.F) {
	for _, tc := range filterCases {
		f.Add(tc.expr)
	}
	f.Fuzz(func(t *testing.T, src string) {
		flt, err := ParseFilter(src)
		if err != nil {
			checkSyntaxError(t, src, err)
			return
		}
		printed := flt.String()
		again, err := ParseFilter(printed)
		if err != nil {
			t.Fatalf("%q printed as %q, which does not parse: %v", src, printed, err)
		}
		if !reflect.DeepEqual(flt.root, again.root) {
			t.Fatalf("%q printed as %q, which parses to a different tree", src, printed)
		}
		if p2 := again.String(); p2 != printed {
			t.Fatalf("%q printed as %q, then as %q", src, printed, p2)
		}
		for _, fx := range fixtures {
			if flt.Match(fx.rec) != again.Match(fx.rec) {
				t.Fatalf("%q and %q disagree on session %s", src, printed, fx.label)
			}
		}
	})
}

func FuzzParseSort(f *testing.F) {
	for _, s := range []string{
		"gameSessionName ASC", "gameSessionProperties.mode desc", "maximumSessions", "maximumSessions ASC DESC",
		"hasAvailablePlayerSessions DESC", "creationTimeMillis\tAsC", "'x' ASC", "gameSessionProperties.a.b ASC",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		s, err := ParseSort(src)
		if err != nil {
			checkSyntaxError(t, src, err)
			return
		}
		again, err := ParseSort(s.String())
		if err != nil || again != s {
			t.Fatalf("%q printed as %q, which parses to %v, %v", src, s.String(), again, err)
		}
		for _, a := range fixtures {
			for _, b := range fixtures {
				if s.Compare(a.rec, b.rec) != -s.Compare(b.rec, a.rec) || (s.Compare(a.rec, b.rec) == 0) != (a.rec == b.rec) {
					t.Fatalf("%q: Compare is not a total order on %s, %s", src, a.label, b.label)
				}
			}
		}
	})
}

func checkSyntaxError(t *testing.T, src string, err error) {
	t.Helper()
	var se *SyntaxError
	if !errors.As(err, &se) {
		t.Fatalf("%q: %T %v; want a *SyntaxError", src, err, err)
	}
	if se.Pos < 1 || se.Pos > utf8.RuneCountInString(src)+1 {
		t.Fatalf("%q (%d characters): error position %d is outside the input: %s", src, utf8.RuneCountInString(src), se.Pos, se.Msg)
	}
	if want := fmt.Sprintf(" at position %d,", se.Pos); !strings.Contains(se.Msg, want) {
		t.Fatalf("%q: message %q does not say %q", src, se.Msg, want)
	}
}
