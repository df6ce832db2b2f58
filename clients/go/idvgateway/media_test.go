package idvgateway

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	attemptsv1 "github.com/idv-gateway/idv-gateway/clients/go/idv/attempts/v1"
)

type mediaStream = grpc.ServerStreamingServer[attemptsv1.DownloadAttemptMediaResponse]

const chunkSize = 64 * 1024

// photo returns n pseudo-random bytes and their reference.
func photo(n int) ([]byte, *attemptsv1.Media) {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(uint64(n), 7))
	for i := range b {
		b[i] = byte(r.UintN(256))
	}
	sum := sha256.Sum256(b)
	digest := hex.EncodeToString(sum[:])
	return b, &attemptsv1.Media{MediaId: digest[:32], Field: "photo.photo", ContentType: "image/jpeg", SizeBytes: int64(n), Sha256: digest}
}

func photoEvent(vendor attemptsv1.Vendor, m *attemptsv1.Media) *attemptsv1.AttemptEvent {
	return &attemptsv1.AttemptEvent{EventId: "ev-photo", Sequence: 3, Vendor: vendor, AttemptId: "att-1", Media: []*attemptsv1.Media{m}}
}

// sendChunks sends b as the gateway does: 64 KiB chunks, the first with the content
// type and length (announced).
func sendChunks(s mediaStream, b []byte, announced int64) error {
	for i := 0; i == 0 || i < len(b); i += chunkSize {
		msg := &attemptsv1.DownloadAttemptMediaResponse{Chunk: b[i:min(i+chunkSize, len(b))]}
		if i == 0 {
			msg.ContentType, msg.ContentLength = "image/jpeg", announced
		}
		if err := s.Send(msg); err != nil {
			return err
		}
	}
	return nil
}

func TestDownloadMediaStreamsAndChecks(t *testing.T) {
	data, ref := photo(5*chunkSize + 123)
	f := &fakeAttempts{download: func(_ *attemptsv1.DownloadAttemptMediaRequest, s mediaStream) error {
		return sendChunks(s, data, int64(len(data)))
	}}
	client, _ := serve(t, f)
	ctx := context.Background()

	var w bytes.Buffer
	n, err := DownloadMedia(ctx, client, photoEvent(attemptsv1.Vendor_VENDOR_ABLEID, ref), ref, &w)
	if err != nil || n != int64(len(data)) || !bytes.Equal(w.Bytes(), data) {
		t.Fatalf("DownloadMedia = %d, %v; %d bytes written", n, err, w.Len())
	}
	got, err := ReadMedia(ctx, client, photoEvent(attemptsv1.Vendor_VENDOR_BAF, ref), ref)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("ReadMedia: %v (%d bytes)", err, len(got))
	}
	if len(f.mediaRequests) != 2 {
		t.Fatalf("%d calls", len(f.mediaRequests))
	}
	if r := f.mediaRequests[0]; r.GetAbleidAttemptId() != "att-1" || r.GetMediaId() != ref.GetMediaId() {
		t.Errorf("AbleID request = %v", r)
	}
	if r := f.mediaRequests[1]; r.GetBafApplicantId() != "att-1" || r.GetMediaId() != ref.GetMediaId() {
		t.Errorf("BAF request = %v", r)
	}
}

func TestDownloadMediaEmptyFile(t *testing.T) {
	data, ref := photo(0)
	f := &fakeAttempts{download: func(_ *attemptsv1.DownloadAttemptMediaRequest, s mediaStream) error {
		return sendChunks(s, data, 0)
	}}
	client, _ := serve(t, f)
	got, err := ReadMedia(context.Background(), client, photoEvent(attemptsv1.Vendor_VENDOR_ABLEID, ref), ref)
	if err != nil || len(got) != 0 {
		t.Fatalf("ReadMedia = %d bytes, %v", len(got), err)
	}
}

func TestDownloadMediaMismatches(t *testing.T) {
	data, ref := photo(3*chunkSize + 10)
	corrupt := bytes.Clone(data)
	corrupt[chunkSize+1] ^= 0xff
	for _, tc := range []struct {
		name      string
		send      func(mediaStream) error
		announced bool
		gotSize   int64
		sha       bool
	}{
		{"short", func(s mediaStream) error { return sendChunks(s, data[:len(data)-1], 0) }, false, int64(len(data) - 1), false},
		{"long", func(s mediaStream) error {
			return sendChunks(s, append(bytes.Clone(data), make([]byte, 10*chunkSize)...), 0)
		}, false, 4 * chunkSize, false},
		{"corrupt", func(s mediaStream) error { return sendChunks(s, corrupt, int64(len(corrupt))) }, false, int64(len(data)), true},
		{"announced", func(s mediaStream) error { return sendChunks(s, data, int64(len(data)+1)) }, true, int64(len(data) + 1), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeAttempts{download: func(_ *attemptsv1.DownloadAttemptMediaRequest, s mediaStream) error { return tc.send(s) }}
			client, _ := serve(t, f)
			ev := photoEvent(attemptsv1.Vendor_VENDOR_ABLEID, ref)

			got, err := ReadMedia(context.Background(), client, ev, ref)
			if got != nil || !errors.Is(err, ErrMediaMismatch) {
				t.Fatalf("ReadMedia = %d bytes, %v; want ErrMediaMismatch", len(got), err)
			}
			var w bytes.Buffer
			_, err = DownloadMedia(context.Background(), client, ev, ref, &w)
			var e *MediaMismatchError
			if !errors.As(err, &e) {
				t.Fatalf("DownloadMedia: %v; want *MediaMismatchError", err)
			}
			if e.MediaID != ref.GetMediaId() || e.Field != "photo.photo" || e.WantSize != ref.GetSizeBytes() ||
				e.GotSize != tc.gotSize || e.Announced != tc.announced || e.WantSHA256 != ref.GetSha256() {
				t.Errorf("error = %+v", e)
			}
			if tc.sha != (e.GotSHA256 != "") || (tc.sha && e.GotSHA256 == e.WantSHA256) {
				t.Errorf("GotSHA256 = %q", e.GotSHA256)
			}
			if int64(w.Len()) > ref.GetSizeBytes() || (tc.announced && w.Len() != 0) {
				t.Errorf("%d bytes written", w.Len())
			}
			t.Log(err)
		})
	}
}

// A status from the gateway, a failed write and an unusable reference are returned as
// they are; a write failure ends the call.
func TestDownloadMediaErrors(t *testing.T) {
	data, ref := photo(4 * chunkSize)
	ended := make(chan error, 1)
	f := &fakeAttempts{download: func(req *attemptsv1.DownloadAttemptMediaRequest, s mediaStream) error {
		if req.GetMediaId() != ref.GetMediaId() {
			return errorWithInfo(t, codes.NotFound, "MEDIA_NOT_FOUND")
		}
		err := sendChunks(s, append(data, data...), int64(len(data)))
		<-s.Context().Done()
		ended <- s.Context().Err()
		return err
	}}
	client, _ := serve(t, f)
	ctx := context.Background()
	ev := photoEvent(attemptsv1.Vendor_VENDOR_ABLEID, ref)

	other := &attemptsv1.Media{MediaId: "0123456789abcdef0123456789abcdef", Field: "photo.photo", SizeBytes: 1, Sha256: ref.GetSha256()}
	_, err := ReadMedia(ctx, client, ev, other)
	if d, ok := DetailsOf(err); !ok || d.Code != codes.NotFound || d.Reason != "MEDIA_NOT_FOUND" {
		t.Errorf("unknown media: %v", err)
	}

	failing := errors.New("disk full")
	n, err := DownloadMedia(ctx, client, ev, ref, writerFunc(func(p []byte) (int, error) { return 0, failing }))
	if !errors.Is(err, failing) || n != 0 {
		t.Errorf("failed write: %d, %v", n, err)
	}
	select {
	case <-ended:
	case <-time.After(5 * time.Second):
		t.Error("the call was not cancelled after the failed write")
	}

	if _, err := ReadMedia(ctx, client, &attemptsv1.AttemptEvent{AttemptId: "x"}, ref); err == nil {
		t.Error("an event without a vendor gave no error")
	}
	if _, err := ReadMedia(ctx, client, ev, &attemptsv1.Media{MediaId: ref.GetMediaId(), SizeBytes: 1}); err == nil {
		t.Error("a reference without sha256 gave no error")
	}
	if len(f.mediaRequests) != 2 {
		t.Errorf("%d calls, want 2 (none for unusable references)", len(f.mediaRequests))
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
