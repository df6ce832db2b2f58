package idvgateway

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"

	"google.golang.org/grpc"

	attemptsv1 "github.com/idv-gateway/idv-gateway/clients/go/idv/attempts/v1"
)

// ErrMediaMismatch is what errors.Is finds in a [*MediaMismatchError].
var ErrMediaMismatch = errors.New("idvgateway: downloaded media does not match its reference")

// MediaMismatchError says that the bytes DownloadAttemptMedia sent are not the file the
// event's [attemptsv1.Media] reference describes: another size or another SHA-256. The
// bytes must not be used.
type MediaMismatchError struct {
	// MediaID and Field are the reference's.
	MediaID, Field string
	// WantSize is the reference's size_bytes; GotSize the bytes received (when the
	// download stopped early because more arrived than expected, the count at that
	// point), or, with Announced, the content_length the first message announced.
	WantSize, GotSize int64
	// Announced tells that GotSize is the stream's announced content_length: the
	// download stopped before reading any bytes.
	Announced bool
	// WantSHA256 is the reference's hex SHA-256; GotSHA256 that of the bytes received,
	// set only when the size matched.
	WantSHA256, GotSHA256 string
}

func (e *MediaMismatchError) Error() string {
	what := fmt.Sprintf("idvgateway: media %s (%s)", e.MediaID, e.Field)
	switch {
	case e.Announced:
		return fmt.Sprintf("%s: the download announces %d bytes, the reference says %d", what, e.GotSize, e.WantSize)
	case e.GotSize > e.WantSize:
		return fmt.Sprintf("%s: received %d bytes or more, the reference says %d", what, e.GotSize, e.WantSize)
	case e.GotSize != e.WantSize:
		return fmt.Sprintf("%s: received %d bytes, the reference says %d", what, e.GotSize, e.WantSize)
	default:
		return fmt.Sprintf("%s: sha256 %s, the reference says %s", what, e.GotSHA256, e.WantSHA256)
	}
}

// Is makes errors.Is(err, ErrMediaMismatch) true.
func (e *MediaMismatchError) Is(target error) bool { return target == ErrMediaMismatch }

// MediaRequest is the DownloadAttemptMedia request for m, a reference that ev carries:
// the attempt comes from the event's vendor and attempt_id.
func MediaRequest(ev *attemptsv1.AttemptEvent, m *attemptsv1.Media) (*attemptsv1.DownloadAttemptMediaRequest, error) {
	req := &attemptsv1.DownloadAttemptMediaRequest{MediaId: m.GetMediaId()}
	switch ev.GetVendor() {
	case attemptsv1.Vendor_VENDOR_ABLEID:
		req.Attempt = &attemptsv1.DownloadAttemptMediaRequest_AbleidAttemptId{AbleidAttemptId: ev.GetAttemptId()}
	case attemptsv1.Vendor_VENDOR_BAF:
		req.Attempt = &attemptsv1.DownloadAttemptMediaRequest_BafApplicantId{BafApplicantId: ev.GetAttemptId()}
	default:
		return nil, fmt.Errorf("idvgateway: media of an event of vendor %s cannot be downloaded", ev.GetVendor())
	}
	return req, nil
}

// DownloadMedia streams the bytes of m, a file that ev carries by reference
// (ev.GetMedia()), from AttemptService.DownloadAttemptMedia into w, chunk by chunk,
// without buffering the file. It returns the bytes written.
//
// It checks what arrives against the reference: the announced content_length and the
// running size as the chunks arrive (the call is cancelled as soon as there are more
// bytes than size_bytes), then the total size and the SHA-256 at the end. A difference
// is a [*MediaMismatchError] (errors.Is(err, ErrMediaMismatch)); what was already
// written to w must then be discarded. A failed call is returned as its gRPC status
// (NOT_FOUND for an unknown attempt or media id; read it with [DetailsOf]), and an
// error of w as is.
//
//	for _, m := range ev.GetMedia() {
//		f, _ := os.Create(m.GetMediaId() + ".jpg")
//		_, err := idvgateway.DownloadMedia(ctx, client, ev, m, f)
//		...
//	}
func DownloadMedia(
	ctx context.Context,
	client attemptsv1.AttemptServiceClient,
	ev *attemptsv1.AttemptEvent,
	m *attemptsv1.Media,
	w io.Writer,
	opts ...grpc.CallOption,
) (int64, error) {
	req, err := MediaRequest(ev, m)
	if err != nil {
		return 0, err
	}
	want := strings.ToLower(m.GetSha256())
	if len(want) != sha256.Size*2 || m.GetSizeBytes() < 0 {
		return 0, fmt.Errorf("idvgateway: media %s (%s) has no valid size and sha256 to check a download against", m.GetMediaId(), m.GetField())
	}
	mismatch := func(got int64) *MediaMismatchError {
		return &MediaMismatchError{MediaID: m.GetMediaId(), Field: m.GetField(), WantSize: m.GetSizeBytes(), GotSize: got, WantSHA256: want}
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // ends the call early on a mismatch or a failed write
	stream, err := client.DownloadAttemptMedia(ctx, req, opts...)
	if err != nil {
		return 0, err
	}
	hash := sha256.New()
	var n int64
	for first := true; ; first = false {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return n, err
		}
		if first && msg.GetContentLength() != 0 && msg.GetContentLength() != m.GetSizeBytes() {
			e := mismatch(msg.GetContentLength())
			e.Announced = true
			return n, e
		}
		chunk := msg.GetChunk()
		if n+int64(len(chunk)) > m.GetSizeBytes() {
			return n, mismatch(n + int64(len(chunk)))
		}
		hash.Write(chunk)
		written, err := w.Write(chunk)
		n += int64(written)
		if err != nil {
			return n, err
		}
		if written != len(chunk) {
			return n, io.ErrShortWrite
		}
	}
	if n != m.GetSizeBytes() {
		return n, mismatch(n)
	}
	if got := hex.EncodeToString(hash.Sum(nil)); got != want {
		e := mismatch(n)
		e.GotSHA256 = got
		return n, e
	}
	return n, nil
}

// maxPrealloc bounds what ReadMedia reserves up front on the reference's word.
const maxPrealloc = 64 << 20

// ReadMedia is [DownloadMedia] into memory: the whole file, checked against its
// reference, or an error (and no bytes).
func ReadMedia(
	ctx context.Context,
	client attemptsv1.AttemptServiceClient,
	ev *attemptsv1.AttemptEvent,
	m *attemptsv1.Media,
	opts ...grpc.CallOption,
) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(int(min(max(m.GetSizeBytes(), 0), maxPrealloc)))
	if _, err := DownloadMedia(ctx, client, ev, m, &buf, opts...); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
