// Package idvgateway holds hand-written helpers for the generated idv-gateway clients in
// the idv/... packages of this module:
//
//   - [Watch] and [WatchAttempt]: a resumable watch of one attempt
//     (idv.attempts.v1.AttemptService/WatchAttempt) that reconnects with the last resume
//     token after a dropped connection and hands every event to the caller exactly once.
//   - [DownloadMedia] and [ReadMedia]: the bytes of a file an event carries by reference
//     (AttemptEvent.media, such as a photo), streamed with
//     idv.attempts.v1.AttemptService/DownloadAttemptMedia and checked against the
//     reference's size and SHA-256 ([MediaMismatchError]).
//   - [DetailsOf]: the google.rpc error details every gateway error carries (ErrorInfo,
//     BadRequest field violations, RetryInfo).
//   - [WithB2CoreToken]: the request metadata VerificationService needs.
//
// The generated packages are used directly for everything else:
//
//	conn, err := grpc.NewClient("localhost:50051", grpc.WithTransportCredentials(insecure.NewCredentials()))
//	ableid := ableidv1.NewAbleIdServiceClient(conn)
//	resp, err := ableid.StartResidentCheck(ctx, &ableidv1.StartResidentCheckRequest{...})
package idvgateway
