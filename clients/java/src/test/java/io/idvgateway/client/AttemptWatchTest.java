package io.idvgateway.client;

import static io.idvgateway.client.FakeAttempts.event;
import static io.idvgateway.client.FakeAttempts.heartbeat;
import static io.idvgateway.client.FakeAttempts.info;
import static io.idvgateway.client.FakeAttempts.richError;
import static io.idvgateway.client.FakeAttempts.snapshot;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Duration;
import com.google.rpc.Code;
import com.google.rpc.RetryInfo;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.idvgateway.attempts.v1.AttemptEvent;
import io.idvgateway.attempts.v1.AttemptState;
import io.idvgateway.client.AttemptWatch.Reconnect;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

@Timeout(30)
class AttemptWatchTest {
  private static final java.time.Duration MS = java.time.Duration.ofMillis(1);
  private final List<Server> servers = new ArrayList<>();
  private ManagedChannel channel;

  private ManagedChannel serve(FakeAttempts fake) throws Exception {
    Server server = fake.start(0);
    servers.add(server);
    channel =
        Grpc.newChannelBuilderForAddress("127.0.0.1", server.getPort(), InsecureChannelCredentials.create()).build();
    return channel;
  }

  @AfterEach
  void stop() throws InterruptedException {
    if (channel != null) {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    for (Server s : servers) {
      s.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  private static List<Long> sequences(List<AttemptEvent> events) {
    return events.stream().map(AttemptEvent::getSequence).toList();
  }

  private static List<AttemptEvent> collect(AttemptWatch watch) {
    List<AttemptEvent> out = new ArrayList<>();
    watch.run(out::add);
    return out;
  }

  @Test
  void resumesWithLastTokenAfterUnavailable() throws Exception {
    FakeAttempts fake =
        new FakeAttempts(
            (req, out) -> {
              out.onNext(snapshot("t0"));
              out.onNext(event("t1", 1));
              out.onNext(heartbeat("t2"));
              out.onError(Status.UNAVAILABLE.withDescription("gateway restarting").asRuntimeException());
            },
            (req, out) -> {
              out.onNext(event("t1", 1)); // at least once: redelivered
              out.onNext(event("t3", 2, AttemptState.ATTEMPT_STATE_SUCCEEDED));
              out.onCompleted();
            });
    List<Reconnect> reconnects = new ArrayList<>();
    List<Object> snapshots = new ArrayList<>();
    AttemptWatch watch =
        AttemptWatch.forAbleIdAttempt(serve(fake), "att-1")
            .backoff(MS, MS.multipliedBy(5))
            .onReconnect(reconnects::add)
            .onSnapshot(snapshots::add)
            .build();
    List<AttemptEvent> events = collect(watch);
    assertEquals(List.of(1L, 2L), sequences(events));
    assertEquals(List.of("", "t2"), fake.tokens());
    assertEquals(1, reconnects.size());
    assertEquals("t2", reconnects.get(0).resumeToken());
    assertEquals(Status.Code.UNAVAILABLE, reconnects.get(0).cause().getStatus().getCode());
    assertEquals(1, snapshots.size());
    assertEquals("att-1", watch.snapshot().orElseThrow().getAttemptId());
    assertEquals(AttemptState.ATTEMPT_STATE_SUCCEEDED, watch.state());
    assertEquals("t3", watch.resumeToken());
    assertEquals(1, watch.reconnects());
    assertEquals("att-1", fake.requests.get(0).getAbleidAttemptId());
  }

  /** A real connection loss: the first server goes away, a second one takes the port. */
  @Test
  void resumesAfterTheServerGoesAway() throws Exception {
    CountDownLatch sent = new CountDownLatch(1);
    FakeAttempts fake =
        new FakeAttempts(
            (req, out) -> {
              out.onNext(snapshot("t0"));
              out.onNext(event("t1", 1));
              sent.countDown(); // and keep the stream open
            },
            (req, out) -> {
              out.onNext(event("t2", 2, AttemptState.ATTEMPT_STATE_SUCCEEDED));
              out.onCompleted();
            });
    ManagedChannel ch = serve(fake);
    int port = servers.get(0).getPort();
    Thread swap =
        new Thread(
            () -> {
              try {
                sent.await(5, TimeUnit.SECONDS);
                servers.get(0).shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
                servers.add(fake.start(port));
              } catch (Exception e) {
                throw new RuntimeException(e);
              }
            });
    swap.start();
    List<Reconnect> reconnects = new ArrayList<>();
    List<AttemptEvent> events =
        collect(
            AttemptWatch.forAbleIdAttempt(ch, "att-1")
                .backoff(java.time.Duration.ofMillis(50), java.time.Duration.ofMillis(200))
                .maxRetries(40)
                .onReconnect(reconnects::add)
                .build());
    swap.join();
    assertEquals(List.of(1L, 2L), sequences(events));
    assertEquals("", fake.tokens().get(0));
    assertEquals("t1", fake.tokens().get(fake.tokens().size() - 1));
    assertTrue(!reconnects.isEmpty() && reconnects.stream().allMatch(r -> r.resumeToken().equals("t1")));
  }

  @Test
  void retriesABareInternalAndStartsFromTheCallersToken() throws Exception {
    FakeAttempts fake =
        new FakeAttempts(
            (req, out) -> out.onError(Status.INTERNAL.withDescription("RST_STREAM").asRuntimeException()),
            (req, out) -> {
              out.onNext(event("t6", 2, AttemptState.ATTEMPT_STATE_SUCCEEDED));
              out.onCompleted();
            });
    List<AttemptEvent> events =
        collect(AttemptWatch.forBafApplicant(serve(fake), "app-1").resumeToken("t5").backoff(MS, MS).build());
    assertEquals(1, events.size());
    assertEquals(List.of("t5", "t5"), fake.tokens());
    assertEquals("app-1", fake.requests.get(0).getBafApplicantId());
  }

  @ParameterizedTest
  @CsvSource({
    "NOT_FOUND, ATTEMPT_NOT_FOUND",
    "FAILED_PRECONDITION, RESUME_TOKEN_EXPIRED",
    "INVALID_ARGUMENT, INVALID_ARGUMENT",
    "INTERNAL, INTERNAL"
  })
  void surfacesAnswersThatAreNotBrokenConnections(Code code, String reason) throws Exception {
    FakeAttempts fake = new FakeAttempts((req, out) -> out.onError(richError(code, reason, info(reason))));
    List<Reconnect> reconnects = new ArrayList<>();
    AttemptWatch watch =
        AttemptWatch.forAbleIdAttempt(serve(fake), "att-1").backoff(MS, MS).onReconnect(reconnects::add).build();
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> collect(watch));
    ErrorDetails d = ErrorDetails.from(e).orElseThrow();
    assertEquals(code.getNumber(), d.code().value());
    assertEquals(reason, d.reason());
    assertEquals(1, fake.requests.size());
    assertTrue(reconnects.isEmpty());
  }

  @Test
  void givesUpAfterMaxRetries() throws Exception {
    FakeAttempts fake =
        new FakeAttempts(
            (req, out) -> out.onError(Status.UNAVAILABLE.asRuntimeException()),
            (req, out) -> out.onError(Status.UNAVAILABLE.asRuntimeException()),
            (req, out) -> out.onError(Status.UNAVAILABLE.asRuntimeException()),
            (req, out) -> out.onError(Status.UNAVAILABLE.asRuntimeException()));
    List<Reconnect> reconnects = new ArrayList<>();
    AttemptWatch watch =
        AttemptWatch.forAbleIdAttempt(serve(fake), "att-1")
            .backoff(MS, MS)
            .maxRetries(3)
            .onReconnect(reconnects::add)
            .build();
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> collect(watch));
    assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode());
    assertEquals(4, fake.requests.size());
    assertEquals(3, reconnects.size());
  }

  @Test
  void honoursRetryInfo() throws Exception {
    RetryInfo wait = RetryInfo.newBuilder().setRetryDelay(Duration.newBuilder().setNanos(200_000_000)).build();
    FakeAttempts fake =
        new FakeAttempts(
            (req, out) -> out.onError(richError(Code.UNAVAILABLE, "busy", wait)),
            (req, out) -> {
              out.onNext(event("t1", 1, AttemptState.ATTEMPT_STATE_SUCCEEDED));
              out.onCompleted();
            });
    List<Reconnect> reconnects = new ArrayList<>();
    collect(AttemptWatch.forAbleIdAttempt(serve(fake), "att-1").backoff(MS, MS).onReconnect(reconnects::add).build());
    assertEquals(java.time.Duration.ofMillis(200), reconnects.get(0).delay());
  }

  @Test
  void closeFromAnotherThreadEndsIteration() throws Exception {
    FakeAttempts fake =
        new FakeAttempts(
            (req, out) -> {
              out.onNext(snapshot("t0"));
              out.onNext(event("t1", 1)); // and keep the stream open
            });
    List<AttemptEvent> got = new ArrayList<>();
    try (AttemptWatch watch = AttemptWatch.forAbleIdAttempt(serve(fake), "att-1").build()) {
      for (AttemptEvent ev : watch) {
        got.add(ev);
        new Thread(
                () -> {
                  try {
                    Thread.sleep(50);
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                  watch.close();
                })
            .start();
      }
    }
    assertEquals(List.of(1L), sequences(got));
  }

  @Test
  void isIteratedOnceAndNeedsAnAttempt() throws Exception {
    FakeAttempts fake = new FakeAttempts((req, out) -> out.onCompleted());
    AttemptWatch watch = AttemptWatch.forAbleIdAttempt(serve(fake), "att-1").build();
    watch.iterator();
    assertThrows(IllegalStateException.class, watch::iterator);
    assertThrows(
        IllegalArgumentException.class,
        () ->
            AttemptWatch.forRequest(channel, io.idvgateway.attempts.v1.WatchAttemptRequest.getDefaultInstance())
                .build());
  }
}
