package io.idvgateway.client;

import static io.idvgateway.client.FakeAttempts.info;
import static io.idvgateway.client.FakeAttempts.richError;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.rpc.Code;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.idvgateway.attempts.v1.AttemptEvent;
import io.idvgateway.attempts.v1.DownloadAttemptMediaResponse;
import io.idvgateway.attempts.v1.Media;
import io.idvgateway.attempts.v1.Vendor;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

@Timeout(30)
class AttemptMediaTest {
  private static final int CHUNK = 64 * 1024;
  private static final byte[] DATA = bytes(5 * CHUNK + 123);
  private static final Media REF = reference(DATA);

  private Server server;
  private ManagedChannel channel;

  private ManagedChannel serve(FakeAttempts fake) throws Exception {
    server = fake.start(0);
    channel =
        Grpc.newChannelBuilderForAddress("127.0.0.1", server.getPort(), InsecureChannelCredentials.create()).build();
    return channel;
  }

  @AfterEach
  void stop() throws InterruptedException {
    if (channel != null) {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    if (server != null) {
      server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  private static byte[] bytes(int n) {
    byte[] b = new byte[n];
    new Random(n).nextBytes(b);
    return b;
  }

  static Media reference(byte[] data) {
    try {
      String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
      return Media.newBuilder()
          .setMediaId(sha.substring(0, 32))
          .setField("photo.photo")
          .setContentType("image/jpeg")
          .setSizeBytes(data.length)
          .setSha256(sha)
          .build();
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
  }

  private static AttemptEvent event(Media media, Vendor vendor) {
    return AttemptEvent.newBuilder()
        .setEventId("ev-photo")
        .setSequence(3)
        .setVendor(vendor)
        .setAttemptId("att-1")
        .addMedia(media)
        .build();
  }

  private static AttemptEvent event(Media media) {
    return event(media, Vendor.VENDOR_ABLEID);
  }

  /** {@code data} as the gateway sends it: 64 KiB chunks, the first with type and length. */
  private static void send(StreamObserver<DownloadAttemptMediaResponse> out, byte[] data, long announced) {
    for (int i = 0; i == 0 || i < data.length; i += CHUNK) {
      var msg =
          DownloadAttemptMediaResponse.newBuilder()
              .setChunk(ByteString.copyFrom(data, i, Math.min(CHUNK, data.length - i)));
      if (i == 0) {
        msg.setContentType("image/jpeg").setContentLength(announced);
      }
      out.onNext(msg.build());
    }
  }

  @Test
  void streamsAndChecks() throws Exception {
    FakeAttempts fake = new FakeAttempts();
    fake.download = (req, out) -> {
      send(out, DATA, DATA.length);
      out.onCompleted();
    };
    serve(fake);
    var out = new ByteArrayOutputStream();
    assertEquals(DATA.length, AttemptMedia.downloadTo(channel, event(REF), REF, out));
    assertArrayEquals(DATA, out.toByteArray());
    assertArrayEquals(DATA, AttemptMedia.download(channel, event(REF, Vendor.VENDOR_BAF), REF));
    assertEquals("att-1", fake.mediaRequests.get(0).getAbleidAttemptId());
    assertEquals(REF.getMediaId(), fake.mediaRequests.get(0).getMediaId());
    assertEquals("att-1", fake.mediaRequests.get(1).getBafApplicantId());
  }

  @Test
  void anEmptyFile() throws Exception {
    Media empty = reference(new byte[0]);
    FakeAttempts fake = new FakeAttempts();
    fake.download = (req, out) -> {
      send(out, new byte[0], 0);
      out.onCompleted();
    };
    serve(fake);
    assertEquals(0, AttemptMedia.download(channel, event(empty), empty).length);
  }

  @ParameterizedTest
  @ValueSource(strings = {"short", "long", "corrupt", "announced"})
  void mismatches(String which) throws Exception {
    byte[] corrupt = DATA.clone();
    corrupt[CHUNK + 1] ^= (byte) 0xff;
    byte[] sent =
        switch (which) {
          case "short" -> Arrays.copyOf(DATA, DATA.length - 1);
          case "long" -> Arrays.copyOf(DATA, DATA.length + 10 * CHUNK);
          case "corrupt" -> corrupt;
          default -> DATA;
        };
    long announced = which.equals("announced") ? DATA.length + 1 : which.equals("corrupt") ? DATA.length : 0;
    FakeAttempts fake = new FakeAttempts();
    fake.download = (req, out) -> {
      send(out, sent, announced);
      out.onCompleted();
    };
    serve(fake);
    var out = new ByteArrayOutputStream();
    MediaMismatchException e =
        assertThrows(MediaMismatchException.class, () -> AttemptMedia.downloadTo(channel, event(REF), REF, out));
    assertThrows(MediaMismatchException.class, () -> AttemptMedia.download(channel, event(REF), REF));
    long expected =
        switch (which) {
          case "short" -> DATA.length - 1;
          case "long" -> 6 * CHUNK;
          case "announced" -> DATA.length + 1;
          default -> DATA.length;
        };
    assertEquals(REF, e.media());
    assertEquals(expected, e.received());
    assertEquals(which.equals("announced"), e.announced());
    assertEquals(which.equals("corrupt"), e.sha256().isPresent());
    e.sha256().ifPresent(sha -> assertNotEquals(REF.getSha256(), sha));
    assertTrue(out.size() <= REF.getSizeBytes(), out.size() + " bytes written");
    assertTrue(!which.equals("announced") || out.size() == 0, out.size() + " bytes written");
    assertTrue(e.getMessage().contains(REF.getMediaId()), e.getMessage());
  }

  @Test
  void errorsPassThroughAndAFailedWriteEndsTheCall() throws Exception {
    CountDownLatch cancelled = new CountDownLatch(1);
    FakeAttempts fake = new FakeAttempts();
    fake.download = (req, out) -> {
      if (!req.getMediaId().equals(REF.getMediaId())) {
        out.onError(richError(Code.NOT_FOUND, "no such media", info("MEDIA_NOT_FOUND")));
        return;
      }
      ((ServerCallStreamObserver<DownloadAttemptMediaResponse>) out).setOnCancelHandler(cancelled::countDown);
      send(out, DATA, DATA.length);
      // Never completes: only the client's cancel ends the call.
    };
    serve(fake);

    Media other = REF.toBuilder().setMediaId("0123456789abcdef0123456789abcdef").build();
    StatusRuntimeException notFound =
        assertThrows(StatusRuntimeException.class, () -> AttemptMedia.download(channel, event(other), other));
    ErrorDetails d = ErrorDetails.from(notFound).orElseThrow();
    assertEquals(Status.Code.NOT_FOUND, d.code());
    assertEquals("MEDIA_NOT_FOUND", d.reason());

    OutputStream full =
        new OutputStream() {
          @Override
          public void write(int b) throws IOException {
            throw new IOException("disk full");
          }
        };
    IOException failed =
        assertThrows(IOException.class, () -> AttemptMedia.downloadTo(channel, event(REF), REF, full));
    assertEquals("disk full", failed.getMessage());
    assertTrue(cancelled.await(5, TimeUnit.SECONDS), "the call was not cancelled after the failed write");

    assertThrows(
        IllegalArgumentException.class,
        () -> AttemptMedia.download(channel, AttemptEvent.newBuilder().setAttemptId("x").build(), REF));
    assertThrows(
        IllegalArgumentException.class,
        () -> AttemptMedia.download(channel, event(REF), REF.toBuilder().clearSha256().build()));
    assertEquals(2, fake.mediaRequests.size(), "no call for an unusable event or reference");
  }
}
