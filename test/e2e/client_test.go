package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/smithy-go"
	smithycbor "github.com/aws/smithy-go/encoding/cbor"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// apiClient is what the scenario needs from a GameLift client: call one
// operation with an aws-sdk-go-v2 gamelift input struct and fill the matching
// output struct. Both implementations return the decoded top-level response
// members (raw) so that tests can see what a typed struct hides, such as an
// empty list versus an absent one, and report errors as *apiError.
type apiClient interface {
	Name() string
	Invoke(ctx context.Context, op string, in, out any) (raw map[string]any, err error)
	// WithCredentials returns a client that signs with creds, or sends
	// unsigned requests when creds is nil.
	WithCredentials(creds *aws.Credentials) apiClient
	// Unvalidated returns a client that sends what it is given without local
	// checks (the JSON client never checks; the Go client checks required
	// members unless its validation middleware is removed).
	Unvalidated() apiClient
}

// apiError is an error as the client reports it.
type apiError struct {
	Op         string
	Code       string // as the client decides it (botocore: __type, bare after '#')
	Message    string // as the client decides it
	HTTPStatus int
	// Modeled is the modeled exception type the client produced ("" for a
	// generic error): the Go client's types.<X>Exception.
	Modeled string
	// ModeledMessage is the exception's Message member (Go: the typed
	// struct's Message; JSON: the body's "Message").
	ModeledMessage string
	// RawType is the body's __type as sent.
	RawType string
	Body    string
	// Header is the error response's headers.
	Header http.Header
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%s: %s (HTTP %d): %s", e.Op, e.Code, e.HTTPStatus, e.Message)
}

// opName derives the operation name from an input struct pointer.
func opName(in any) string {
	return strings.TrimSuffix(reflect.TypeOf(in).Elem().Name(), "Input")
}

// call invokes the operation whose input in is; O must be its output type.
func call[O any](c apiClient, in any) (*O, map[string]any, error) {
	op := opName(in)
	if want := op + "Output"; reflect.TypeFor[O]().Name() != want {
		panic(fmt.Sprintf("call: output type %s for %s", reflect.TypeFor[O]().Name(), op))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out := new(O)
	raw, err := c.Invoke(ctx, op, in, out)
	return out, raw, err
}

// must invokes an operation that must succeed.
func must[O any](t testing.TB, c apiClient, in any) (*O, map[string]any) {
	t.Helper()
	out, raw, err := call[O](c, in)
	if err != nil {
		t.Fatalf("[%s] %s: %v", c.Name(), opName(in), err)
	}
	return out, raw
}

// ---------------------------------------------------------------------------
// aws-sdk-go-v2 gamelift client (Smithy RPC v2 CBOR)

type goClient struct {
	url        string
	creds      *aws.Credentials
	httpc      *http.Client
	noValidate bool
	c          *gamelift.Client
}

func newGoClient(url string, creds *aws.Credentials, httpc *http.Client) *goClient {
	if httpc == nil {
		httpc = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	}
	g := &goClient{url: url, creds: creds, httpc: httpc}
	opts := gamelift.Options{
		Region:           region,
		BaseEndpoint:     aws.String(url),
		RetryMaxAttempts: 1,
		HTTPClient:       httpc,
	}
	if creds != nil {
		c := *creds
		opts.Credentials = aws.NewCredentialsCache(aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return c, nil
		}))
	}
	g.c = gamelift.New(opts)
	return g
}

func (g *goClient) Name() string { return "aws-sdk-go-v2" }

func (g *goClient) WithCredentials(creds *aws.Credentials) apiClient {
	n := newGoClient(g.url, creds, g.httpc)
	n.noValidate = g.noValidate
	return n
}

func (g *goClient) Unvalidated() apiClient {
	n := newGoClient(g.url, g.creds, g.httpc)
	n.noValidate = true
	return n
}

// captureDoer keeps the raw response body of one call.
type captureDoer struct {
	inner  gamelift.HTTPClient
	status int
	header http.Header
	body   []byte
}

func (d *captureDoer) Do(r *http.Request) (*http.Response, error) {
	resp, err := d.inner.Do(r)
	if err != nil {
		return resp, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	d.status, d.header, d.body = resp.StatusCode, resp.Header, b
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return resp, nil
}

func (g *goClient) Invoke(ctx context.Context, op string, in, out any) (map[string]any, error) {
	m := reflect.ValueOf(g.c).MethodByName(op)
	if !m.IsValid() {
		return nil, fmt.Errorf("gamelift client has no operation %s", op)
	}
	capt := &captureDoer{inner: g.httpc}
	optFn := func(o *gamelift.Options) {
		o.HTTPClient = capt
		if g.noValidate {
			o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
				_, err := s.Initialize.Remove("OperationInputValidation")
				if err != nil && !strings.Contains(err.Error(), "not found") {
					return err
				}
				return nil
			})
		}
	}
	res := m.Call([]reflect.Value{reflect.ValueOf(ctx), reflect.ValueOf(in), reflect.ValueOf(optFn)})
	if errv := res[1]; !errv.IsNil() {
		return nil, g.convertError(op, errv.Interface().(error), capt)
	}
	if capt.header.Get("Smithy-Protocol") != "rpc-v2-cbor" {
		return nil, fmt.Errorf("%s: response lacks smithy-protocol: rpc-v2-cbor", op)
	}
	if ct := capt.header.Get("Content-Type"); len(capt.body) > 0 && ct != "application/cbor" {
		return nil, fmt.Errorf("%s: Content-Type %q, want application/cbor", op, ct)
	}
	if capt.header.Get("X-Amzn-Requestid") == "" {
		return nil, fmt.Errorf("%s: no x-amzn-RequestId header", op)
	}
	if out != nil {
		reflect.ValueOf(out).Elem().Set(res[0].Elem())
	}
	raw := map[string]any{}
	if len(capt.body) > 0 {
		v, err := smithycbor.Decode(capt.body)
		if err != nil {
			return nil, fmt.Errorf("%s: response body is not CBOR: %v", op, err)
		}
		m, ok := cborToAny(v).(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s: response body is a %T, not a CBOR map", op, v)
		}
		raw = m
		if out != nil {
			if err := checkCBOR(op+"Output", raw, reflect.TypeOf(out).Elem()); err != nil {
				return nil, err
			}
		}
	}
	return raw, nil
}

func (g *goClient) convertError(op string, err error, capt *captureDoer) error {
	e := &apiError{Op: op, Body: fmt.Sprintf("%x", capt.body), Header: capt.header}
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		e.HTTPStatus = re.HTTPStatusCode()
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return fmt.Errorf("%s: not an API error: %w", op, err)
	}
	e.Code, e.Message = ae.ErrorCode(), ae.ErrorMessage()
	if v, err := smithycbor.Decode(capt.body); err == nil {
		if m, ok := cborToAny(v).(map[string]any); ok {
			e.RawType, _ = m["__type"].(string)
		}
	}
	rv := reflect.ValueOf(ae)
	if rv.Kind() == reflect.Pointer && strings.HasSuffix(rv.Type().Elem().PkgPath(), "service/gamelift/types") {
		e.Modeled = rv.Type().Elem().Name()
		if f := rv.Elem().FieldByName("Message"); f.IsValid() && !f.IsNil() {
			e.ModeledMessage = f.Elem().String()
		}
	}
	return e
}

// ---------------------------------------------------------------------------
// AWS JSON 1.1, signed and parsed the way botocore does it

type jsonClient struct {
	url   string
	creds *aws.Credentials
	httpc *http.Client
}

func newJSONClient(url string, creds *aws.Credentials) *jsonClient {
	return &jsonClient{url: url, creds: creds, httpc: &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}}
}

func (j *jsonClient) Name() string { return "awsJson1_1" }

func (j *jsonClient) WithCredentials(creds *aws.Credentials) apiClient {
	return &jsonClient{url: j.url, creds: creds, httpc: j.httpc}
}

func (j *jsonClient) Unvalidated() apiClient { return j }

// botocoreSignedHeaders is what botocore signs for GameLift (spec §1.4).
const botocoreSignedHeaders = "content-type;host;x-amz-date;x-amz-target"

func (j *jsonClient) Invoke(ctx context.Context, op string, in, out any) (map[string]any, error) {
	body := []byte("{}")
	if in != nil {
		w, _ := toWire(reflect.ValueOf(in))
		var err error
		if body, err = json.Marshal(w); err != nil {
			return nil, err
		}
	}
	resp, err := j.send(ctx, "GameLift."+op, body)
	if err != nil {
		return nil, err
	}
	return j.decode(op, resp, out)
}

// send posts one signed AWS JSON 1.1 request; target is the X-Amz-Target.
func (j *jsonClient) send(ctx context.Context, target string, body []byte) (*http.Response, error) {
	return j.sendRaw(ctx, target, body, body)
}

// sendRaw signs signBody and sends body (they differ only in tests of the
// signature check).
func (j *jsonClient) sendRaw(ctx context.Context, target string, signBody, body []byte) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, j.url+"/", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", target)
	if j.creds != nil {
		sum := sha256.Sum256(signBody)
		// Sign before the body is attached: botocore sends Content-Length
		// but does not sign it, and the Go signer signs it when it is set.
		if err := v4.NewSigner().SignHTTP(ctx, *j.creds, req, hex.EncodeToString(sum[:]), "gamelift", region, time.Now()); err != nil {
			return nil, err
		}
		if got := signedHeaders(req.Header.Get("Authorization")); got != botocoreSignedHeaders {
			return nil, fmt.Errorf("test client signed %q, want %q", got, botocoreSignedHeaders)
		}
	}
	req.Header.Set("User-Agent", "Boto3/1.40.11 md/Botocore#1.43.11 ua/2.1 os/linux lang/python#3.11.7")
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.ContentLength = int64(len(body))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	return j.httpc.Do(req)
}

func signedHeaders(auth string) string {
	_, rest, ok := strings.Cut(auth, "SignedHeaders=")
	if !ok {
		return ""
	}
	sh, _, _ := strings.Cut(rest, ",")
	return sh
}

func (j *jsonClient) decode(op string, resp *http.Response, out any) (map[string]any, error) {
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	decErr := dec.Decode(&v)
	obj, isObj := v.(map[string]any)
	if resp.StatusCode != http.StatusOK {
		// botocore: code from __type only (else the status), cut at ':',
		// then the text after the last '#'; message from "message", else
		// "Message".
		e := &apiError{Op: op, HTTPStatus: resp.StatusCode, Body: string(b), Code: fmt.Sprint(resp.StatusCode), Header: resp.Header}
		if isObj {
			if ty, ok := obj["__type"].(string); ok {
				e.RawType = ty
				code, _, _ := strings.Cut(ty, ":")
				if i := strings.LastIndex(code, "#"); i >= 0 {
					code = code[i+1:]
				}
				e.Code = code
			}
			if m, ok := obj["message"].(string); ok {
				e.Message = m
			} else if m, ok := obj["Message"].(string); ok {
				e.Message = m
			}
			e.ModeledMessage, _ = obj["Message"].(string)
		}
		return nil, e
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/x-amz-json-1.1" {
		return nil, fmt.Errorf("%s: Content-Type %q, want application/x-amz-json-1.1", op, ct)
	}
	if resp.Header.Get("X-Amzn-Requestid") == "" {
		return nil, fmt.Errorf("%s: no x-amzn-RequestId header", op)
	}
	if decErr != nil || !isObj {
		return nil, fmt.Errorf("%s: response body is not a JSON object: %q", op, b)
	}
	if out != nil {
		if err := fromWire(op+"Output", obj, reflect.ValueOf(out).Elem()); err != nil {
			return nil, err
		}
	}
	return obj, nil
}
