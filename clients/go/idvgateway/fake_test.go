package idvgateway

import (
	"fmt"
	"net"
	"sync"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	attemptsv1 "github.com/idv-gateway/idv-gateway/clients/go/idv/attempts/v1"
)

// fakeAttempts is an in-process AttemptService whose WatchAttempt runs one scripted
// handler per call and records every request, and whose DownloadAttemptMedia runs
// download.
type fakeAttempts struct {
	attemptsv1.UnimplementedAttemptServiceServer

	mu       sync.Mutex
	requests []*attemptsv1.WatchAttemptRequest
	calls    []func(n int, req *attemptsv1.WatchAttemptRequest, s grpc.ServerStreamingServer[attemptsv1.WatchAttemptResponse]) error

	download      func(req *attemptsv1.DownloadAttemptMediaRequest, s grpc.ServerStreamingServer[attemptsv1.DownloadAttemptMediaResponse]) error
	mediaRequests []*attemptsv1.DownloadAttemptMediaRequest
}

func (f *fakeAttempts) DownloadAttemptMedia(req *attemptsv1.DownloadAttemptMediaRequest, s grpc.ServerStreamingServer[attemptsv1.DownloadAttemptMediaResponse]) error {
	f.mu.Lock()
	f.mediaRequests = append(f.mediaRequests, req)
	f.mu.Unlock()
	if f.download == nil {
		return fmt.Errorf("unexpected DownloadAttemptMedia")
	}
	return f.download(req, s)
}

func (f *fakeAttempts) WatchAttempt(req *attemptsv1.WatchAttemptRequest, s grpc.ServerStreamingServer[attemptsv1.WatchAttemptResponse]) error {
	f.mu.Lock()
	n := len(f.requests)
	f.requests = append(f.requests, req)
	var call func(int, *attemptsv1.WatchAttemptRequest, grpc.ServerStreamingServer[attemptsv1.WatchAttemptResponse]) error
	if n < len(f.calls) {
		call = f.calls[n]
	}
	f.mu.Unlock()
	if call == nil {
		return fmt.Errorf("unexpected call %d", n+1)
	}
	return call(n, req, s)
}

func (f *fakeAttempts) tokens() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, r := range f.requests {
		out = append(out, r.GetResumeToken())
	}
	return out
}

// trackingListener remembers accepted connections so a test can cut them all.
type trackingListener struct {
	net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func (l *trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.mu.Lock()
		l.conns = append(l.conns, c)
		l.mu.Unlock()
	}
	return c, err
}

// dropAll closes every connection accepted so far, as a crashed proxy would.
func (l *trackingListener) dropAll() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range l.conns {
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0) // RST, not FIN
		}
		_ = c.Close()
	}
	l.conns = nil
}

// serve starts f on a loopback port and returns a client of it.
func serve(t *testing.T, f *fakeAttempts) (attemptsv1.AttemptServiceClient, *trackingListener) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tl := &trackingListener{Listener: lis}
	srv := grpc.NewServer()
	attemptsv1.RegisterAttemptServiceServer(srv, f)
	go func() { _ = srv.Serve(tl) }()
	t.Cleanup(srv.Stop)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return attemptsv1.NewAttemptServiceClient(conn), tl
}

func snapshotMsg(token string, state attemptsv1.AttemptState) *attemptsv1.WatchAttemptResponse {
	return &attemptsv1.WatchAttemptResponse{
		ResumeToken: token,
		Kind: &attemptsv1.WatchAttemptResponse_Attempt{Attempt: &attemptsv1.Attempt{
			AttemptId: "att-1", Vendor: attemptsv1.Vendor_VENDOR_ABLEID, State: state,
			Terminal: state != attemptsv1.AttemptState_ATTEMPT_STATE_PENDING,
		}},
	}
}

func eventMsg(token string, seq int64, state attemptsv1.AttemptState) *attemptsv1.WatchAttemptResponse {
	ev := &attemptsv1.AttemptEvent{
		EventId: fmt.Sprintf("ev-%d", seq), Sequence: seq, AttemptId: "att-1",
		Vendor: attemptsv1.Vendor_VENDOR_ABLEID, AttemptState: state,
	}
	if seq == 1 {
		ev.Kind = &attemptsv1.AttemptEvent_Started{Started: &attemptsv1.Started{TransactionId: "tx"}}
	} else {
		ev.Kind = &attemptsv1.AttemptEvent_Completed{Completed: &attemptsv1.Completed{StatusCode: 200, Type: "SUCCESS"}}
	}
	return &attemptsv1.WatchAttemptResponse{ResumeToken: token, Kind: &attemptsv1.WatchAttemptResponse_Event{Event: ev}}
}

func heartbeatMsg(token string) *attemptsv1.WatchAttemptResponse {
	return &attemptsv1.WatchAttemptResponse{ResumeToken: token, Kind: &attemptsv1.WatchAttemptResponse_Heartbeat{Heartbeat: &attemptsv1.Heartbeat{}}}
}

func sendAll(s grpc.ServerStreamingServer[attemptsv1.WatchAttemptResponse], msgs ...*attemptsv1.WatchAttemptResponse) error {
	for _, m := range msgs {
		if err := s.Send(m); err != nil {
			return err
		}
	}
	return nil
}
