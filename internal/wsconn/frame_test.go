package wsconn

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/openlift/openlift/internal/apierr"
)

func TestStatusFor(t *testing.T) {
	for _, tc := range []struct {
		err    error
		status int
		msg    string
	}{
		{apierr.New(apierr.NotFound, "gone"), http.StatusNotFound, "gone"},
		{apierr.New(apierr.UnrecognizedClient, "who"), http.StatusUnauthorized, "who"},
		{apierr.New(apierr.AccessDenied, "no"), http.StatusForbidden, "no"},
		{apierr.New(apierr.Conflict, "busy"), http.StatusConflict, "busy"},
		{apierr.New(apierr.Throttling, "slow"), http.StatusTooManyRequests, "slow"},
		{apierr.New(apierr.LimitExceeded, "many"), http.StatusBadRequest, "many"},
		{fmt.Errorf("wrapped: %w", apierr.Invalid("bad")), http.StatusBadRequest, "bad"},
		{apierr.New(apierr.InternalService, "said so"), http.StatusInternalServerError, "said so"},
		{apierr.New(apierr.TaggingFailed, "detail"), http.StatusInternalServerError, genericError},
		{errors.New("secret detail"), http.StatusInternalServerError, genericError},
	} {
		status, msg := StatusFor(tc.err)
		if status != tc.status || msg != tc.msg {
			t.Errorf("StatusFor(%v) = %d %q; want %d %q", tc.err, status, msg, tc.status, tc.msg)
		}
	}
}

func TestEncodeReply(t *testing.T) {
	rh := replyHead{Action: "A", RequestId: "r", StatusCode: 200}
	for _, tc := range []struct {
		name   string
		result any
		want   string
	}{
		{"no result", nil, `{"Action":"A","RequestId":"r","StatusCode":200}`},
		{"empty object", struct{}{}, `{"Action":"A","RequestId":"r","StatusCode":200}`},
		{"members", map[string]int{"N": 1}, `{"Action":"A","RequestId":"r","StatusCode":200,"N":1}`},
	} {
		got, err := encodeReply(rh, tc.result)
		if err != nil || string(got) != tc.want {
			t.Errorf("%s: %s, %v; want %s", tc.name, got, err, tc.want)
		}
	}
	if _, err := encodeReply(rh, []int{1}); err == nil {
		t.Error("an array result was encoded")
	}
}

func TestRawString(t *testing.T) {
	for _, tc := range []struct {
		raw  string
		want string
		ok   bool
	}{{"", "", true}, {"null", "", true}, {`"x"`, "x", true}, {"7", "", false}} {
		if got, ok := rawString([]byte(tc.raw)); got != tc.want || ok != tc.ok {
			t.Errorf("rawString(%s) = %q, %v", tc.raw, got, ok)
		}
	}
}
