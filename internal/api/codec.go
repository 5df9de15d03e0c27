package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/fxamacker/cbor/v2"

	"github.com/openlift/openlift/internal/apierr"
)

// protocol is the wire protocol of one request; the response always uses the
// same one.
type protocol uint8

const (
	protoJSON protocol = iota // awsJson1_1: botocore, AWS CLI, JS v3
	protoCBOR                 // Smithy RPC v2 CBOR: aws-sdk-go-v2 ≥ v1.53.0
)

func (p protocol) String() string {
	if p == protoCBOR {
		return "rpc-v2-cbor"
	}
	return "awsJson1_1"
}

// Header values are shared between responses; net/http only reads them.
var (
	hdrJSONContentType = []string{"application/x-amz-json-1.1"}
	hdrCBORContentType = []string{"application/cbor"}
	hdrSmithyProtocol  = []string{"rpc-v2-cbor"}
)

// codecs holds the CBOR modes, which are immutable and built once.
type codecs struct {
	enc cbor.UserBufferEncMode
	dec cbor.DecMode
}

func newCodecs() (codecs, error) {
	enc, err := cbor.EncOptions{
		// Unsorted keys are valid CBOR and the cheapest to write.
		Sort: cbor.SortNone,
		// Keep float32 members (LatencyInMilliseconds) as CBOR float32: the Go
		// client rejects a float64 there. Doubles stay float64.
		ShortestFloat: cbor.ShortestFloatNone,
		IndefLength:   cbor.IndefLengthForbidden,
		String:        cbor.StringToTextString,
		FieldName:     cbor.FieldNameToTextString,
		// []byte (blobs) as byte strings, as the model says.
		ByteSliceLaterFormat: cbor.ByteSliceLaterFormatNone,
		TagsMd:               cbor.TagsAllowed,
		// Timestamps must be tag 1; shapes.Timestamp writes it, and this makes
		// a plain time.Time do the same.
		Time:    cbor.TimeUnixDynamic,
		TimeTag: cbor.EncTagRequired,
	}.UserBufferEncMode()
	if err != nil {
		return codecs{}, fmt.Errorf("api: cbor encoder: %w", err)
	}
	dec, err := cbor.DecOptions{
		// Smithy allows indefinite-length items even though Go never sends them.
		IndefLength: cbor.IndefLengthAllowed,
		// Timestamps arrive as tag 1 and shapes.Timestamp reads the tag itself.
		TagsMd: cbor.TagsAllowed,
		// Member names are case-sensitive in Smithy.
		FieldNameMatching: cbor.FieldNameMatchingCaseSensitive,
		// Strings and map keys must be text strings, as smithy-go itself insists.
		ByteStringToString:  cbor.ByteStringToStringForbidden,
		MapKeyByteString:    cbor.MapKeyByteStringForbidden,
		FieldNameByteString: cbor.FieldNameByteStringForbidden,
		UTF8:                cbor.UTF8RejectInvalid,
		// shapes.Timestamp insists on tag 1 itself; this holds any time.Time a
		// future shape might carry to the same rule.
		TimeTag: cbor.DecTagRequired,
		// Ints stay ints: a float into an int32 member is an error.
		IntDec:          cbor.IntDecConvertNone,
		MaxNestedLevels: 32,
	}.DecMode()
	if err != nil {
		return codecs{}, fmt.Errorf("api: cbor decoder: %w", err)
	}
	return codecs{enc: enc, dec: dec}, nil
}

// decode fills in (a pointer to a shapes input) from body. An empty body, an
// empty object/map and null all leave the zero input: botocore and JS send {}
// for parameterless calls and Go sends 0xA0.
func (c *codecs) decode(p protocol, body []byte, in any) *apierr.Error {
	if p == protoCBOR {
		if len(body) == 0 || len(body) == 1 && body[0] == 0xa0 {
			return nil
		}
		if body[0]>>5 != 5 && body[0] != 0xf6 { // major type 5 (map) or null
			return apierr.New(apierr.Serialization, "The request body must be a CBOR map.")
		}
		if err := c.dec.Unmarshal(body, in); err != nil {
			return apierr.New(apierr.Serialization, "%s", describeCBORError(err))
		}
		return nil
	}
	b := bytes.TrimSpace(body)
	if len(b) == 0 || string(b) == "{}" {
		return nil
	}
	if b[0] != '{' && string(b) != "null" {
		return apierr.New(apierr.Serialization, "The request body must be a JSON object.")
	}
	if err := json.Unmarshal(b, in); err != nil {
		return apierr.New(apierr.Serialization, "%s", describeJSONError(err))
	}
	return nil
}

func describeJSONError(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field != "" {
			return fmt.Sprintf("Member %s cannot be decoded from a JSON %s; it must be %s.", te.Field, te.Value, jsonKind(te.Type.String()))
		}
		return fmt.Sprintf("Cannot decode a JSON %s here; expected %s.", te.Value, jsonKind(te.Type.String()))
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("Malformed JSON request body at offset %d: %s.", se.Offset, strings.TrimPrefix(se.Error(), "json: "))
	}
	// Errors from shapes' own UnmarshalJSON (timestamps) say what went wrong.
	return "Cannot decode the JSON request body: " + strings.TrimPrefix(err.Error(), "json: ")
}

func describeCBORError(err error) string {
	var te *cbor.UnmarshalTypeError
	if errors.As(err, &te) && te.StructFieldName != "" {
		if strings.Contains(te.Error(), " overflows ") {
			return fmt.Sprintf("Member %s is out of range; it must be %s.", memberName(te.StructFieldName), jsonKind(te.GoType))
		}
		return fmt.Sprintf("Member %s cannot be decoded from a CBOR %s; it must be %s.",
			memberName(te.StructFieldName), cborTypeName(te.CBORType), jsonKind(te.GoType))
	}
	var de *cbor.DupMapKeyError
	if errors.As(err, &de) {
		return fmt.Sprintf("The request body repeats the map key %v.", de.Key)
	}
	var se *cbor.SyntaxError
	if errors.As(err, &se) || errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, new(*cbor.ExtraneousDataError)) {
		return "Malformed CBOR request body: " + strings.TrimPrefix(err.Error(), "cbor: ") + "."
	}
	// Errors without a member name come from shapes' own decoders
	// (timestamps must be tag 1) and say what is wrong themselves.
	return "Cannot decode the CBOR request body: " + strings.TrimPrefix(err.Error(), "cbor: ") + "."
}

// cborTypeName words fxamacker's CBOR type names for clients.
func cborTypeName(s string) string {
	if s == "primitives" {
		return "float or simple value"
	}
	return s
}

// memberName drops the Go type prefix fxamacker puts on field names
// ("shapes.CreateGameSessionInput.Name" -> "Name"); clients know wire names.
func memberName(s string) string {
	if i := strings.LastIndexByte(s, '.'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// jsonKind turns a Go type into the words a client can act on.
func jsonKind(goType string) string {
	t := strings.TrimLeft(goType, "*")
	switch {
	case t == "string":
		return "a string"
	case t == "int32":
		return "a 32-bit integer"
	case t == "int64":
		return "a 64-bit integer"
	case t == "float32" || t == "float64":
		return "a number"
	case t == "bool":
		return "a boolean"
	case t == "[]uint8":
		return "a blob"
	case strings.HasPrefix(t, "[]"):
		return "a list"
	case strings.HasPrefix(t, "map["):
		return "a map"
	case strings.HasSuffix(t, "Timestamp"):
		return "a timestamp"
	default:
		return "a structure"
	}
}

// errorBody is the error document both protocols carry. __type is the bare
// code, which every client accepts. "message" feeds botocore, JS and the
// generic Go path; "Message" is the modeled member typed exceptions read.
type errorBody struct {
	Type         string `json:"__type"`
	MessageLower string `json:"message"`
	Message      string `json:"Message"`
}

var emptyJSONObject = []byte("{}")
