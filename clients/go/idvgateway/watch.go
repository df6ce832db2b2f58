package idvgateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"math/rand/v2"
	"sync"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	attemptsv1 "github.com/idv-gateway/idv-gateway/clients/go/idv/attempts/v1"
)

// Defaults of [WatchOptions].
const (
	DefaultInitialBackoff = 250 * time.Millisecond
	DefaultMaxBackoff     = 15 * time.Second
	DefaultMaxRetries     = 10
)

// WatchOptions tune a [Watch]. The zero value is ready to use.
type WatchOptions struct {
	// InitialBackoff is the base wait before the first reconnect; it doubles with each
	// further failed reconnect in a row, up to MaxBackoff. Each wait is jittered to
	// between half and all of its base. Defaults: DefaultInitialBackoff, DefaultMaxBackoff.
	InitialBackoff, MaxBackoff time.Duration
	// MaxRetries is how many reconnects in a row may fail before Run gives up; the count
	// starts again whenever a message arrives. 0 means DefaultMaxRetries; a negative value
	// means no limit (the context still ends the watch).
	MaxRetries int
	// OnSnapshot, if set, receives the attempt's current state: the first message of a
	// watch started without a resume token. A non-nil error ends Run with that error.
	OnSnapshot func(*attemptsv1.Attempt) error
	// OnReconnect, if set, is called before each reconnect, with what caused it.
	OnReconnect func(Reconnect)
	// CallOptions are passed to every WatchAttempt call.
	CallOptions []grpc.CallOption
}

// Reconnect describes one reconnect of a [Watch], for logging and tests.
type Reconnect struct {
	// Retry counts the reconnects in a row without a message received, from 1.
	Retry int
	// Delay is the wait before this reconnect.
	Delay time.Duration
	// ResumeToken is the token the new call sends: the one of the last message received
	// ("" when none has arrived yet, which starts over with a snapshot; events the caller
	// already has are then skipped).
	ResumeToken string
	// Cause is the error that ended the previous call.
	Cause error
}

// Watch follows one attempt with idv.attempts.v1.AttemptService/WatchAttempt.
//
// It remembers the resume token of every message received (snapshot, events,
// heartbeats), hands each [attemptsv1.AttemptEvent] to the caller once (delivery is at
// least once across reconnects, so events are deduplicated by event_id), and when the
// call fails in a way that says the connection or stream broke — UNAVAILABLE, or a
// CANCELLED/INTERNAL/UNKNOWN status without an ErrorInfo, as a reset stream gives — it
// reconnects with exponential backoff and jitter and resends the last token.
//
// Run returns nil when the stream ends with OK: the attempt reached a terminal state
// (or, with follow_after_terminal, the gateway closed the stream). Any other error is
// returned as is — NOT_FOUND, FAILED_PRECONDITION with reason RESUME_TOKEN_EXPIRED,
// INVALID_ARGUMENT — and the context's error when it ends. Read its details with
// [DetailsOf].
//
// A Watch is for one Run at a time; its accessors may be called from any goroutine.
type Watch struct {
	client attemptsv1.AttemptServiceClient
	req    *attemptsv1.WatchAttemptRequest
	opts   WatchOptions

	mu         sync.Mutex
	token      string
	seen       map[string]struct{}
	snapshot   *attemptsv1.Attempt
	state      attemptsv1.AttemptState
	reconnects int
}

// NewWatch prepares a watch of the attempt named in req (its `attempt` oneof). A
// resume_token in req is where the watch starts; follow_after_terminal is kept on every
// call. opts may be nil.
func NewWatch(client attemptsv1.AttemptServiceClient, req *attemptsv1.WatchAttemptRequest, opts *WatchOptions) *Watch {
	w := &Watch{client: client, req: proto.Clone(req).(*attemptsv1.WatchAttemptRequest), seen: map[string]struct{}{}}
	if opts != nil {
		w.opts = *opts
	}
	if w.opts.InitialBackoff <= 0 {
		w.opts.InitialBackoff = DefaultInitialBackoff
	}
	if w.opts.MaxBackoff <= 0 {
		w.opts.MaxBackoff = DefaultMaxBackoff
	}
	if w.opts.MaxBackoff < w.opts.InitialBackoff {
		w.opts.MaxBackoff = w.opts.InitialBackoff
	}
	if w.opts.MaxRetries == 0 {
		w.opts.MaxRetries = DefaultMaxRetries
	}
	w.token = w.req.GetResumeToken()
	return w
}

// WatchAttempt is NewWatch(client, req, opts).Run(ctx, onEvent).
func WatchAttempt(
	ctx context.Context,
	client attemptsv1.AttemptServiceClient,
	req *attemptsv1.WatchAttemptRequest,
	opts *WatchOptions,
	onEvent func(*attemptsv1.AttemptEvent) error,
) error {
	return NewWatch(client, req, opts).Run(ctx, onEvent)
}

// ResumeToken is the token of the last message received: pass it as resume_token to
// continue this watch later, even from another process.
func (w *Watch) ResumeToken() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.token
}

// Snapshot is the attempt's state as the last snapshot message gave it, or nil.
func (w *Watch) Snapshot() *attemptsv1.Attempt {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.snapshot
}

// State is the attempt's state after the last snapshot or event received.
func (w *Watch) State() attemptsv1.AttemptState {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.state
}

// Reconnects counts the reconnects so far.
func (w *Watch) Reconnects() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.reconnects
}

// callerError wraps an error returned by the caller's callback, which ends Run as is.
type callerError struct{ err error }

func (e callerError) Error() string { return e.err.Error() }
func (e callerError) Unwrap() error { return e.err }

// Run watches until the stream ends with OK (nil), a non-retryable error, the context
// ends, or onEvent returns an error (returned as is).
func (w *Watch) Run(ctx context.Context, onEvent func(*attemptsv1.AttemptEvent) error) error {
	failures := 0
	for {
		err := w.stream(ctx, onEvent, &failures)
		if err == nil {
			return nil
		}
		var ce callerError
		if errors.As(err, &ce) {
			return ce.err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !Retryable(err) {
			return err
		}
		failures++
		if w.opts.MaxRetries > 0 && failures > w.opts.MaxRetries {
			return fmt.Errorf("idvgateway: watch gave up after %d reconnects in a row: %w", failures-1, err)
		}
		delay := w.backoff(failures, err)
		w.mu.Lock()
		w.reconnects++
		token := w.token
		w.mu.Unlock()
		if w.opts.OnReconnect != nil {
			w.opts.OnReconnect(Reconnect{Retry: failures, Delay: delay, ResumeToken: token, Cause: err})
		}
		timer := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		case <-timer.C:
		}
	}
}

// Events returns the watch as an iterator: each event once, then at most one non-nil
// error (never io.EOF: a clean end just ends the loop). Breaking out of the loop cancels
// the call.
//
//	for ev, err := range w.Events(ctx) {
//		if err != nil { return err }
//		...
//	}
func (w *Watch) Events(ctx context.Context) iter.Seq2[*attemptsv1.AttemptEvent, error] {
	return func(yield func(*attemptsv1.AttemptEvent, error) bool) {
		errStop := errors.New("stop")
		err := w.Run(ctx, func(ev *attemptsv1.AttemptEvent) error {
			if !yield(ev, nil) {
				return errStop
			}
			return nil
		})
		if err != nil && !errors.Is(err, errStop) {
			yield(nil, err)
		}
	}
}

// stream makes one WatchAttempt call and reads it to its end.
func (w *Watch) stream(ctx context.Context, onEvent func(*attemptsv1.AttemptEvent) error, failures *int) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	req := proto.Clone(w.req).(*attemptsv1.WatchAttemptRequest)
	req.ResumeToken = w.ResumeToken()
	s, err := w.client.WatchAttempt(ctx, req, w.opts.CallOptions...)
	if err != nil {
		return err
	}
	for {
		msg, err := s.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		*failures = 0
		w.mu.Lock()
		if t := msg.GetResumeToken(); t != "" {
			w.token = t
		}
		w.mu.Unlock()
		switch kind := msg.GetKind().(type) {
		case *attemptsv1.WatchAttemptResponse_Attempt:
			w.mu.Lock()
			w.snapshot, w.state = kind.Attempt, kind.Attempt.GetState()
			w.mu.Unlock()
			if w.opts.OnSnapshot != nil {
				if err := w.opts.OnSnapshot(kind.Attempt); err != nil {
					return callerError{err}
				}
			}
		case *attemptsv1.WatchAttemptResponse_Event:
			ev := kind.Event
			w.mu.Lock()
			_, dup := w.seen[ev.GetEventId()]
			if !dup {
				if ev.GetEventId() != "" {
					w.seen[ev.GetEventId()] = struct{}{}
				}
				w.state = ev.GetAttemptState()
			}
			w.mu.Unlock()
			if dup {
				continue
			}
			if err := onEvent(ev); err != nil {
				return callerError{err}
			}
		}
		// Heartbeats (and kinds this version does not know) only move the token.
	}
}

// backoff is the jittered wait before reconnect number n (from 1) in a row, at least
// the RetryInfo delay the status asked for.
func (w *Watch) backoff(n int, cause error) time.Duration {
	base := w.opts.InitialBackoff
	for i := 1; i < n && base < w.opts.MaxBackoff; i++ {
		base *= 2
	}
	base = min(base, w.opts.MaxBackoff)
	delay := base/2 + rand.N(base/2+1)
	if d, ok := DetailsOf(cause); ok && d.HasRetryInfo && d.RetryDelay > delay {
		delay = d.RetryDelay
	}
	return delay
}

// Retryable tells whether a WatchAttempt error means the connection or the stream broke,
// so that resuming from the last token is right: UNAVAILABLE, or CANCELLED, INTERNAL or
// UNKNOWN without an ErrorInfo (a reset stream, or one that ended without a status — the
// gateway puts an ErrorInfo in every error it returns itself).
func Retryable(err error) bool {
	st, ok := status.FromError(err)
	if !ok {
		return false
	}
	switch st.Code() {
	case codes.Unavailable:
		return true
	case codes.Canceled, codes.Internal, codes.Unknown:
		for _, d := range st.Details() {
			if _, ok := d.(*errdetails.ErrorInfo); ok {
				return false
			}
		}
		return true
	default:
		return false
	}
}
