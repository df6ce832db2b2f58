package idvgateway

import (
	"context"
	"errors"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
)

func TestDetailsOfReadsErrorInfoBadRequestAndRetryInfo(t *testing.T) {
	st, err := status.New(codes.InvalidArgument, "invalid request: pinfl").WithDetails(
		&errdetails.ErrorInfo{Reason: "INVALID_ARGUMENT", Domain: "idv-gateway", Metadata: map[string]string{"code": "10201", "http_status": "400", "message": "bad"}},
		&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{
			{Field: "pinfl", Description: "must be 14 digits"},
			{Field: "birth_date", Description: "must be DD.MM.YYYY"},
		}},
		&errdetails.RetryInfo{RetryDelay: durationpb.New(1500 * time.Millisecond)},
	)
	if err != nil {
		t.Fatal(err)
	}
	d, ok := DetailsOf(st.Err())
	if !ok {
		t.Fatal("no details")
	}
	if d.Code != codes.InvalidArgument || d.Reason != "INVALID_ARGUMENT" || d.Domain != "idv-gateway" {
		t.Errorf("details = %+v", d)
	}
	if d.VendorCode() != "10201" || d.HTTPStatus() != "400" || d.VendorMessage() != "bad" {
		t.Errorf("metadata = %v", d.Metadata)
	}
	if desc, ok := d.Violation("pinfl"); !ok || desc != "must be 14 digits" || len(d.FieldViolations) != 2 {
		t.Errorf("violations = %+v", d.FieldViolations)
	}
	if !d.HasRetryInfo || d.RetryDelay != 1500*time.Millisecond {
		t.Errorf("retry = %v %v", d.HasRetryInfo, d.RetryDelay)
	}
	if !IsCode(st.Err(), codes.InvalidArgument) || ReasonOf(st.Err()) != "INVALID_ARGUMENT" {
		t.Error("IsCode/ReasonOf")
	}
}

func TestDetailsOfWithoutStatus(t *testing.T) {
	if _, ok := DetailsOf(nil); ok {
		t.Error("nil has details")
	}
	if _, ok := DetailsOf(errors.New("plain")); ok {
		t.Error("plain error has details")
	}
	d, ok := DetailsOf(status.Error(codes.Unavailable, "down"))
	if !ok || d.Reason != "" || d.Metadata == nil || d.HasRetryInfo {
		t.Errorf("bare status: %+v", d)
	}
}

func TestWithB2CoreToken(t *testing.T) {
	for in, want := range map[string]string{"abc": "Bearer abc", "Bearer abc": "Bearer abc"} {
		md, _ := metadata.FromOutgoingContext(WithB2CoreToken(context.Background(), in))
		if got := md.Get(B2CoreAuthorizationKey); len(got) != 1 || got[0] != want {
			t.Errorf("%q: %v", in, got)
		}
	}
}
