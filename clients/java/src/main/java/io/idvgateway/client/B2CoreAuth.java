package io.idvgateway.client;

import io.grpc.Metadata;
import io.grpc.stub.AbstractStub;
import io.grpc.stub.MetadataUtils;
import java.util.Locale;

/**
 * The call metadata {@code idv.b2core.v1.VerificationService} needs: the end client's B2Core
 * access token.
 *
 * <pre>{@code
 * var b2core = B2CoreAuth.withToken(VerificationServiceGrpc.newBlockingStub(channel), token);
 * }</pre>
 */
public final class B2CoreAuth {
  /** The metadata key the gateway reads the token from. */
  public static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("b2core-authorization", Metadata.ASCII_STRING_MARSHALLER);

  private B2CoreAuth() {}

  /** Metadata carrying {@code token} (given the {@code Bearer } prefix when it has none). */
  public static Metadata metadata(String token) {
    Metadata md = new Metadata();
    md.put(AUTHORIZATION, token.toLowerCase(Locale.ROOT).startsWith("bearer ") ? token : "Bearer " + token);
    return md;
  }

  /** {@code stub}, sending {@code token} with every call. */
  public static <S extends AbstractStub<S>> S withToken(S stub, String token) {
    return stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(metadata(token)));
  }
}
