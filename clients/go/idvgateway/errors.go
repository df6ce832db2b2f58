package idvgateway

import (
	"errors"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// ErrorDetails is what a failed gateway call says, read from its google.rpc.Status.
//
// Every gateway error carries one ErrorInfo: Reason (UPPER_SNAKE, the vendor's own type
// where it has one, such as FACE_SESSION_EXPIRED), Domain (the vendor, such as "ableid",
// or "idv-gateway" for the gateway's own errors) and Metadata (the vendor's "code",
// "http_status", "type" and "message" when the vendor refused the call). Requests the
// gateway rejected itself also carry BadRequest field violations; RetryDelay is set when
// the vendor asked the caller to wait.
type ErrorDetails struct {
	// Code is the gRPC status code.
	Code codes.Code
	// Message is the status message.
	Message string
	// Reason is ErrorInfo.reason; empty without an ErrorInfo.
	Reason string
	// Domain is ErrorInfo.domain.
	Domain string
	// Metadata is ErrorInfo.metadata (never nil).
	Metadata map[string]string
	// FieldViolations are BadRequest's field violations, in order.
	FieldViolations []FieldViolation
	// RetryDelay is RetryInfo.retry_delay; zero without a RetryInfo.
	RetryDelay time.Duration
	// HasRetryInfo tells whether the status carried a RetryInfo.
	HasRetryInfo bool

	// ErrorInfo, BadRequest and RetryInfo are the detail messages as received, or nil.
	ErrorInfo  *errdetails.ErrorInfo
	BadRequest *errdetails.BadRequest
	RetryInfo  *errdetails.RetryInfo
	// Other holds any further details the client could decode.
	Other []proto.Message
}

// FieldViolation is one invalid request field.
type FieldViolation struct {
	// Field is the path of the field, such as "pinfl" or "hooks[0]".
	Field string
	// Description says what is wrong with it.
	Description string
}

// DetailsOf reads the status details of an error returned by a gRPC call. It returns
// false when err carries no gRPC status (nil, or a non-gRPC error).
func DetailsOf(err error) (*ErrorDetails, bool) {
	if err == nil {
		return nil, false
	}
	st, ok := status.FromError(err)
	if !ok {
		return nil, false
	}
	d := &ErrorDetails{Code: st.Code(), Message: st.Message(), Metadata: map[string]string{}}
	for _, detail := range st.Details() {
		switch m := detail.(type) {
		case *errdetails.ErrorInfo:
			if d.ErrorInfo == nil {
				d.ErrorInfo = m
				d.Reason, d.Domain = m.GetReason(), m.GetDomain()
				for k, v := range m.GetMetadata() {
					d.Metadata[k] = v
				}
			}
		case *errdetails.BadRequest:
			if d.BadRequest == nil {
				d.BadRequest = m
			}
			for _, v := range m.GetFieldViolations() {
				d.FieldViolations = append(d.FieldViolations, FieldViolation{Field: v.GetField(), Description: v.GetDescription()})
			}
		case *errdetails.RetryInfo:
			d.RetryInfo, d.HasRetryInfo = m, true
			d.RetryDelay = m.GetRetryDelay().AsDuration()
		case proto.Message:
			d.Other = append(d.Other, m)
		}
		// Details whose type the client does not know come back as errors; skip them.
	}
	return d, true
}

// ReasonOf returns the ErrorInfo reason of err, or "" when it has none.
func ReasonOf(err error) string {
	if d, ok := DetailsOf(err); ok {
		return d.Reason
	}
	return ""
}

// Violation returns the description of the first violation of field, and whether there
// is one.
func (d *ErrorDetails) Violation(field string) (string, bool) {
	for _, v := range d.FieldViolations {
		if v.Field == field {
			return v.Description, true
		}
	}
	return "", false
}

// VendorCode is the vendor's own error code (ErrorInfo metadata "code"), if any.
func (d *ErrorDetails) VendorCode() string { return d.Metadata["code"] }

// HTTPStatus is the HTTP status the vendor answered (ErrorInfo metadata "http_status"),
// if any.
func (d *ErrorDetails) HTTPStatus() string { return d.Metadata["http_status"] }

// VendorMessage is the vendor's own message (ErrorInfo metadata "message"), if any.
func (d *ErrorDetails) VendorMessage() string { return d.Metadata["message"] }

// IsCode tells whether err is a gRPC status with code c.
func IsCode(err error, c codes.Code) bool {
	var se interface{ GRPCStatus() *status.Status }
	return errors.As(err, &se) && se.GRPCStatus().Code() == c
}
