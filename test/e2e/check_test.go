package e2e

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"
)

// ID and ARN shapes (spec §4.1).
const uuidRE = `[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`

var (
	reFleetID         = regexp.MustCompile(`^fleet-` + uuidRE + `$`)
	reAliasID         = regexp.MustCompile(`^alias-` + uuidRE + `$`)
	rePlayerSessionID = regexp.MustCompile(`^psess-` + uuidRE + `$`)
	reAuthToken       = regexp.MustCompile(`^[a-zA-Z0-9\-]{1,64}$`)
	reAccount         = regexp.MustCompile(`^arn:aws:gamelift:us-west-2:(\d{12}):fleet/fleet-` + uuidRE + `$`)
)

func fleetArn(account, fleetID string) string {
	return "arn:aws:gamelift:" + region + ":" + account + ":fleet/" + fleetID
}

func aliasArn(aliasID string) string { return "arn:aws:gamelift:" + region + "::alias/" + aliasID }

func locationArn(account, name string) string {
	return "arn:aws:gamelift:" + region + ":" + account + ":location/" + name
}

// gameSessionIDRE matches a generated game session ID of a fleet.
func gameSessionIDRE(fleetID string) *regexp.Regexp {
	return regexp.MustCompile(`^arn:aws:gamelift:us-west-2::gamesession/` + regexp.QuoteMeta(fleetID) + `/gsess-` + uuidRE + `$`)
}

func gameSessionIDWithToken(fleetID, token string) string {
	return "arn:aws:gamelift:" + region + "::gamesession/" + fleetID + "/" + token
}

// ---------------------------------------------------------------------------
// fields: exhaustive assertions on a response struct. Every exported member
// of the struct must be checked (or explicitly declared absent) before Done,
// so a member the test forgot, or one a newer model adds, fails the test.

type fields struct {
	t    testing.TB
	name string
	v    reflect.Value
	seen map[string]bool
}

func check(t testing.TB, name string, v any) *fields {
	t.Helper()
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			t.Fatalf("%s: nil", name)
		}
		rv = rv.Elem()
	}
	return &fields{t: t, name: name, v: rv, seen: map[string]bool{}}
}

func (f *fields) field(name string) reflect.Value {
	f.t.Helper()
	sf, ok := f.v.Type().FieldByName(name)
	if !ok || len(sf.Index) != 1 {
		f.t.Fatalf("%s: test bug: no member %s in %s", f.name, name, f.v.Type())
	}
	f.seen[name] = true
	return f.v.FieldByIndex(sf.Index)
}

// val returns the member's value with pointers followed, and whether it is
// present (non-nil pointer, non-empty enum, non-nil slice or map).
func val(v reflect.Value) (any, bool) {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return nil, false
		}
		return v.Elem().Interface(), true
	case reflect.String:
		return v.String(), v.Len() > 0
	case reflect.Slice, reflect.Map:
		return v.Interface(), !v.IsNil() && v.Len() > 0
	}
	return v.Interface(), true
}

func norm(x any) any {
	v := reflect.ValueOf(x)
	switch v.Kind() {
	case reflect.String:
		return v.String()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int()
	}
	return x
}

// Eq asserts that the member is present and equal to want.
func (f *fields) Eq(name string, want any) *fields {
	f.t.Helper()
	got, ok := val(f.field(name))
	if !ok {
		f.t.Errorf("%s.%s: absent, want %v", f.name, name, want)
		return f
	}
	if !reflect.DeepEqual(norm(got), norm(want)) {
		f.t.Errorf("%s.%s = %v, want %v", f.name, name, got, want)
	}
	return f
}

// Match asserts that a string member is present and matches re.
func (f *fields) Match(name string, re *regexp.Regexp) *fields {
	f.t.Helper()
	got, ok := val(f.field(name))
	if !ok {
		f.t.Errorf("%s.%s: absent, want a match of %s", f.name, name, re)
		return f
	}
	if !re.MatchString(fmt.Sprint(got)) {
		f.t.Errorf("%s.%s = %q, want a match of %s", f.name, name, got, re)
	}
	return f
}

// AbsentOr asserts that the member is absent or equal to want.
func (f *fields) AbsentOr(name string, want any) *fields {
	f.t.Helper()
	got, ok := val(f.field(name))
	if ok && !reflect.DeepEqual(norm(got), norm(want)) {
		f.t.Errorf("%s.%s = %v, want it absent or %v", f.name, name, got, want)
	}
	return f
}

// Absent asserts that each member is absent (or an empty list).
func (f *fields) Absent(names ...string) *fields {
	f.t.Helper()
	for _, name := range names {
		if got, ok := val(f.field(name)); ok {
			f.t.Errorf("%s.%s = %v, want it absent", f.name, name, got)
		}
	}
	return f
}

// Ignore marks members this check deliberately leaves alone, with a reason.
func (f *fields) Ignore(reason string, names ...string) *fields {
	for _, n := range names {
		f.field(n)
	}
	return f
}

// Time asserts that a timestamp member is present and within [lo, hi]
// (both widened by a second for clock granularity).
func (f *fields) Time(name string, lo, hi time.Time) time.Time {
	f.t.Helper()
	got, ok := val(f.field(name))
	if !ok {
		f.t.Errorf("%s.%s: absent, want a timestamp", f.name, name)
		return time.Time{}
	}
	ts := got.(time.Time)
	if ts.Before(lo.Add(-time.Second)) || ts.After(hi.Add(time.Second)) {
		f.t.Errorf("%s.%s = %v, want within [%v, %v]", f.name, name, ts, lo, hi)
	}
	return ts
}

// TimeEq asserts that a timestamp member equals want (to the millisecond).
func (f *fields) TimeEq(name string, want time.Time) *fields {
	f.t.Helper()
	got, ok := val(f.field(name))
	if !ok {
		f.t.Errorf("%s.%s: absent, want %v", f.name, name, want)
		return f
	}
	if d := got.(time.Time).Sub(want); d > time.Millisecond || d < -time.Millisecond {
		f.t.Errorf("%s.%s = %v, want %v", f.name, name, got, want)
	}
	return f
}

// Custom hands the member's value (pointers followed; nil if absent) to fn.
func (f *fields) Custom(name string, fn func(v any, present bool)) *fields {
	f.t.Helper()
	fn(val(f.field(name)))
	return f
}

// Done fails the test for every exported member that was not checked.
func (f *fields) Done() {
	f.t.Helper()
	var missed []string
	for i := range f.v.NumField() {
		sf := f.v.Type().Field(i)
		if !sf.IsExported() || sf.Name == "ResultMetadata" || f.seen[sf.Name] {
			continue
		}
		missed = append(missed, sf.Name)
	}
	if len(missed) > 0 {
		f.t.Errorf("%s: test bug: members not checked: %v", f.name, missed)
	}
}

// ---------------------------------------------------------------------------
// errors

// authCodes are the front-door errors (HTTP 403).
var authCodes = map[string]bool{
	"MissingAuthenticationTokenException": true,
	"IncompleteSignatureException":        true,
	"InvalidSignatureException":           true,
	"UnrecognizedClientException":         true,
	"AccessDeniedException":               true,
}

// modeledCodes are the GameLift exceptions of the model.
var modeledCodes = map[string]bool{
	"InvalidRequestException": true, "NotFoundException": true, "UnauthorizedException": true,
	"ConflictException": true, "InvalidFleetStatusException": true, "InvalidGameSessionStatusException": true,
	"GameSessionFullException": true, "FleetCapacityExceededException": true, "TerminalRoutingStrategyException": true,
	"IdempotentParameterMismatchException": true, "LimitExceededException": true, "NotReadyException": true,
	"UnsupportedRegionException": true, "InternalServiceException": true, "TaggingFailedException": true,
}

// expectErr calls the operation of in, which must fail with code. The
// message must be non-empty and contain each of msgParts.
func expectErr(t testing.TB, c apiClient, in any, code string, msgParts ...string) *apiError {
	t.Helper()
	op := opName(in)
	ctx, cancel := testCtx()
	defer cancel()
	_, err := c.Invoke(ctx, op, in, nil)
	if err == nil {
		t.Errorf("[%s] %s: succeeded, want %s", c.Name(), op, code)
		return nil
	}
	return checkErr(t, c, op, err, code, msgParts...)
}

func checkErr(t testing.TB, c apiClient, op string, err error, code string, msgParts ...string) *apiError {
	t.Helper()
	var e *apiError
	if !errors.As(err, &e) {
		t.Errorf("[%s] %s: %v, want %s", c.Name(), op, err, code)
		return nil
	}
	if e.Code != code {
		t.Errorf("[%s] %s: error code %q (%s), want %s", c.Name(), op, e.Code, e.Message, code)
		return e
	}
	wantStatus := 400
	switch {
	case authCodes[code]:
		wantStatus = 403
	case code == "InternalServiceException":
		wantStatus = 500
	}
	if e.HTTPStatus != wantStatus {
		t.Errorf("[%s] %s: %s with HTTP status %d, want %d", c.Name(), op, code, e.HTTPStatus, wantStatus)
	}
	if strings.TrimSpace(e.Message) == "" {
		t.Errorf("[%s] %s: %s with an empty message (body %s)", c.Name(), op, code, e.Body)
	}
	for _, p := range msgParts {
		if !strings.Contains(e.Message, p) {
			t.Errorf("[%s] %s: %s message %q does not mention %q", c.Name(), op, code, e.Message, p)
		}
	}
	if e.RawType != code {
		t.Errorf("[%s] %s: __type %q, want the bare %q", c.Name(), op, e.RawType, code)
	}
	// openlift's error format (spec §1.5): a request id on every error, and
	// for JSON also x-amzn-ErrorType and the JSON content type.
	if e.Header.Get("X-Amzn-Requestid") == "" {
		t.Errorf("[%s] %s: %s without an x-amzn-RequestId header", c.Name(), op, code)
	}
	if _, isJSON := c.(*jsonClient); isJSON {
		if got := e.Header.Get("X-Amzn-Errortype"); got != code {
			t.Errorf("[%s] %s: x-amzn-ErrorType %q, want %q", c.Name(), op, got, code)
		}
		if got := e.Header.Get("Content-Type"); got != "application/x-amz-json-1.1" {
			t.Errorf("[%s] %s: error Content-Type %q, want application/x-amz-json-1.1", c.Name(), op, got)
		}
	} else if got := e.Header.Get("Content-Type"); got != "application/cbor" {
		t.Errorf("[%s] %s: error Content-Type %q, want application/cbor", c.Name(), op, got)
	}
	if modeledCodes[code] {
		if _, isGo := c.(*goClient); isGo && e.Modeled != code {
			t.Errorf("[%s] %s: %s surfaced as %T-like generic error (modeled %q), want types.%s", c.Name(), op, code, e, e.Modeled, code)
		}
		if e.ModeledMessage != e.Message {
			t.Errorf("[%s] %s: %s member Message %q differs from message %q", c.Name(), op, code, e.ModeledMessage, e.Message)
		}
	}
	return e
}

// ---------------------------------------------------------------------------
// small helpers

func ptr[T any](v T) *T { return &v }

func deref[T any](p *T) T {
	var z T
	if p == nil {
		return z
	}
	return *p
}

// hasList asserts that a top-level list member is present in the raw response
// (openlift sends [] rather than leaving it out) and returns its length.
func hasList(t testing.TB, raw map[string]any, key string) int {
	t.Helper()
	v, ok := raw[key]
	if !ok {
		t.Errorf("response has no %q member; want a list ([] when empty)", key)
		return 0
	}
	l, ok := v.([]any)
	if !ok {
		t.Errorf("response member %q is %T, want a list", key, v)
		return 0
	}
	return len(l)
}

// noKey asserts that a top-level member is absent (NextToken on a last page).
func noKey(t testing.TB, raw map[string]any, key string) {
	t.Helper()
	if v, ok := raw[key]; ok {
		t.Errorf("response has %s = %v, want it absent", key, v)
	}
}

// props turns game properties into a map for order-free comparison.
func props(gp []types.GameProperty) map[string]string {
	m := map[string]string{}
	for _, p := range gp {
		m[deref(p.Key)] = deref(p.Value)
	}
	return m
}

// eventually polls fn every interval until it returns nil or the timeout
// passes, and then fails with fn's last error.
func eventually(t testing.TB, timeout, interval time.Duration, what string, fn func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := fn()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v: %v", what, timeout, err)
		}
		time.Sleep(interval)
	}
}
