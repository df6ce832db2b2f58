// Command ableid-watch starts an AbleID resident check through the gateway, prints the
// page the person opens, and follows the attempt with the resumable watch helper until
// it ends (a terminal state), printing every event.
//
//	go run ./examples/ableid-watch -addr localhost:50051
//
// Against `idv-gateway serve --sandbox`, approve the check by opening the printed page,
// or with: curl -X POST '<page URL>/approve'.
//
// Events refer to photos rather than carry them (AttemptEvent.media): with -media DIR,
// each file an event refers to is downloaded into DIR, checked against its size and
// SHA-256.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/encoding/protojson"

	ableidv1 "github.com/idv-gateway/idv-gateway/clients/go/idv/ableid/v1"
	attemptsv1 "github.com/idv-gateway/idv-gateway/clients/go/idv/attempts/v1"
	"github.com/idv-gateway/idv-gateway/clients/go/idvgateway"
)

func main() {
	addr := flag.String("addr", envOr("IDV_GATEWAY_ADDR", "localhost:50051"), "gateway gRPC address (host:port)")
	pinfl := flag.String("pinfl", "31205901234567", "the person's PINFL")
	birthDate := flag.String("birth-date", "12.05.1990", "the person's birth date, DD.MM.YYYY")
	txID := flag.String("transaction-id", fmt.Sprintf("example-%d", time.Now().UnixNano()), "your id of this check")
	follow := flag.Bool("follow", false, "keep watching after the terminal state (data hooks), until Ctrl-C")
	mediaDir := flag.String("media", "", "download the files events refer to (photos) into this directory")
	flag.Parse()

	if err := run(*addr, *pinfl, *birthDate, *txID, *follow, *mediaDir); err != nil {
		log.Fatal(err)
	}
}

func run(addr, pinfl, birthDate, txID string, follow bool, mediaDir string) error {
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	callCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	started, err := ableidv1.NewAbleIdServiceClient(conn).StartResidentCheck(callCtx, &ableidv1.StartResidentCheckRequest{
		TransactionId: txID, Pinfl: pinfl, BirthDate: birthDate,
	})
	if err != nil {
		return describe("StartResidentCheck", err)
	}
	fmt.Printf("attempt %s\nopen this page to take the check:\n  %s\n", started.GetAttemptId(), started.GetFullUrl())

	attempts := attemptsv1.NewAttemptServiceClient(conn)
	w := idvgateway.NewWatch(attempts, &attemptsv1.WatchAttemptRequest{
		Attempt:             &attemptsv1.WatchAttemptRequest_AbleidAttemptId{AbleidAttemptId: started.GetAttemptId()},
		FollowAfterTerminal: follow,
	}, &idvgateway.WatchOptions{
		OnSnapshot: func(a *attemptsv1.Attempt) error {
			fmt.Printf("state: %s\n", a.GetState())
			return nil
		},
		OnReconnect: func(r idvgateway.Reconnect) {
			log.Printf("connection lost (%v); resuming in %v", r.Cause, r.Delay.Round(time.Millisecond))
		},
	})
	err = w.Run(ctx, func(ev *attemptsv1.AttemptEvent) error {
		body, _ := protojson.Marshal(ev)
		fmt.Printf("event #%d (%s): %s\n", ev.GetSequence(), ev.GetAttemptState(), body)
		if mediaDir == "" {
			return nil
		}
		for _, m := range ev.GetMedia() {
			path, err := saveMedia(ctx, attempts, ev, m, mediaDir)
			if err != nil {
				return describe("DownloadAttemptMedia", err)
			}
			fmt.Printf("  %s: %d bytes (%s) in %s\n", m.GetField(), m.GetSizeBytes(), m.GetContentType(), path)
		}
		return nil
	})
	switch {
	case err == nil:
		fmt.Printf("attempt ended: %s\n", w.State())
		return nil
	case errors.Is(err, context.Canceled):
		fmt.Printf("stopped; resume later with token %q\n", w.ResumeToken())
		return nil
	default:
		return describe("WatchAttempt", err)
	}
}

// saveMedia streams one file an event refers to into dir, named after its id; a file
// that does not match its reference is removed.
func saveMedia(ctx context.Context, client attemptsv1.AttemptServiceClient, ev *attemptsv1.AttemptEvent, m *attemptsv1.Media, dir string) (string, error) {
	ext := ".bin"
	if m.GetContentType() == "image/jpeg" {
		ext = ".jpg"
	}
	path := filepath.Join(dir, m.GetMediaId()+ext)
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	callCtx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	_, err = idvgateway.DownloadMedia(callCtx, client, ev, m, f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(path)
		return "", err
	}
	return path, nil
}

// describe turns a gateway error into one readable line with its details.
func describe(call string, err error) error {
	d, ok := idvgateway.DetailsOf(err)
	if !ok {
		return fmt.Errorf("%s: %w", call, err)
	}
	msg := fmt.Sprintf("%s: %s: %s (reason %s, domain %s)", call, d.Code, d.Message, d.Reason, d.Domain)
	for _, v := range d.FieldViolations {
		msg += fmt.Sprintf("\n  %s: %s", v.Field, v.Description)
	}
	if d.VendorCode() != "" {
		msg += fmt.Sprintf("\n  vendor code %s (HTTP %s): %s", d.VendorCode(), d.HTTPStatus(), d.VendorMessage())
	}
	if d.HasRetryInfo {
		msg += fmt.Sprintf("\n  retry after %v", d.RetryDelay)
	}
	return errors.New(msg)
}

func envOr(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}
