package core

import (
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/openlift/openlift/internal/apierr"
)

// page cuts items to one page. Tokens are opaque offsets; the last page has no
// token (clients stop on a missing token and reject a repeated one).
func page[T any](items []T, limit *int32, nextToken *string, defaultLimit int) ([]T, *string, error) {
	n := defaultLimit
	if limit != nil {
		if *limit < 1 {
			return nil, nil, apierr.Invalid("Limit must be at least 1")
		}
		n = int(*limit)
	}
	start := 0
	if nextToken != nil {
		off, ok := decodeToken(*nextToken)
		if !ok {
			return nil, nil, apierr.Invalid("NextToken %q is not valid", *nextToken)
		}
		start = off
	}
	if start > len(items) {
		start = len(items)
	}
	end := start + n
	if end >= len(items) {
		return items[start:], nil, nil
	}
	tok := encodeToken(end)
	return items[start:end], &tok, nil
}

func encodeToken(off int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("ol1:" + strconv.Itoa(off)))
}

func decodeToken(tok string) (int, bool) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return 0, false
	}
	s, ok := strings.CutPrefix(string(b), "ol1:")
	if !ok {
		return 0, false
	}
	off, err := strconv.Atoi(s)
	if err != nil || off < 0 {
		return 0, false
	}
	return off, true
}
