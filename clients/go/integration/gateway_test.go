package integration

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"

	ableidv1 "github.com/idv-gateway/idv-gateway/clients/go/idv/ableid/v1"
	attemptsv1 "github.com/idv-gateway/idv-gateway/clients/go/idv/attempts/v1"
	b2corev1 "github.com/idv-gateway/idv-gateway/clients/go/idv/b2core/v1"
	bafv1 "github.com/idv-gateway/idv-gateway/clients/go/idv/baf/v1"
	"github.com/idv-gateway/idv-gateway/clients/go/idvgateway"
)

const (
	pinfl     = "31205901234567"
	birthDate = "12.05.1990"
)

// tinyJPEG is a valid 1x1 JPEG, for calls that need a face image.
var tinyJPEG = []byte{
	0xff, 0xd8, 0xff, 0xdb, 0x00, 0x43, 0x00, 0x08, 0x06, 0x06, 0x07, 0x06, 0x05, 0x08, 0x07, 0x07,
	0x07, 0x09, 0x09, 0x08, 0x0a, 0x0c, 0x14, 0x0d, 0x0c, 0x0b, 0x0b, 0x0c, 0x19, 0x12, 0x13, 0x0f,
	0x14, 0x1d, 0x1a, 0x1f, 0x1e, 0x1d, 0x1a, 0x1c, 0x1c, 0x20, 0x24, 0x2e, 0x27, 0x20, 0x22, 0x2c,
	0x23, 0x1c, 0x1c, 0x28, 0x37, 0x29, 0x2c, 0x30, 0x31, 0x34, 0x34, 0x34, 0x1f, 0x27, 0x39, 0x3d,
	0x38, 0x32, 0x3c, 0x2e, 0x33, 0x34, 0x32, 0xff, 0xc0, 0x00, 0x0b, 0x08, 0x00, 0x01, 0x00, 0x01,
	0x01, 0x01, 0x11, 0x00, 0xff, 0xc4, 0x00, 0x14, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09, 0xff, 0xc4, 0x00, 0x14,
	0x10, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0xff, 0xda, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3f, 0x00, 0x2a, 0x9f,
	0xff, 0xd9,
}

// gateway holds clients of the gateway under test.
type gateway struct {
	conn     *grpc.ClientConn
	ableid   ableidv1.AbleIdServiceClient
	baf      bafv1.ApplicantServiceClient
	validate bafv1.ValidationServiceClient
	b2core   b2corev1.VerificationServiceClient
	attempts attemptsv1.AttemptServiceClient
	httpBase string
}

func connect(t *testing.T, addr string) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("connect %s: %v", addr, err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

func newGateway(t *testing.T) *gateway {
	t.Helper()
	addr := os.Getenv("IDV_GATEWAY_ADDR")
	if addr == "" {
		t.Skip("IDV_GATEWAY_ADDR is not set: run scripts/test-clients")
	}
	conn := connect(t, addr)
	return &gateway{
		conn:     conn,
		ableid:   ableidv1.NewAbleIdServiceClient(conn),
		baf:      bafv1.NewApplicantServiceClient(conn),
		validate: bafv1.NewValidationServiceClient(conn),
		b2core:   b2corev1.NewVerificationServiceClient(conn),
		attempts: attemptsv1.NewAttemptServiceClient(conn),
		httpBase: strings.TrimRight(os.Getenv("IDV_GATEWAY_HTTP"), "/"),
	}
}

func ctx(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return c
}

// must fails the test when err is not nil, naming the call. When the error says that the
// gateway lacks what the test needs (see missingFeature), the message says so.
func must(t *testing.T, err error, what string) {
	t.Helper()
	if err == nil {
		return
	}
	if why := missingFeature(err); why != "" {
		t.Fatalf("%s: the gateway does not provide what this test needs (%s): %v", what, why, err)
	}
	t.Fatalf("%s: %v", what, err)
}

// missingFeature tells why err means a missing gateway feature rather than a wrong answer:
// UNIMPLEMENTED, a vendor the sandbox does not configure (UPSTREAM_NOT_CONFIGURED), or a
// sandbox without a public_url (see noPublicURL). Empty for any other error.
func missingFeature(err error) string {
	d, ok := idvgateway.DetailsOf(err)
	switch {
	case !ok:
		return ""
	case d.Code == codes.Unimplemented:
		return "UNIMPLEMENTED"
	case d.Code == codes.FailedPrecondition && d.Reason == "UPSTREAM_NOT_CONFIGURED":
		return "vendor not configured: UPSTREAM_NOT_CONFIGURED"
	case noPublicURL(d):
		return "no public_url, so no AbleID completion hook"
	}
	return ""
}

// noPublicURL tells whether the only complaint is that the gateway has no public_url, so
// it cannot add its own AbleID completion hook: a sandbox that does not set it.
func noPublicURL(d *idvgateway.ErrorDetails) bool {
	if d.Code != codes.InvalidArgument || len(d.FieldViolations) == 0 {
		return false
	}
	for _, v := range d.FieldViolations {
		if v.Field != "hooks" || !strings.Contains(v.Description, "public_url") {
			return false
		}
	}
	return true
}

func uniqueID(prefix string) string {
	return fmt.Sprintf("%s-%d", prefix, time.Now().UnixNano())
}

// post sends an empty form to a sandbox page without following redirects elsewhere.
func post(t *testing.T, url string) {
	t.Helper()
	client := &http.Client{
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.Post(url, "application/x-www-form-urlencoded", strings.NewReader(""))
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 2048))
	_ = resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusSeeOther:
	case resp.StatusCode == http.StatusNotFound:
		t.Fatalf("POST %s: 404: the gateway does not serve this sandbox page (serve --sandbox?): %s", url, body)
	default:
		t.Fatalf("POST %s: %s: %s", url, resp.Status, body)
	}
}

func (g *gateway) startResident(t *testing.T) *ableidv1.StartResidentCheckResponse {
	t.Helper()
	resp, err := g.ableid.StartResidentCheck(ctx(t, 15*time.Second), &ableidv1.StartResidentCheckRequest{
		TransactionId: uniqueID("go-it"), Pinfl: pinfl, BirthDate: birthDate,
	})
	must(t, err, "AbleIdService.StartResidentCheck")
	if resp.GetAttemptId() == "" || resp.GetFullUrl() == "" {
		t.Fatalf("StartResidentCheck: no attempt id or page: %v", resp)
	}
	return resp
}

func (g *gateway) createApplicant(t *testing.T) *bafv1.CreateApplicantResponse {
	t.Helper()
	resp, err := g.baf.CreateApplicant(ctx(t, 15*time.Second), &bafv1.CreateApplicantRequest{
		FirstName: "Go", LastName: "Client", ReferenceId: uniqueID("go-it"),
	})
	must(t, err, "ApplicantService.CreateApplicant")
	if resp.GetApplicantId() == "" {
		t.Fatalf("CreateApplicant: no applicant id: %v", resp)
	}
	return resp
}

func TestAbleIdServiceStartResidentCheck(t *testing.T) {
	g := newGateway(t)
	resp := g.startResident(t)
	if resp.GetExpireTime() == nil {
		t.Errorf("no expire_time: %v", resp)
	}
}

func TestApplicantServiceCreateAndGet(t *testing.T) {
	g := newGateway(t)
	created := g.createApplicant(t)
	got, err := g.baf.GetApplicant(ctx(t, 15*time.Second), &bafv1.GetApplicantRequest{ApplicantId: created.GetApplicantId()})
	must(t, err, "ApplicantService.GetApplicant")
	if got.GetApplicant().GetApplicantId() != created.GetApplicantId() {
		t.Errorf("GetApplicant = %v, want id %s", got, created.GetApplicantId())
	}
}

func TestValidationServiceRegisterFace(t *testing.T) {
	g := newGateway(t)
	created := g.createApplicant(t)
	resp, err := g.validate.RegisterFace(ctx(t, 15*time.Second), &bafv1.RegisterFaceRequest{
		ApplicantId: created.GetApplicantId(), FaceImageBase64: tinyJPEG,
	})
	must(t, err, "ValidationService.RegisterFace")
	if resp.GetResult() == nil {
		t.Errorf("RegisterFace: no result: %v", resp)
	}
}

func TestVerificationServiceListVerifications(t *testing.T) {
	g := newGateway(t)
	c := idvgateway.WithB2CoreToken(ctx(t, 15*time.Second), "sandbox-client-token")
	resp, err := g.b2core.ListVerifications(c, &b2corev1.ListVerificationsRequest{})
	must(t, err, "VerificationService.ListVerifications")
	if resp.GetTotal() < int32(len(resp.GetData())) {
		t.Errorf("total %d < %d items", resp.GetTotal(), len(resp.GetData()))
	}
}

func TestAttemptServiceGetAttempt(t *testing.T) {
	g := newGateway(t)
	started := g.startResident(t)
	resp, err := g.attempts.GetAttempt(ctx(t, 15*time.Second), &attemptsv1.GetAttemptRequest{
		Attempt: &attemptsv1.GetAttemptRequest_AbleidAttemptId{AbleidAttemptId: started.GetAttemptId()},
	})
	must(t, err, "AttemptService.GetAttempt")
	a := resp.GetAttempt()
	if a.GetAttemptId() != started.GetAttemptId() || a.GetVendor() != attemptsv1.Vendor_VENDOR_ABLEID ||
		a.GetState() != attemptsv1.AttemptState_ATTEMPT_STATE_PENDING || a.GetTerminal() || a.GetLastSequence() < 1 {
		t.Errorf("GetAttempt = %v", a)
	}
}

// Validation happens in the gateway itself, before any vendor is called.
func TestInvalidRequestHasFieldViolations(t *testing.T) {
	g := newGateway(t)
	_, err := g.ableid.StartResidentCheck(ctx(t, 15*time.Second), &ableidv1.StartResidentCheckRequest{
		TransactionId: uniqueID("go-it"), Pinfl: "12345", BirthDate: birthDate,
	})
	d, ok := idvgateway.DetailsOf(err)
	if !ok || d.Code != codes.InvalidArgument {
		t.Fatalf("err = %v, want INVALID_ARGUMENT", err)
	}
	if d.Reason != "INVALID_ARGUMENT" || d.Domain != "idv-gateway" || d.ErrorInfo == nil {
		t.Errorf("ErrorInfo = %v", d.ErrorInfo)
	}
	if desc, ok := d.Violation("pinfl"); !ok || desc == "" {
		t.Errorf("no pinfl violation in %+v", d.FieldViolations)
	}
}

func TestApplicantServiceDownloadAttemptVideo(t *testing.T) {
	g := newGateway(t)
	created := g.createApplicant(t)
	post(t, fmt.Sprintf("%s/sandbox/baf/embedded/%s/pass", g.httpBase, created.GetApplicantId()))

	var attempt *bafv1.Attempt
	for deadline := time.Now().Add(10 * time.Second); attempt == nil; time.Sleep(200 * time.Millisecond) {
		list, err := g.baf.ListApplicantAttempts(ctx(t, 15*time.Second), &bafv1.ListApplicantAttemptsRequest{ApplicantId: created.GetApplicantId()})
		must(t, err, "ApplicantService.ListApplicantAttempts")
		if n := len(list.GetAttempts()); n > 0 {
			attempt = list.GetAttempts()[n-1]
		} else if time.Now().After(deadline) {
			t.Fatal("no attempt listed after the sandbox pass")
		}
	}

	stream, err := g.baf.DownloadAttemptVideo(ctx(t, 60*time.Second), &bafv1.DownloadAttemptVideoRequest{
		ApplicantId: created.GetApplicantId(), AttemptId: attempt.GetAttemptId(),
	})
	must(t, err, "ApplicantService.DownloadAttemptVideo")
	var total, declared int64
	var chunks int
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		must(t, err, "ApplicantService.DownloadAttemptVideo")
		if chunks == 0 {
			declared = msg.GetContentLength()
			if msg.GetContentType() == "" {
				t.Errorf("first message has no content_type")
			}
		}
		chunks++
		total += int64(len(msg.GetChunk()))
	}
	if total == 0 {
		t.Fatalf("downloaded 0 bytes in %d messages", chunks)
	}
	if declared != 0 && declared != total {
		t.Fatalf("downloaded %d bytes, content_length says %d", total, declared)
	}
	t.Logf("video: %d bytes in %d chunks (content_length %d)", total, chunks, declared)
}

// proxy is the TCP proxy scripts/test-clients puts in front of the gateway.
type proxy struct{ addr, control string }

func newProxy(t *testing.T) proxy {
	t.Helper()
	p := proxy{os.Getenv("IDV_GATEWAY_PROXY_ADDR"), strings.TrimRight(os.Getenv("IDV_GATEWAY_PROXY_CONTROL"), "/")}
	if p.addr == "" || p.control == "" {
		t.Fatal("IDV_GATEWAY_PROXY_ADDR and IDV_GATEWAY_PROXY_CONTROL must be set: run scripts/test-clients")
	}
	return p
}

func (p proxy) call(t *testing.T, method, path string) map[string]int {
	t.Helper()
	req, _ := http.NewRequest(method, p.control+path, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("proxy %s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out := map[string]int{}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("proxy %s %s: %s %v", method, path, resp.Status, err)
	}
	return out
}

func (p proxy) drop(t *testing.T) int { return p.call(t, http.MethodPost, "/drop")["dropped"] }

func (p proxy) accepted(t *testing.T) int { return p.call(t, http.MethodGet, "/stats")["accepted"] }

func kindOf(ev *attemptsv1.AttemptEvent) string {
	switch ev.GetKind().(type) {
	case *attemptsv1.AttemptEvent_Started:
		return "started"
	case *attemptsv1.AttemptEvent_Completed:
		return "completed"
	case *attemptsv1.AttemptEvent_Failed:
		return "failed"
	case *attemptsv1.AttemptEvent_Expired:
		return "expired"
	case *attemptsv1.AttemptEvent_Passport:
		return "passport"
	case *attemptsv1.AttemptEvent_Photo:
		return "photo"
	case *attemptsv1.AttemptEvent_Registration:
		return "registration"
	case *attemptsv1.AttemptEvent_Person:
		return "person"
	case *attemptsv1.AttemptEvent_DataFailed:
		return "data_failed"
	default:
		return fmt.Sprintf("%T", ev.GetKind())
	}
}

// The full AbleID flow through the watch helper, across two forced disconnects: start a
// check, watch it (following after the terminal state, for the data hooks), see
// `started`, cut the connection, approve the session on the sandbox page, see
// `completed`, cut again, request the passport, see `passport`. Every event arrives once,
// in sequence order from 1 without gaps, and the helper resumed with its token (a
// resume without one would have brought a second snapshot).
func TestAbleIdWatchAcrossDisconnects(t *testing.T) {
	g := newGateway(t)
	p := newProxy(t)
	started := g.startResident(t)
	viaProxy := attemptsv1.NewAttemptServiceClient(connect(t, p.addr))
	acceptedBefore := p.accepted(t)

	events := make(chan *attemptsv1.AttemptEvent, 64)
	reconnects := make(chan idvgateway.Reconnect, 64)
	var snapshots atomic.Int32
	var snapshot atomic.Pointer[attemptsv1.Attempt]
	w := idvgateway.NewWatch(viaProxy, &attemptsv1.WatchAttemptRequest{
		Attempt:             &attemptsv1.WatchAttemptRequest_AbleidAttemptId{AbleidAttemptId: started.GetAttemptId()},
		FollowAfterTerminal: true,
	}, &idvgateway.WatchOptions{
		InitialBackoff: 50 * time.Millisecond, MaxBackoff: time.Second, MaxRetries: 30,
		OnSnapshot:  func(a *attemptsv1.Attempt) error { snapshots.Add(1); snapshot.Store(a); return nil },
		OnReconnect: func(r idvgateway.Reconnect) { reconnects <- r },
	})
	watchCtx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- w.Run(watchCtx, func(ev *attemptsv1.AttemptEvent) error { events <- ev; return nil })
	}()

	var all []*attemptsv1.AttemptEvent
	waitFor := func(kind string) *attemptsv1.AttemptEvent {
		t.Helper()
		timeout := time.After(30 * time.Second)
		for {
			select {
			case ev := <-events:
				all = append(all, ev)
				if kindOf(ev) == kind {
					return ev
				}
			case err := <-done:
				must(t, err, "AttemptService.WatchAttempt")
				t.Fatalf("watch ended before a %q event; got %d events", kind, len(all))
			case <-timeout:
				t.Fatalf("no %q event within 30s; got %d events", kind, len(all))
			}
		}
	}
	waitReconnect := func() idvgateway.Reconnect {
		t.Helper()
		select {
		case r := <-reconnects:
			if r.ResumeToken == "" {
				t.Fatalf("reconnected without a resume token: %+v", r)
			}
			return r
		case err := <-done:
			t.Fatalf("watch ended instead of reconnecting: %v", err)
		case <-time.After(15 * time.Second):
			t.Fatal("no reconnect within 15s of the drop")
		}
		return idvgateway.Reconnect{}
	}

	waitFor("started")
	if s := snapshot.Load(); s.GetAttemptId() != started.GetAttemptId() || s.GetState() != attemptsv1.AttemptState_ATTEMPT_STATE_PENDING {
		t.Errorf("snapshot = %v", s)
	}
	if n := p.drop(t); n < 1 {
		t.Fatalf("proxy dropped %d connections", n)
	}
	r1 := waitReconnect()
	t.Logf("reconnect 1: %v (cause %v)", r1.Delay, r1.Cause)

	post(t, strings.TrimRight(started.GetFullUrl(), "/")+"/approve")
	completed := waitFor("completed")
	if completed.GetAttemptState() != attemptsv1.AttemptState_ATTEMPT_STATE_SUCCEEDED {
		t.Errorf("completed event state = %v", completed.GetAttemptState())
	}
	if n := p.drop(t); n < 1 {
		t.Fatalf("proxy dropped %d connections", n)
	}
	waitReconnect()

	_, err := g.ableid.RequestPassport(ctx(t, 15*time.Second), &ableidv1.RequestPassportRequest{
		AttemptId: started.GetAttemptId(), Pinfl: pinfl, BirthDate: birthDate,
	})
	must(t, err, "AbleIdService.RequestPassport")
	passport := waitFor("passport")
	if passport.GetPassport() == nil {
		t.Errorf("passport event without a passport")
	}

	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("watch ended with %v, want context.Canceled", err)
	}
	// Anything that arrived between the last wait and the cancel.
	for len(events) > 0 {
		all = append(all, <-events)
	}

	var kinds []string
	ids := map[string]bool{}
	for i, ev := range all {
		kinds = append(kinds, kindOf(ev))
		if ev.GetSequence() != int64(i+1) {
			t.Errorf("event %d has sequence %d: not 1,2,3… without gaps or repeats", i, ev.GetSequence())
		}
		if ids[ev.GetEventId()] {
			t.Errorf("event %s delivered twice", ev.GetEventId())
		}
		ids[ev.GetEventId()] = true
		if ev.GetAttemptId() != started.GetAttemptId() {
			t.Errorf("event of attempt %s", ev.GetAttemptId())
		}
	}
	iStarted, iCompleted, iPassport := slices.Index(kinds, "started"), slices.Index(kinds, "completed"), slices.Index(kinds, "passport")
	if iStarted < 0 || iStarted >= iCompleted || iCompleted >= iPassport {
		t.Errorf("event order %v: want started, completed, passport in that order", kinds)
	}
	if snapshots.Load() != 1 {
		t.Errorf("%d snapshots: a resume without the token would send another", snapshots.Load())
	}
	if w.Reconnects() < 2 || p.accepted(t)-acceptedBefore < 3 {
		t.Errorf("reconnects %d, proxy connections %d: want ≥2 and ≥3", w.Reconnects(), p.accepted(t)-acceptedBefore)
	}
	t.Logf("events %v, reconnects %d", kinds, w.Reconnects())
}

// Two photos larger than gRPC's default 4 MiB receive limit (scripts/test-clients runs the
// sandbox with IDV_SANDBOX_PHOTO_BYTES=12582912): a client with default options watches
// the attempt, lists its events with the default page, and downloads each photo by
// reference, checked against its size and SHA-256. Events carry references, not bytes.
func TestTwoLargePhotosWithDefaultLimits(t *testing.T) {
	g := newGateway(t)
	started := g.startResident(t)
	events := make(chan *attemptsv1.AttemptEvent, 16)
	w := idvgateway.NewWatch(g.attempts, &attemptsv1.WatchAttemptRequest{
		Attempt:             &attemptsv1.WatchAttemptRequest_AbleidAttemptId{AbleidAttemptId: started.GetAttemptId()},
		FollowAfterTerminal: true,
	}, nil)
	watchCtx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- w.Run(watchCtx, func(ev *attemptsv1.AttemptEvent) error { events <- ev; return nil })
	}()
	waitFor := func(kind string) *attemptsv1.AttemptEvent {
		t.Helper()
		for {
			select {
			case ev := <-events:
				if kindOf(ev) == kind {
					return ev
				}
			case err := <-done:
				t.Fatalf("watch ended before a %q event: %v", kind, err)
			case <-time.After(30 * time.Second):
				t.Fatalf("no %q event within 30s", kind)
			}
		}
	}
	waitFor("started")
	post(t, strings.TrimRight(started.GetFullUrl(), "/")+"/approve")
	waitFor("completed")

	var photos []*attemptsv1.AttemptEvent
	for range 2 {
		_, err := g.ableid.RequestPhoto(ctx(t, 30*time.Second), &ableidv1.RequestPhotoRequest{AttemptId: started.GetAttemptId()})
		must(t, err, "AbleIdService.RequestPhoto")
		photos = append(photos, waitFor("photo"))
	}
	cancel()
	<-done

	page, err := g.attempts.ListAttemptEvents(ctx(t, 15*time.Second), &attemptsv1.ListAttemptEventsRequest{
		Attempt: &attemptsv1.ListAttemptEventsRequest_AbleidAttemptId{AbleidAttemptId: started.GetAttemptId()},
	})
	must(t, err, "AttemptService.ListAttemptEvents")
	listed := 0
	for _, ev := range page.GetEvents() {
		if kindOf(ev) == "photo" {
			listed++
		}
	}
	if listed != 2 {
		t.Fatalf("ListAttemptEvents: %d photo events, want 2", listed)
	}

	for _, ev := range photos {
		if size := proto.Size(ev); size > 64<<10 {
			t.Errorf("a photo event is %d bytes: it should carry a reference", size)
		}
		if len(ev.GetMedia()) != 1 {
			t.Fatalf("photo event with %d media references, want 1", len(ev.GetMedia()))
		}
		m := ev.GetMedia()[0]
		if m.GetSizeBytes() <= 4<<20 {
			t.Fatalf("the photo is %d bytes: run scripts/test-clients, which makes the sandbox's photos 12 MiB", m.GetSizeBytes())
		}
		got, err := idvgateway.ReadMedia(ctx(t, 60*time.Second), g.attempts, ev, m)
		must(t, err, "AttemptService.DownloadAttemptMedia")
		if int64(len(got)) != m.GetSizeBytes() {
			t.Fatalf("downloaded %d bytes, the reference says %d", len(got), m.GetSizeBytes())
		}
		t.Logf("photo %s: %d bytes, sha256 %s", m.GetMediaId(), len(got), m.GetSha256())
	}
}
