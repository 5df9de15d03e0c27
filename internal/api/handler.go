package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"github.com/google/uuid"

	"github.com/openlift/openlift/internal/apierr"
	"github.com/openlift/openlift/internal/clock"
)

// Credentials resolves an access key ID to its secret.
type Credentials interface {
	SecretFor(accessKeyID string) (secret string, ok bool)
}

// Config is what NewHandler needs.
type Config struct {
	// Service has one method per implemented GameLift operation, named after it:
	// func(ctx context.Context, in *shapes.XInput) (*shapes.XOutput, error).
	// Pass a pointer if the methods have pointer receivers.
	Service     any
	Credentials Credentials
	// Clock is the time X-Amz-Date is checked against; nil means the wall clock.
	Clock clock.Clock
	// Logger receives 5xx at error and everything else at debug; nil discards.
	Logger *slog.Logger
}

const (
	cborPathPrefix = "/service/GameLift/operation/"
	targetPrefix   = "GameLift."
	// maxBodyBytes bounds what we read before the signature is checked.
	// GameLift's largest members (game session data, player data maps) stay
	// well below it.
	maxBodyBytes = 8 << 20
	// pooledBufMax keeps the rare large body from pinning memory in the pool.
	pooledBufMax = 64 << 10
)

// requestEntityTooLarge is not a GameLift code; clients surface it as a
// generic error with this name, as they would from an AWS front door.
const requestEntityTooLarge apierr.Code = "RequestEntityTooLargeException"

type handler struct {
	ops   map[string]*operation
	creds Credentials
	clock clock.Clock
	log   *slog.Logger
	codecs
	verifier verifier
}

// NewHandler builds the control-plane handler. The operation table comes from
// cfg.Service's methods whose names are GameLift operations; such a method with
// the wrong signature is an error rather than an operation that silently
// reports "unsupported".
func NewHandler(cfg Config) (http.Handler, error) {
	if cfg.Service == nil {
		return nil, errors.New("api: Config.Service is nil")
	}
	if cfg.Credentials == nil {
		return nil, errors.New("api: Config.Credentials is nil")
	}
	ops, err := buildRegistry(cfg.Service)
	if err != nil {
		return nil, err
	}
	c, err := newCodecs()
	if err != nil {
		return nil, err
	}
	h := &handler{ops: ops, creds: cfg.Credentials, clock: cfg.Clock, log: cfg.Logger, codecs: c}
	if h.clock == nil {
		h.clock = clock.Real{}
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	return h, nil
}

// IsAPIRequest reports whether r is addressed to the control plane, so that a
// server can share one listener between it and the SDK WebSocket endpoint.
func IsAPIRequest(r *http.Request) bool {
	if r.Method != http.MethodPost {
		return false
	}
	if r.URL.Path == "/" {
		return r.Header.Get("X-Amz-Target") != ""
	}
	op, ok := strings.CutPrefix(r.URL.Path, cborPathPrefix)
	return ok && op != "" && !strings.Contains(op, "/")
}

type ctxKey struct{}

// reqInfo travels in one context value so that a request costs one
// context.WithValue, not two.
type reqInfo struct {
	requestID   string
	accessKeyID string
}

// RequestID returns the id assigned to the request being served (the
// x-amzn-RequestId the client sees), or "" outside a request.
func RequestID(ctx context.Context) string {
	if ri, ok := ctx.Value(ctxKey{}).(*reqInfo); ok {
		return ri.requestID
	}
	return ""
}

// AccessKeyID returns the access key the request was signed with, or "" outside
// a request.
func AccessKeyID(ctx context.Context) string {
	if ri, ok := ctx.Value(ctxKey{}).(*reqInfo); ok {
		return ri.accessKeyID
	}
	return ""
}

// detect tells the protocol from the path: only CBOR uses the operation path,
// so everything else is answered as JSON (which is also what a curious
// browser or curl gets).
func detect(r *http.Request) (protocol, string) {
	if op, ok := strings.CutPrefix(r.URL.Path, cborPathPrefix); ok {
		return protoCBOR, op
	}
	op, _ := strings.CutPrefix(r.Header.Get("X-Amz-Target"), targetPrefix)
	return protoJSON, op
}

// exchange is the per-request state, pooled with its buffers.
type exchange struct {
	body    []byte
	scratch []byte
	out     bytes.Buffer
}

var exchangePool = sync.Pool{New: func() any { return new(exchange) }}

func (x *exchange) release() {
	if cap(x.body) > pooledBufMax || cap(x.scratch) > pooledBufMax || x.out.Cap() > pooledBufMax {
		return
	}
	x.out.Reset()
	exchangePool.Put(x)
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p, opName := detect(r)
	ri := &reqInfo{requestID: uuid.NewString()}
	x := exchangePool.Get().(*exchange)
	defer x.release()

	out, err := h.serve(r, p, opName, ri, x)
	if err != nil {
		h.writeError(w, r, p, opName, ri, x, err)
		return
	}
	h.writeOutput(w, r, p, opName, ri, x, out)
}

// serve authenticates, decodes and dispatches. Authentication comes first, so
// an unauthenticated caller learns nothing about which operations exist.
func (h *handler) serve(r *http.Request, p protocol, opName string, ri *reqInfo, x *exchange) (any, error) {
	auth, aerr := parseAuthorization(r.Header)
	if aerr != nil {
		return nil, aerr
	}
	amzDate, aerr := checkDate(r.Header, h.clock.Now())
	if aerr != nil {
		return nil, aerr
	}
	if aerr := checkScope(&auth, amzDate); aerr != nil {
		return nil, aerr
	}
	secret, ok := h.creds.SecretFor(auth.accessKeyID)
	if !ok {
		return nil, apierr.New(apierr.UnrecognizedClient, "The security token included in the request is invalid.")
	}
	body, aerr := readBody(r, x.body[:0])
	x.body = body
	if aerr != nil {
		return nil, aerr
	}
	buf, crLen, aerr := h.verifier.verify(r, &auth, amzDate, secret, body, x.scratch)
	x.scratch = buf
	if aerr != nil {
		if aerr.Message == msgSignatureMismatch && h.log.Enabled(r.Context(), slog.LevelDebug) {
			h.log.LogAttrs(r.Context(), slog.LevelDebug, "api: signature mismatch",
				slog.String("request_id", ri.requestID),
				slog.String("canonical_request", string(buf[:crLen])),
				slog.String("string_to_sign", string(buf[crLen:])))
		}
		return nil, aerr
	}
	ri.accessKeyID = auth.accessKeyID

	op, aerr := h.lookup(r, p, opName)
	if aerr != nil {
		return nil, aerr
	}
	in := reflect.New(op.in)
	if aerr := h.decode(p, body, in.Interface()); aerr != nil {
		return nil, aerr
	}
	ctx := context.WithValue(r.Context(), ctxKey{}, ri)
	return op.call(ctx, in)
}

func (h *handler) lookup(r *http.Request, p protocol, opName string) (*operation, *apierr.Error) {
	if r.Method != http.MethodPost {
		return nil, apierr.New(apierr.UnknownOperation, "GameLift operations are called with POST, not %s.", clip(r.Method))
	}
	if p == protoJSON {
		if r.URL.Path != "/" {
			return nil, apierr.New(apierr.UnknownOperation, "No GameLift operation is served at %s.", clip(r.URL.Path))
		}
		if r.Header.Get("X-Amz-Target") == "" {
			return nil, apierr.New(apierr.UnknownOperation, "The request has no X-Amz-Target header.")
		}
	}
	op, ok := h.ops[opName]
	if !ok {
		if p == protoJSON {
			return nil, apierr.New(apierr.UnknownOperation, "%s is not a GameLift operation.", clip(r.Header.Get("X-Amz-Target")))
		}
		return nil, apierr.New(apierr.UnknownOperation, "%s is not a GameLift operation.", clip(opName))
	}
	if !op.fn.IsValid() {
		return nil, apierr.New(apierr.UnsupportedOperation, "openlift does not support the GameLift operation %s yet", op.name)
	}
	return op, nil
}

// readBody reads the whole body into b, refusing more than maxBodyBytes. It
// reads by hand rather than through io.ReadAll or MaxBytesReader so that a
// pooled buffer is reused and nothing else is allocated.
func readBody(r *http.Request, b []byte) ([]byte, *apierr.Error) {
	if r.ContentLength > maxBodyBytes {
		return b, errTooLarge()
	}
	if r.Body == nil || r.Body == http.NoBody {
		return b, nil
	}
	// One byte more than announced, so the read that reports EOF does not grow
	// the buffer.
	if need := int(r.ContentLength) + 1; r.ContentLength >= 0 && cap(b) < need {
		b = make([]byte, 0, need)
	}
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Body.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if len(b) > maxBodyBytes {
			return b, errTooLarge()
		}
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return b, errTooLarge()
			}
			return b, apierr.New(apierr.Serialization, "Could not read the request body.")
		}
	}
}

func errTooLarge() *apierr.Error {
	return apierr.New(requestEntityTooLarge, "The request body is larger than %d bytes.", maxBodyBytes)
}

func (h *handler) writeOutput(w http.ResponseWriter, r *http.Request, p protocol, opName string, ri *reqInfo, x *exchange, out any) {
	var body []byte
	switch p {
	case protoCBOR:
		if out == nil {
			body = []byte{0xa0}
		} else {
			if err := h.enc.MarshalToBuffer(out, &x.out); err != nil {
				h.writeError(w, r, p, opName, ri, x, apierr.Internal(fmt.Errorf("encode %s output as CBOR: %w", opName, err)))
				return
			}
			body = x.out.Bytes()
		}
	default:
		if out == nil {
			body = emptyJSONObject
		} else {
			var err error
			if body, err = json.Marshal(out); err != nil {
				h.writeError(w, r, p, opName, ri, x, apierr.Internal(fmt.Errorf("encode %s output as JSON: %w", opName, err)))
				return
			}
		}
	}
	h.write(w, p, http.StatusOK, ri.requestID, "", body)
	if h.log.Enabled(r.Context(), slog.LevelDebug) {
		h.log.LogAttrs(r.Context(), slog.LevelDebug, "api request",
			slog.String("request_id", ri.requestID),
			slog.String("operation", opName),
			slog.String("protocol", p.String()),
			slog.String("access_key_id", ri.accessKeyID),
			slog.Int("status", http.StatusOK))
	}
}

func (h *handler) writeError(w http.ResponseWriter, r *http.Request, p protocol, opName string, ri *reqInfo, x *exchange, err error) {
	ae := apierr.As(err)
	if ae == nil { // a typed nil *apierr.Error returned as error
		ae = apierr.Internal(err)
	}
	status := statusOf(ae.Code)
	msg := ae.Message
	level := slog.LevelDebug
	if status >= 500 {
		// The cause stays in the log; the client gets the id to quote.
		msg = "An internal service error occurred (request id " + ri.requestID + ")."
		level = slog.LevelError
		if r.Context().Err() != nil {
			// The client went away; not our failure.
			level = slog.LevelDebug
		}
	}
	if h.log.Enabled(r.Context(), level) {
		attrs := []slog.Attr{
			slog.String("request_id", ri.requestID),
			slog.String("operation", opName),
			slog.String("protocol", p.String()),
			slog.String("access_key_id", ri.accessKeyID),
			slog.Int("status", status),
			slog.String("code", string(ae.Code)),
			slog.String("message", ae.Message),
		}
		if ae.Cause != nil {
			attrs = append(attrs, slog.Any("cause", ae.Cause))
		}
		h.log.LogAttrs(r.Context(), level, "api request failed", attrs...)
	}

	eb := errorBody{Type: string(ae.Code), MessageLower: msg, Message: msg}
	var body []byte
	var encErr error
	if p == protoCBOR {
		x.out.Reset()
		encErr = h.enc.MarshalToBuffer(&eb, &x.out)
		body = x.out.Bytes()
	} else {
		body, encErr = json.Marshal(&eb)
	}
	if encErr != nil {
		// Three strings cannot fail to encode; if they do, say so plainly.
		h.log.Error("api: encode error body", slog.String("request_id", ri.requestID), slog.Any("error", encErr))
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	h.write(w, p, status, ri.requestID, ae.Code, body)
}

// write sends a complete response. x-amzn-ErrorType is JSON-only: it is what
// old Go JSON clients read, and the CBOR protocol has no such header.
func (h *handler) write(w http.ResponseWriter, p protocol, status int, requestID string, code apierr.Code, body []byte) {
	hdr := w.Header()
	if p == protoCBOR {
		hdr["Smithy-Protocol"] = hdrSmithyProtocol
		hdr["Content-Type"] = hdrCBORContentType
	} else {
		hdr["Content-Type"] = hdrJSONContentType
		if code != "" {
			hdr["X-Amzn-Errortype"] = []string{string(code)}
		}
	}
	// One backing array for both per-response values, capped so that an
	// append by a wrapping middleware cannot reach the neighbour.
	vals := []string{requestID, strconv.Itoa(len(body))}
	hdr["X-Amzn-Requestid"] = vals[0:1:1]
	hdr["Content-Length"] = vals[1:2:2]
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func statusOf(c apierr.Code) int {
	switch c {
	case apierr.InternalService:
		return http.StatusInternalServerError
	case apierr.MissingAuthenticationToken, apierr.IncompleteSignature, apierr.InvalidSignature, apierr.UnrecognizedClient:
		return http.StatusForbidden
	case requestEntityTooLarge:
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusBadRequest
}
