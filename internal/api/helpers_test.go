package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/fxamacker/cbor/v2"
	"github.com/google/uuid"

	"github.com/openlift/openlift/internal/clock"
)

const (
	testKeyID  = "AKIDOPENLIFTTEST"
	testSecret = "openlift/test/secret/key/00000000000000000"
	testRegion = "us-west-2"
)

// testNow is the frozen time of tests that sign their own requests.
var testNow = time.Date(2026, 11, 24, 5, 0, 0, 0, time.UTC)

type staticCreds map[string]string

func (c staticCreds) SecretFor(id string) (string, bool) {
	s, ok := c[id]
	return s, ok
}

var testCreds = staticCreds{testKeyID: testSecret}

// newTestHandler builds a handler over svc with the clock frozen at now and
// logs going to t.Log (at debug, so failures explain themselves).
func newTestHandler(t testing.TB, svc any, now time.Time) http.Handler {
	t.Helper()
	h, err := NewHandler(Config{
		Service:     svc,
		Credentials: testCreds,
		Clock:       clock.NewFake(now),
		Logger:      slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatalf("NewHandler: %v", err)
	}
	return h
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(string(bytes.TrimRight(p, "\n")))
	return len(p), nil
}

// request describes a control-plane call a test builds and signs.
type request struct {
	proto  protocol
	op     string
	body   []byte
	header map[string]string // extra headers, set before signing
	keyID  string            // default testKeyID
	secret string            // default testSecret
	at     time.Time         // signing time; default testNow
}

// build returns r as an *http.Request signed by aws-sdk-go-v2's reference
// SigV4 signer. Headers present when signing are signed, as the Go client does.
func (rq request) build(t testing.TB) *http.Request {
	t.Helper()
	path := "/"
	if rq.proto == protoCBOR {
		path = cborPathPrefix + rq.op
	}
	r := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(rq.body))
	r.Host = "127.0.0.1:18080"
	if rq.proto == protoCBOR {
		r.Header.Set("Content-Type", "application/cbor")
		r.Header.Set("Accept", "application/cbor")
		r.Header.Set("Smithy-Protocol", "rpc-v2-cbor")
	} else {
		r.Header.Set("Content-Type", "application/x-amz-json-1.1")
		r.Header.Set("X-Amz-Target", targetPrefix+rq.op)
	}
	for k, v := range rq.header {
		r.Header.Set(k, v)
	}
	signRequest(t, r, rq.body, rq.keyID, rq.secret, rq.at)
	return r
}

func signRequest(t testing.TB, r *http.Request, body []byte, keyID, secret string, at time.Time) {
	t.Helper()
	if keyID == "" {
		keyID = testKeyID
	}
	if secret == "" {
		secret = testSecret
	}
	if at.IsZero() {
		at = testNow
	}
	sum := sha256.Sum256(body)
	err := v4.NewSigner().SignHTTP(context.Background(),
		aws.Credentials{AccessKeyID: keyID, SecretAccessKey: secret},
		r, hex.EncodeToString(sum[:]), "gamelift", testRegion, at)
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
}

// response is a decoded reply in either protocol.
type response struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

func do(t testing.TB, h http.Handler, r *http.Request) response {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return decodeResponse(t, rec.Result())
}

func decodeResponse(t testing.TB, res *http.Response) response {
	t.Helper()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	_ = res.Body.Close()
	out := response{status: res.StatusCode, header: res.Header, raw: raw}
	switch ct := res.Header.Get("Content-Type"); ct {
	case "application/cbor":
		if err := cbor.Unmarshal(raw, &out.body); err != nil {
			t.Fatalf("response is not CBOR: %v (% x)", err, raw)
		}
	case "application/x-amz-json-1.1":
		if err := json.Unmarshal(raw, &out.body); err != nil {
			t.Fatalf("response is not JSON: %v (%s)", err, raw)
		}
	default:
		t.Fatalf("response Content-Type %q; body %q", ct, raw)
	}
	return out
}

// checkError asserts the openlift error format of spec §1.5 in protocol p.
func checkError(t testing.TB, res response, p protocol, status int, code string) {
	t.Helper()
	if res.status != status {
		t.Errorf("status %d; want %d (body %s)", res.status, status, res.raw)
	}
	checkEnvelope(t, res, p)
	if got := res.body["__type"]; got != code {
		t.Errorf("__type %v; want %s (body %v)", got, code, res.body)
	}
	msg, _ := res.body["message"].(string)
	if msg == "" || res.body["Message"] != msg {
		t.Errorf("message %q and Message %q must both be set and equal", res.body["message"], res.body["Message"])
	}
	if p == protoJSON {
		if got := res.header.Get("X-Amzn-Errortype"); got != code {
			t.Errorf("x-amzn-ErrorType %q; want %q", got, code)
		}
	}
}

// checkEnvelope asserts the headers every response in protocol p carries.
func checkEnvelope(t testing.TB, res response, p protocol) {
	t.Helper()
	if _, err := uuid.Parse(res.header.Get("X-Amzn-Requestid")); err != nil {
		t.Errorf("x-amzn-RequestId %q is not a UUID", res.header.Get("X-Amzn-Requestid"))
	}
	switch p {
	case protoCBOR:
		if got := res.header.Get("Smithy-Protocol"); got != "rpc-v2-cbor" {
			t.Errorf("smithy-protocol %q; want rpc-v2-cbor", got)
		}
		if got := res.header.Get("Content-Type"); got != "application/cbor" {
			t.Errorf("Content-Type %q; want application/cbor", got)
		}
	default:
		if got := res.header.Get("Content-Type"); got != "application/x-amz-json-1.1" {
			t.Errorf("Content-Type %q; want application/x-amz-json-1.1", got)
		}
		if got := res.header.Get("Smithy-Protocol"); got != "" {
			t.Errorf("JSON response carries smithy-protocol %q", got)
		}
	}
}

// findSharedFixtures returns the captured-client fixtures: the copy in
// testdata (so a clean clone tests them), else the first shared/fixtures above
// the package.
func findSharedFixtures(t testing.TB) string {
	t.Helper()
	if st, err := os.Stat(filepath.Join("testdata", "fixtures", "control-plane")); err == nil && st.IsDir() {
		return filepath.Join("testdata", "fixtures")
	}
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		p := filepath.Join(dir, "shared", "fixtures")
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("no shared/fixtures directory above the package; the captured-client fixtures are not available here")
		}
		dir = parent
	}
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustCBOR(t testing.TB, v any) []byte {
	t.Helper()
	b, err := cbor.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func ioNopCloser(b []byte) io.ReadCloser { return io.NopCloser(bytes.NewReader(b)) }

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func fakeAt(t time.Time) clock.Clock { return clock.NewFake(t) }

// httpRequest builds and signs an arbitrary request, for shapes no client
// would send.
func httpRequest(t testing.TB, method, path string, body []byte, header map[string]string) *http.Request {
	t.Helper()
	r := httptest.NewRequest(method, path, bytes.NewReader(body))
	r.Host = "127.0.0.1:18080"
	for k, v := range header {
		r.Header.Set(k, v)
	}
	signRequest(t, r, body, "", "", time.Time{})
	return r
}
