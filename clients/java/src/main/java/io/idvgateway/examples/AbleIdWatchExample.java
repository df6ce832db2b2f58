package io.idvgateway.examples;

import com.google.protobuf.TextFormat;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.StatusRuntimeException;
import io.idvgateway.ableid.v1.AbleIdServiceGrpc;
import io.idvgateway.ableid.v1.StartResidentCheckRequest;
import io.idvgateway.ableid.v1.StartResidentCheckResponse;
import io.idvgateway.attempts.v1.AttemptEvent;
import io.idvgateway.client.AttemptWatch;
import io.idvgateway.client.ErrorDetails;
import java.util.concurrent.TimeUnit;

/**
 * Starts an AbleID resident check through the gateway, prints the page the person opens, and
 * follows the attempt with the resumable watch helper until it ends.
 *
 * <pre>
 * mvn -q exec:java -Dexec.mainClass=io.idvgateway.examples.AbleIdWatchExample \
 *     -Dexec.args="--addr localhost:50051"
 * </pre>
 *
 * <p>Against {@code idv-gateway serve --sandbox}, approve the check by opening the printed page,
 * or with {@code curl -X POST '<page URL>/approve'}.
 */
public final class AbleIdWatchExample {
  private AbleIdWatchExample() {}

  public static void main(String[] args) throws Exception {
    String addr = System.getenv().getOrDefault("IDV_GATEWAY_ADDR", "localhost:50051");
    String pinfl = "31205901234567";
    String birthDate = "12.05.1990";
    String transactionId = "example-" + System.nanoTime();
    boolean follow = false;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--addr" -> addr = args[++i];
        case "--pinfl" -> pinfl = args[++i];
        case "--birth-date" -> birthDate = args[++i];
        case "--transaction-id" -> transactionId = args[++i];
        case "--follow" -> follow = true;
        default -> {
          System.err.println(
              "usage: AbleIdWatchExample [--addr host:port] [--pinfl P] [--birth-date DD.MM.YYYY]"
                  + " [--transaction-id ID] [--follow]");
          System.exit(2);
        }
      }
    }

    ManagedChannel channel = ManagedChannelBuilder.forTarget(addr).usePlaintext().build();
    try {
      StartResidentCheckResponse started;
      try {
        started =
            AbleIdServiceGrpc.newBlockingStub(channel)
                .withDeadlineAfter(30, TimeUnit.SECONDS)
                .startResidentCheck(
                    StartResidentCheckRequest.newBuilder()
                        .setTransactionId(transactionId)
                        .setPinfl(pinfl)
                        .setBirthDate(birthDate)
                        .build());
      } catch (StatusRuntimeException e) {
        System.err.println("StartResidentCheck: " + ErrorDetails.from(e).map(Object::toString).orElse(e.toString()));
        System.exit(1);
        return;
      }
      System.out.printf(
          "attempt %s%nopen this page to take the check:%n  %s%n", started.getAttemptId(), started.getFullUrl());

      TextFormat.Printer text = TextFormat.printer().emittingSingleLine(true);
      try (AttemptWatch watch =
          AttemptWatch.forAbleIdAttempt(channel, started.getAttemptId())
              .followAfterTerminal(follow)
              .onSnapshot(a -> System.out.println("state: " + a.getState()))
              .onReconnect(
                  r ->
                      System.err.printf(
                          "connection lost (%s); resuming in %d ms%n",
                          r.cause().getStatus().getCode(), r.delay().toMillis()))
              .build()) {
        Runtime.getRuntime().addShutdownHook(new Thread(watch::close));
        for (AttemptEvent event : watch) {
          System.out.printf(
              "event #%d %s (%s): %s%n",
              event.getSequence(),
              event.getKindCase(),
              event.getAttemptState(),
              text.printToString(event));
        }
        System.out.println("attempt ended: " + watch.state());
      } catch (StatusRuntimeException e) {
        System.err.println("WatchAttempt: " + ErrorDetails.from(e).map(Object::toString).orElse(e.toString()));
        System.exit(1);
      }
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }
}
