package io.idvgateway.client;

import io.idvgateway.attempts.v1.Media;
import java.io.IOException;
import java.util.Optional;

/**
 * The bytes {@code DownloadAttemptMedia} sent are not the file an event's {@link Media}
 * reference describes: another size or another SHA-256. They must not be used; what {@link
 * AttemptMedia#downloadTo} already wrote must be discarded. An {@link IOException}, as a failed
 * integrity check of a stream is ({@code java.util.zip.ZipException} for a CRC).
 */
public final class MediaMismatchException extends IOException {
  private static final long serialVersionUID = 1L;

  private final Media media;
  private final long received;
  private final boolean announced;
  private final String sha256;

  MediaMismatchException(Media media, long received, boolean announced, String sha256) {
    super(message(media, received, announced, sha256));
    this.media = media;
    this.received = received;
    this.announced = announced;
    this.sha256 = sha256;
  }

  private static String message(Media media, long received, boolean announced, String sha256) {
    String what = "media " + media.getMediaId() + " (" + media.getField() + ")";
    long want = media.getSizeBytes();
    if (announced) {
      return what + ": the download announces " + received + " bytes, the reference says " + want;
    }
    if (received > want) {
      return what + ": received " + received + " bytes or more, the reference says " + want;
    }
    if (received != want) {
      return what + ": received " + received + " bytes, the reference says " + want;
    }
    return what + ": sha256 " + sha256 + ", the reference says " + media.getSha256();
  }

  /** The reference the download was checked against. */
  public Media media() {
    return media;
  }

  /**
   * Bytes received (when more arrived than expected, the count at the point the download
   * stopped), or, when {@link #announced()}, the content length the stream announced before any
   * bytes.
   */
  public long received() {
    return received;
  }

  /** Whether {@link #received()} is the announced content length. */
  public boolean announced() {
    return announced;
  }

  /** The hex SHA-256 of what was received, when the size matched. */
  public Optional<String> sha256() {
    return Optional.ofNullable(sha256);
  }
}
