package io.idvgateway.examples;

import com.google.protobuf.TextFormat;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.StatusRuntimeException;
import io.idvgateway.ableid.v1.AbleIdServiceGrpc;
import io.idvgateway.ableid.v1.StartResidentCheckRequest;
import io.idvgateway.ableid.v1.StartResidentCheckResponse;
import io.idvgateway.attempts.v1.AttemptEvent;
import io.idvgateway.attempts.v1.AttemptServiceGrpc;
import io.idvgateway.attempts.v1.Media;
import io.idvgateway.client.AttemptMedia;
import io.idvgateway.client.AttemptWatch;
import io.idvgateway.client.ErrorDetails;
import io.idvgateway.client.MediaMismatchException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
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
 *
 * <p>Events refer to photos rather than carry them ({@code AttemptEvent.media}): with {@code
 * --media DIR}, each file an event refers to is downloaded into {@code DIR}, checked against its
 * size and SHA-256.
 */
public final class AbleIdWatchExample {
  private AbleIdWatchExample() {}

  public static void main(String[] args) throws Exception {
    String addr = System.getenv().getOrDefault("IDV_GATEWAY_ADDR", "localhost:50051");
    String pinfl = "31205901234567";
    String birthDate = "12.05.1990";
    String transactionId = "example-" + System.nanoTime();
    boolean follow = false;
    Path mediaDir = null;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--addr" -> addr = args[++i];
        case "--pinfl" -> pinfl = args[++i];
        case "--birth-date" -> birthDate = args[++i];
        case "--transaction-id" -> transactionId = args[++i];
        case "--follow" -> follow = true;
        case "--media" -> mediaDir = Path.of(args[++i]);
        default -> {
          System.err.println(
              "usage: AbleIdWatchExample [--addr host:port] [--pinfl P] [--birth-date DD.MM.YYYY]"
                  + " [--transaction-id ID] [--follow] [--media DIR]");
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
          if (mediaDir != null) {
            for (Media media : event.getMediaList()) {
              Path path = saveMedia(channel, event, media, mediaDir);
              System.out.printf(
                  "  %s: %d bytes (%s) in %s%n", media.getField(), media.getSizeBytes(), media.getContentType(), path);
            }
          }
        }
        System.out.println("attempt ended: " + watch.state());
      } catch (MediaMismatchException e) {
        System.err.println("DownloadAttemptMedia: " + e.getMessage());
        System.exit(1);
      } catch (StatusRuntimeException e) {
        System.err.println(
            "WatchAttempt or DownloadAttemptMedia: "
                + ErrorDetails.from(e).map(Object::toString).orElse(e.toString()));
        System.exit(1);
      }
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  /**
   * Streams one file an event refers to into {@code dir}, named after its id; a file that does not
   * match its reference is removed.
   */
  private static Path saveMedia(ManagedChannel channel, AttemptEvent event, Media media, Path dir)
      throws IOException {
    Path path = dir.resolve(media.getMediaId() + (media.getContentType().equals("image/jpeg") ? ".jpg" : ".bin"));
    var stub = AttemptServiceGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.MINUTES);
    try (OutputStream out = Files.newOutputStream(path)) {
      AttemptMedia.downloadTo(stub, event, media, out);
    } catch (IOException | RuntimeException e) {
      Files.deleteIfExists(path);
      throw e;
    }
    return path;
  }
}
