package io.idvgateway.client;

import io.grpc.Channel;
import io.grpc.Context;
import io.idvgateway.attempts.v1.AttemptEvent;
import io.idvgateway.attempts.v1.AttemptServiceGrpc;
import io.idvgateway.attempts.v1.AttemptServiceGrpc.AttemptServiceBlockingStub;
import io.idvgateway.attempts.v1.DownloadAttemptMediaRequest;
import io.idvgateway.attempts.v1.DownloadAttemptMediaResponse;
import io.idvgateway.attempts.v1.Media;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.Locale;

/**
 * Files an event carries by reference ({@code AttemptEvent.media}), such as an AbleID photo.
 *
 * <p>An event does not carry a photo's bytes ({@code photo.photo} is empty): {@link
 * AttemptEvent#getMediaList()} names the files it refers to, each with {@code media_id}, {@code
 * field} (such as {@code photo.photo}), {@code content_type}, {@code size_bytes} and {@code
 * sha256}, and {@code idv.attempts.v1.AttemptService/DownloadAttemptMedia} streams a file in 64
 * KiB chunks.
 *
 * <p>These helpers make that call for one reference and check what arrives: the announced
 * content length, the running size (the call is cancelled as soon as more bytes than {@code
 * size_bytes} arrive), and at the end the size and the SHA-256. A difference throws {@link
 * MediaMismatchException}; a failed call throws the {@link io.grpc.StatusRuntimeException} it is
 * ({@code NOT_FOUND} with reason {@code MEDIA_NOT_FOUND} for an unknown id; read it with {@link
 * ErrorDetails#from}).
 *
 * <pre>{@code
 * var attempts = AttemptServiceGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.MINUTES);
 * for (Media media : event.getMediaList()) {
 *   try (OutputStream out = Files.newOutputStream(Path.of(media.getMediaId() + ".jpg"))) {
 *     AttemptMedia.downloadTo(attempts, event, media, out); // streamed, never all in memory
 *   }
 * }
 * byte[] jpeg = AttemptMedia.download(attempts, event, event.getMedia(0)); // or all in memory
 * }</pre>
 */
public final class AttemptMedia {
  private static final int MAX_PREALLOC = 64 << 20;

  private AttemptMedia() {}

  /**
   * The {@code DownloadAttemptMediaRequest} for {@code media}, a reference {@code event} carries:
   * the attempt comes from the event's vendor and attempt id.
   *
   * @throws IllegalArgumentException for an event of no known vendor
   */
  public static DownloadAttemptMediaRequest request(AttemptEvent event, Media media) {
    var request = DownloadAttemptMediaRequest.newBuilder().setMediaId(media.getMediaId());
    switch (event.getVendor()) {
      case VENDOR_ABLEID -> request.setAbleidAttemptId(event.getAttemptId());
      case VENDOR_BAF -> request.setBafApplicantId(event.getAttemptId());
      default -> throw new IllegalArgumentException(
          "media of an event of vendor " + event.getVendor() + " cannot be downloaded");
    }
    return request.build();
  }

  /**
   * Streams the bytes of {@code media} (one of {@code event}'s references) into {@code out}
   * chunk by chunk, without holding the file in memory, and returns the count. {@code out} is
   * neither flushed nor closed. Set a deadline, interceptors or call credentials on {@code stub}.
   *
   * @throws MediaMismatchException what arrived is not the file the reference describes: discard
   *     what was written to {@code out}
   * @throws IOException {@code out} failed (the call is then cancelled)
   * @throws io.grpc.StatusRuntimeException the call failed
   * @throws IllegalArgumentException the event's vendor or the reference cannot be used
   */
  public static long downloadTo(AttemptServiceBlockingStub stub, AttemptEvent event, Media media, OutputStream out)
      throws IOException {
    DownloadAttemptMediaRequest request = request(event, media);
    Check check = new Check(media);
    Context.CancellableContext ctx = Context.current().withCancellation();
    try {
      Iterator<DownloadAttemptMediaResponse> chunks;
      Context previous = ctx.attach();
      try {
        chunks = stub.downloadAttemptMedia(request);
      } finally {
        ctx.detach(previous);
      }
      while (chunks.hasNext()) {
        byte[] chunk = check.take(chunks.next());
        out.write(chunk);
      }
      check.finish();
      return check.received;
    } finally {
      ctx.cancel(null); // ends the call on a mismatch or a failed write; a no-op once it ended
    }
  }

  /** {@link #downloadTo(AttemptServiceBlockingStub, AttemptEvent, Media, OutputStream)} over a channel. */
  public static long downloadTo(Channel channel, AttemptEvent event, Media media, OutputStream out)
      throws IOException {
    return downloadTo(AttemptServiceGrpc.newBlockingStub(channel), event, media, out);
  }

  /**
   * The bytes of {@code media} (one of {@code event}'s references), checked against the
   * reference: see {@link #downloadTo(AttemptServiceBlockingStub, AttemptEvent, Media,
   * OutputStream)}.
   *
   * @throws MediaMismatchException what arrived is not the file the reference describes
   */
  public static byte[] download(AttemptServiceBlockingStub stub, AttemptEvent event, Media media)
      throws MediaMismatchException {
    var buffer = new ByteArrayOutputStream((int) Math.min(Math.max(media.getSizeBytes(), 0), MAX_PREALLOC));
    try {
      downloadTo(stub, event, media, buffer);
    } catch (MediaMismatchException e) {
      throw e;
    } catch (IOException e) {
      throw new AssertionError("a ByteArrayOutputStream does not fail", e);
    }
    return buffer.toByteArray();
  }

  /** {@link #download(AttemptServiceBlockingStub, AttemptEvent, Media)} over a channel. */
  public static byte[] download(Channel channel, AttemptEvent event, Media media) throws MediaMismatchException {
    return download(AttemptServiceGrpc.newBlockingStub(channel), event, media);
  }

  /** Checks a download against its reference, chunk by chunk. */
  private static final class Check {
    private final Media media;
    private final String want;
    private final MessageDigest hash;
    private long received;
    private boolean first = true;

    Check(Media media) {
      String sha = media.getSha256().toLowerCase(Locale.ROOT);
      if (!sha.matches("[0-9a-f]{64}") || media.getSizeBytes() < 0) {
        throw new IllegalArgumentException(
            "media " + media.getMediaId() + " (" + media.getField()
                + ") has no valid size and sha256 to check a download against");
      }
      this.media = media;
      this.want = sha;
      try {
        this.hash = MessageDigest.getInstance("SHA-256");
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException("every Java platform has SHA-256", e);
      }
    }

    /** The message's chunk, once it is known to fit the reference. */
    byte[] take(DownloadAttemptMediaResponse message) throws MediaMismatchException {
      if (first) {
        first = false;
        long announced = message.getContentLength();
        if (announced != 0 && announced != media.getSizeBytes()) {
          throw new MediaMismatchException(media, announced, true, null);
        }
      }
      byte[] chunk = message.getChunk().toByteArray();
      if (received + chunk.length > media.getSizeBytes()) {
        throw new MediaMismatchException(media, received + chunk.length, false, null);
      }
      received += chunk.length;
      hash.update(chunk);
      return chunk;
    }

    void finish() throws MediaMismatchException {
      if (received != media.getSizeBytes()) {
        throw new MediaMismatchException(media, received, false, null);
      }
      String got = HexFormat.of().formatHex(hash.digest());
      if (!got.equals(want)) {
        throw new MediaMismatchException(media, received, false, got);
      }
    }
  }
}
