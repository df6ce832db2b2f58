package idvgateway

import (
	"context"
	"strings"

	"google.golang.org/grpc/metadata"
)

// B2CoreAuthorizationKey is the request metadata key that carries the end client's B2Core
// access token to idv.b2core.v1.VerificationService.
const B2CoreAuthorizationKey = "b2core-authorization"

// WithB2CoreToken returns a context whose outgoing calls carry the end client's B2Core
// access token, as VerificationService requires. A token without the "Bearer " prefix
// gets it.
func WithB2CoreToken(ctx context.Context, token string) context.Context {
	if !strings.HasPrefix(strings.ToLower(token), "bearer ") {
		token = "Bearer " + token
	}
	return metadata.AppendToOutgoingContext(ctx, B2CoreAuthorizationKey, token)
}
