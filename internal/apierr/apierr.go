package apierr

import (
	"errors"
	"fmt"
)

// Code is a GameLift wire error code, sent as the bare `__type` of an error body.
type Code string

// Modeled GameLift exceptions.
const (
	InvalidRequest              Code = "InvalidRequestException"
	NotFound                    Code = "NotFoundException"
	Unauthorized                Code = "UnauthorizedException"
	Conflict                    Code = "ConflictException"
	InvalidFleetStatus          Code = "InvalidFleetStatusException"
	InvalidGameSessionStatus    Code = "InvalidGameSessionStatusException"
	GameSessionFull             Code = "GameSessionFullException"
	FleetCapacityExceeded       Code = "FleetCapacityExceededException"
	TerminalRoutingStrategy     Code = "TerminalRoutingStrategyException"
	IdempotentParameterMismatch Code = "IdempotentParameterMismatchException"
	LimitExceeded               Code = "LimitExceededException"
	NotReady                    Code = "NotReadyException"
	UnsupportedRegion           Code = "UnsupportedRegionException"
	InternalService             Code = "InternalServiceException"
	TaggingFailed               Code = "TaggingFailedException"
)

// Unmodeled errors (front door, protocol).
const (
	Throttling                 Code = "ThrottlingException"
	UnknownOperation           Code = "UnknownOperationException"
	UnsupportedOperation       Code = "UnsupportedOperationException"
	Serialization              Code = "SerializationException"
	MissingAuthenticationToken Code = "MissingAuthenticationTokenException"
	IncompleteSignature        Code = "IncompleteSignatureException"
	InvalidSignature           Code = "InvalidSignatureException"
	UnrecognizedClient         Code = "UnrecognizedClientException"
	AccessDenied               Code = "AccessDeniedException"
)

// Error is an API error: a wire code, the message the client sees, and an optional
// cause that only the log sees.
type Error struct {
	Code    Code
	Message string
	Cause   error
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Cause)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Cause }

// Is makes errors.Is(err, &Error{Code: X}) match on the code alone.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Message == "" && t.Code == e.Code
}

// New builds an Error with a formatted client message.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Internal wraps an unexpected failure; the client sees only a generic message.
func Internal(cause error) *Error {
	return &Error{Code: InternalService, Message: "An internal service error occurred.", Cause: cause}
}

// Invalid is shorthand for an InvalidRequestException naming a field.
func Invalid(format string, args ...any) *Error { return New(InvalidRequest, format, args...) }

// As returns the *Error in err's chain, or an InternalServiceException wrapping err.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return Internal(err)
}

// CodeOf returns the wire code of err, or "" if err is nil.
func CodeOf(err error) Code {
	if err == nil {
		return ""
	}
	return As(err).Code
}
