package io.idvgateway.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Duration;
import com.google.rpc.BadRequest;
import com.google.rpc.Code;
import com.google.rpc.ErrorInfo;
import com.google.rpc.RetryInfo;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.idvgateway.attempts.v1.AttemptServiceGrpc;
import io.idvgateway.attempts.v1.WatchAttemptRequest;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ErrorDetailsTest {
  @Test
  void readsErrorInfoBadRequestAndRetryInfoFromARealCall() throws Exception {
    StatusRuntimeException sent =
        FakeAttempts.richError(
            Code.INVALID_ARGUMENT,
            "invalid request: pinfl",
            ErrorInfo.newBuilder()
                .setReason("INVALID_ARGUMENT")
                .setDomain("idv-gateway")
                .putMetadata("code", "10201")
                .putMetadata("http_status", "400")
                .putMetadata("message", "bad")
                .build(),
            BadRequest.newBuilder()
                .addFieldViolations(
                    BadRequest.FieldViolation.newBuilder().setField("pinfl").setDescription("must be 14 digits"))
                .addFieldViolations(
                    BadRequest.FieldViolation.newBuilder().setField("birth_date").setDescription("DD.MM.YYYY"))
                .build(),
            RetryInfo.newBuilder().setRetryDelay(Duration.newBuilder().setSeconds(1).setNanos(500_000_000)).build());
    FakeAttempts fake = new FakeAttempts((req, out) -> out.onError(sent));
    Server server = fake.start(0);
    ManagedChannel channel =
        Grpc.newChannelBuilderForAddress("127.0.0.1", server.getPort(), InsecureChannelCredentials.create()).build();
    try {
      StatusRuntimeException e =
          org.junit.jupiter.api.Assertions.assertThrows(
              StatusRuntimeException.class,
              () ->
                  AttemptServiceGrpc.newBlockingStub(channel)
                      .watchAttempt(WatchAttemptRequest.newBuilder().setAbleidAttemptId("x").build())
                      .hasNext());
      ErrorDetails d = ErrorDetails.from(new RuntimeException("wrapped", e)).orElseThrow();
      assertEquals(Status.Code.INVALID_ARGUMENT, d.code());
      assertEquals("invalid request: pinfl", d.message());
      assertEquals("INVALID_ARGUMENT", d.reason());
      assertEquals("idv-gateway", d.domain());
      assertEquals(Optional.of("10201"), d.vendorCode());
      assertEquals(Optional.of("400"), d.httpStatus());
      assertEquals(Optional.of("bad"), d.vendorMessage());
      assertEquals(Optional.of("must be 14 digits"), d.violation("pinfl"));
      assertEquals(Optional.empty(), d.violation("nope"));
      assertEquals(List.of("pinfl", "birth_date"), d.fieldViolations().stream().map(ErrorDetails.FieldViolation::field).toList());
      assertEquals(Optional.of(java.time.Duration.ofMillis(1500)), d.retryDelay());
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void bareStatusAndOtherThrowables() {
    ErrorDetails d = ErrorDetails.from(Status.UNAVAILABLE.withDescription("down").asRuntimeException()).orElseThrow();
    assertEquals(Status.Code.UNAVAILABLE, d.code());
    assertEquals("", d.reason());
    assertTrue(d.errorInfo().isEmpty() && d.fieldViolations().isEmpty() && d.retryDelay().isEmpty());
    assertTrue(ErrorDetails.from(new IllegalStateException("x")).isEmpty());
  }

  @Test
  void b2coreMetadata() {
    Metadata md = B2CoreAuth.metadata("abc");
    assertEquals("Bearer abc", md.get(B2CoreAuth.AUTHORIZATION));
    assertEquals("Bearer abc", B2CoreAuth.metadata("Bearer abc").get(B2CoreAuth.AUTHORIZATION));
  }
}
