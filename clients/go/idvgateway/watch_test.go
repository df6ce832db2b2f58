package idvgateway

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	attemptsv1 "github.com/idv-gateway/idv-gateway/clients/go/idv/attempts/v1"
)

const (
	pending   = attemptsv1.AttemptState_ATTEMPT_STATE_PENDING
	succeeded = attemptsv1.AttemptState_ATTEMPT_STATE_SUCCEEDED
)

type stream = grpc.ServerStreamingServer[attemptsv1.WatchAttemptResponse]

func fastOpts(reconnects *[]Reconnect) *WatchOptions {
	return &WatchOptions{
		InitialBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, MaxRetries: 3,
		OnReconnect: func(r Reconnect) { *reconnects = append(*reconnects, r) },
	}
}

func req() *attemptsv1.WatchAttemptRequest {
	return &attemptsv1.WatchAttemptRequest{Attempt: &attemptsv1.WatchAttemptRequest_AbleidAttemptId{AbleidAttemptId: "att-1"}}
}

func sequences(events []*attemptsv1.AttemptEvent) []int64 {
	var out []int64
	for _, e := range events {
		out = append(out, e.GetSequence())
	}
	return out
}

func errorWithInfo(t *testing.T, c codes.Code, reason string) error {
	t.Helper()
	st, err := status.New(c, reason).WithDetails(&errdetails.ErrorInfo{Reason: reason, Domain: "idv-gateway"})
	if err != nil {
		t.Fatal(err)
	}
	return st.Err()
}

// The stream fails with UNAVAILABLE after a snapshot, an event and a heartbeat: the
// watch resumes from the heartbeat's token, skips the redelivered event and ends with
// the stream's OK.
func TestWatchResumesWithLastTokenAfterUnavailable(t *testing.T) {
	f := &fakeAttempts{}
	f.calls = append(f.calls,
		func(_ int, _ *attemptsv1.WatchAttemptRequest, s stream) error {
			if err := sendAll(s, snapshotMsg("t0", pending), eventMsg("t1", 1, pending), heartbeatMsg("t2")); err != nil {
				return err
			}
			return status.Error(codes.Unavailable, "gateway restarting")
		},
		func(_ int, _ *attemptsv1.WatchAttemptRequest, s stream) error {
			// At least once: event 1 again, then the rest.
			return sendAll(s, eventMsg("t1", 1, pending), eventMsg("t3", 2, succeeded))
		},
	)
	client, _ := serve(t, f)
	var reconnects []Reconnect
	var snapshots int
	opts := fastOpts(&reconnects)
	opts.OnSnapshot = func(*attemptsv1.Attempt) error { snapshots++; return nil }
	w := NewWatch(client, req(), opts)
	var got []*attemptsv1.AttemptEvent
	err := w.Run(context.Background(), func(e *attemptsv1.AttemptEvent) error { got = append(got, e); return nil })
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if s := sequences(got); !slices.Equal(s, []int64{1, 2}) {
		t.Errorf("sequences = %v, want [1 2]", s)
	}
	if toks := f.tokens(); !slices.Equal(toks, []string{"", "t2"}) {
		t.Errorf("tokens sent = %q, want [\"\" t2]", toks)
	}
	if len(reconnects) != 1 || reconnects[0].ResumeToken != "t2" || status.Code(reconnects[0].Cause) != codes.Unavailable {
		t.Errorf("reconnects = %+v", reconnects)
	}
	if snapshots != 1 || w.Snapshot().GetAttemptId() != "att-1" {
		t.Errorf("snapshots = %d, snapshot = %v", snapshots, w.Snapshot())
	}
	if w.State() != succeeded || w.ResumeToken() != "t3" || w.Reconnects() != 1 {
		t.Errorf("state %v token %q reconnects %d", w.State(), w.ResumeToken(), w.Reconnects())
	}
}

// The TCP connection is cut (RST) mid-stream: the client sees UNAVAILABLE, reconnects on
// a new connection and resumes.
func TestWatchResumesAfterConnectionDrop(t *testing.T) {
	f := &fakeAttempts{}
	sent := make(chan struct{})
	f.calls = append(f.calls,
		func(_ int, _ *attemptsv1.WatchAttemptRequest, s stream) error {
			if err := sendAll(s, snapshotMsg("t0", pending), eventMsg("t1", 1, pending)); err != nil {
				return err
			}
			close(sent)
			<-s.Context().Done()
			return s.Context().Err()
		},
		func(_ int, _ *attemptsv1.WatchAttemptRequest, s stream) error {
			return sendAll(s, eventMsg("t2", 2, succeeded))
		},
	)
	client, lis := serve(t, f)
	go func() { <-sent; time.Sleep(50 * time.Millisecond); lis.dropAll() }()
	var reconnects []Reconnect
	var got []*attemptsv1.AttemptEvent
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := WatchAttempt(ctx, client, req(), fastOpts(&reconnects), func(e *attemptsv1.AttemptEvent) error {
		got = append(got, e)
		return nil
	})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if s := sequences(got); !slices.Equal(s, []int64{1, 2}) {
		t.Errorf("sequences = %v", s)
	}
	if toks := f.tokens(); len(toks) < 2 || toks[len(toks)-1] != "t1" {
		t.Errorf("tokens sent = %q, want the last to be t1", toks)
	}
	if len(reconnects) == 0 || reconnects[0].ResumeToken != "t1" {
		t.Errorf("reconnects = %+v", reconnects)
	}
}

// A stream reset without a status (no ErrorInfo) is retried; the reconnect before any
// message resends the caller's own start token.
func TestWatchStartsFromCallerTokenAndRetriesBareInternal(t *testing.T) {
	f := &fakeAttempts{}
	f.calls = append(f.calls,
		func(int, *attemptsv1.WatchAttemptRequest, stream) error {
			return status.Error(codes.Internal, "stream terminated by RST_STREAM")
		},
		func(_ int, _ *attemptsv1.WatchAttemptRequest, s stream) error {
			return sendAll(s, eventMsg("t6", 2, succeeded))
		},
	)
	client, _ := serve(t, f)
	r := req()
	r.ResumeToken = "t5"
	var reconnects []Reconnect
	var got []*attemptsv1.AttemptEvent
	err := WatchAttempt(context.Background(), client, r, fastOpts(&reconnects), func(e *attemptsv1.AttemptEvent) error {
		got = append(got, e)
		return nil
	})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if toks := f.tokens(); !slices.Equal(toks, []string{"t5", "t5"}) {
		t.Errorf("tokens sent = %q", toks)
	}
	if len(got) != 1 {
		t.Errorf("got %d events", len(got))
	}
}

// Errors that are answers, not broken connections, are returned at once.
func TestWatchSurfacesNonRetryableErrors(t *testing.T) {
	cases := map[string]error{
		"not found":            errorWithInfo(t, codes.NotFound, "ATTEMPT_NOT_FOUND"),
		"resume token expired": errorWithInfo(t, codes.FailedPrecondition, "RESUME_TOKEN_EXPIRED"),
		"invalid token":        errorWithInfo(t, codes.InvalidArgument, "INVALID_ARGUMENT"),
		"internal with info":   errorWithInfo(t, codes.Internal, "INTERNAL"),
	}
	for name, want := range cases {
		t.Run(name, func(t *testing.T) {
			f := &fakeAttempts{}
			f.calls = append(f.calls, func(int, *attemptsv1.WatchAttemptRequest, stream) error { return want })
			client, _ := serve(t, f)
			var reconnects []Reconnect
			err := WatchAttempt(context.Background(), client, req(), fastOpts(&reconnects), func(*attemptsv1.AttemptEvent) error { return nil })
			if status.Code(err) != status.Code(want) || ReasonOf(err) != ReasonOf(want) {
				t.Fatalf("err = %v, want %v", err, want)
			}
			if len(f.tokens()) != 1 || len(reconnects) != 0 {
				t.Errorf("calls %d, reconnects %d", len(f.tokens()), len(reconnects))
			}
		})
	}
}

// Reconnects that keep failing give up after MaxRetries, keeping the cause.
func TestWatchGivesUpAfterMaxRetries(t *testing.T) {
	f := &fakeAttempts{}
	for range 4 {
		f.calls = append(f.calls, func(int, *attemptsv1.WatchAttemptRequest, stream) error {
			return status.Error(codes.Unavailable, "down")
		})
	}
	client, _ := serve(t, f)
	var reconnects []Reconnect
	err := WatchAttempt(context.Background(), client, req(), fastOpts(&reconnects), func(*attemptsv1.AttemptEvent) error { return nil })
	if status.Code(err) != codes.Unavailable || len(f.tokens()) != 4 || len(reconnects) != 3 {
		t.Fatalf("err = %v, calls %d, reconnects %d", err, len(f.tokens()), len(reconnects))
	}
}

// Cancelling the context ends the watch with the context's error; an error from the
// callback ends it with that error; the iterator stops when the loop breaks.
func TestWatchStopsOnCancelCallbackErrorAndBreak(t *testing.T) {
	endless := func(_ int, _ *attemptsv1.WatchAttemptRequest, s stream) error {
		if err := sendAll(s, snapshotMsg("t0", pending), eventMsg("t1", 1, pending)); err != nil {
			return err
		}
		<-s.Context().Done()
		return nil
	}
	t.Run("cancel", func(t *testing.T) {
		f := &fakeAttempts{}
		f.calls = append(f.calls, endless)
		client, _ := serve(t, f)
		ctx, cancel := context.WithCancel(context.Background())
		err := WatchAttempt(ctx, client, req(), nil, func(*attemptsv1.AttemptEvent) error { cancel(); return nil })
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("callback error", func(t *testing.T) {
		f := &fakeAttempts{}
		f.calls = append(f.calls, endless)
		client, _ := serve(t, f)
		mine := errors.New("mine")
		err := WatchAttempt(context.Background(), client, req(), nil, func(*attemptsv1.AttemptEvent) error { return mine })
		if !errors.Is(err, mine) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("iterator break", func(t *testing.T) {
		f := &fakeAttempts{}
		f.calls = append(f.calls, endless)
		client, _ := serve(t, f)
		n := 0
		for ev, err := range NewWatch(client, req(), nil).Events(context.Background()) {
			if err != nil {
				t.Fatal(err)
			}
			if ev.GetSequence() != 1 {
				t.Fatalf("event %v", ev)
			}
			n++
			break
		}
		if n != 1 {
			t.Fatalf("n = %d", n)
		}
	})
}

func TestBackoffGrowsIsJitteredAndHonoursRetryInfo(t *testing.T) {
	w := NewWatch(nil, req(), &WatchOptions{InitialBackoff: 100 * time.Millisecond, MaxBackoff: 400 * time.Millisecond})
	for n, base := range map[int]time.Duration{1: 100, 2: 200, 3: 400, 9: 400} {
		base *= time.Millisecond
		for range 20 {
			if d := w.backoff(n, status.Error(codes.Unavailable, "")); d < base/2 || d > base {
				t.Fatalf("backoff(%d) = %v, want in [%v, %v]", n, d, base/2, base)
			}
		}
	}
	st, _ := status.New(codes.Unavailable, "wait").WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(3 * time.Second)})
	if d := w.backoff(1, st.Err()); d != 3*time.Second {
		t.Fatalf("backoff with RetryInfo = %v", d)
	}
}
