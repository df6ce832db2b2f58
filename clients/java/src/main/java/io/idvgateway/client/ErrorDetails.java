package io.idvgateway.client;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.BadRequest;
import com.google.rpc.ErrorInfo;
import com.google.rpc.RetryInfo;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What a failed gateway call says, read from its {@code google.rpc.Status}.
 *
 * <p>Every gateway error carries one {@link ErrorInfo}: {@link #reason()} (UPPER_SNAKE, the
 * vendor's own type where it has one, such as {@code FACE_SESSION_EXPIRED}), {@link #domain()}
 * (the vendor, such as {@code ableid}, or {@code idv-gateway} for the gateway's own errors) and
 * {@link #metadata()} (the vendor's {@code code}, {@code http_status}, {@code type} and {@code
 * message} when a vendor refused the call). Requests the gateway rejected itself also carry
 * {@link BadRequest} field violations; {@link #retryDelay()} is set when the vendor asked the
 * caller to wait.
 *
 * <pre>{@code
 * try {
 *   ableid.startResidentCheck(request);
 * } catch (StatusRuntimeException e) {
 *   ErrorDetails d = ErrorDetails.from(e).orElseThrow();
 *   d.violation("pinfl").ifPresent(System.out::println);
 * }
 * }</pre>
 */
public final class ErrorDetails {
  /** One invalid request field. */
  public record FieldViolation(String field, String description) {}

  private final Status.Code code;
  private final String message;
  private final ErrorInfo errorInfo;
  private final BadRequest badRequest;
  private final RetryInfo retryInfo;
  private final List<FieldViolation> fieldViolations;
  private final List<Any> other;

  private ErrorDetails(
      Status.Code code,
      String message,
      ErrorInfo errorInfo,
      BadRequest badRequest,
      RetryInfo retryInfo,
      List<Any> other) {
    this.code = code;
    this.message = message;
    this.errorInfo = errorInfo;
    this.badRequest = badRequest;
    this.retryInfo = retryInfo;
    this.other = List.copyOf(other);
    List<FieldViolation> violations = new ArrayList<>();
    if (badRequest != null) {
      for (BadRequest.FieldViolation v : badRequest.getFieldViolationsList()) {
        violations.add(new FieldViolation(v.getField(), v.getDescription()));
      }
    }
    this.fieldViolations = List.copyOf(violations);
  }

  /**
   * Reads the details of a failed call: a {@link StatusRuntimeException} or {@link
   * StatusException}, possibly as the cause of {@code t}. Empty when {@code t} carries no gRPC
   * status.
   */
  public static Optional<ErrorDetails> from(Throwable t) {
    Throwable grpc = t;
    while (grpc != null
        && !(grpc instanceof StatusRuntimeException)
        && !(grpc instanceof StatusException)) {
      grpc = grpc.getCause();
    }
    if (grpc == null) {
      return Optional.empty();
    }
    Status status = Status.fromThrowable(grpc);
    String message = status.getDescription() == null ? "" : status.getDescription();
    com.google.rpc.Status rich = StatusProto.fromThrowable(grpc);
    ErrorInfo info = null;
    BadRequest bad = null;
    RetryInfo retry = null;
    List<Any> other = new ArrayList<>();
    if (rich != null) {
      for (Any detail : rich.getDetailsList()) {
        try {
          if (detail.is(ErrorInfo.class)) {
            info = info == null ? detail.unpack(ErrorInfo.class) : info;
          } else if (detail.is(BadRequest.class)) {
            bad = bad == null ? detail.unpack(BadRequest.class) : bad;
          } else if (detail.is(RetryInfo.class)) {
            retry = retry == null ? detail.unpack(RetryInfo.class) : retry;
          } else {
            other.add(detail);
          }
        } catch (InvalidProtocolBufferException e) {
          other.add(detail);
        }
      }
    }
    return Optional.of(new ErrorDetails(status.getCode(), message, info, bad, retry, other));
  }

  /** The gRPC status code. */
  public Status.Code code() {
    return code;
  }

  /** The status message. */
  public String message() {
    return message;
  }

  /** {@code ErrorInfo.reason}; empty without an ErrorInfo. */
  public String reason() {
    return errorInfo == null ? "" : errorInfo.getReason();
  }

  /** {@code ErrorInfo.domain}; empty without an ErrorInfo. */
  public String domain() {
    return errorInfo == null ? "" : errorInfo.getDomain();
  }

  /** {@code ErrorInfo.metadata}; empty without an ErrorInfo. */
  public Map<String, String> metadata() {
    return errorInfo == null ? Map.of() : errorInfo.getMetadataMap();
  }

  /** The vendor's own error code (ErrorInfo metadata {@code code}). */
  public Optional<String> vendorCode() {
    return Optional.ofNullable(metadata().get("code"));
  }

  /** The HTTP status the vendor answered (ErrorInfo metadata {@code http_status}). */
  public Optional<String> httpStatus() {
    return Optional.ofNullable(metadata().get("http_status"));
  }

  /** The vendor's own message (ErrorInfo metadata {@code message}). */
  public Optional<String> vendorMessage() {
    return Optional.ofNullable(metadata().get("message"));
  }

  /** {@code BadRequest} field violations, in order; empty without a BadRequest. */
  public List<FieldViolation> fieldViolations() {
    return fieldViolations;
  }

  /** The description of the first violation of {@code field}. */
  public Optional<String> violation(String field) {
    return fieldViolations.stream()
        .filter(v -> v.field().equals(field))
        .map(FieldViolation::description)
        .findFirst();
  }

  /** {@code RetryInfo.retry_delay}, when the status carries one. */
  public Optional<Duration> retryDelay() {
    if (retryInfo == null || !retryInfo.hasRetryDelay()) {
      return Optional.empty();
    }
    com.google.protobuf.Duration d = retryInfo.getRetryDelay();
    return Optional.of(Duration.ofSeconds(d.getSeconds(), d.getNanos()));
  }

  /** The ErrorInfo as received. */
  public Optional<ErrorInfo> errorInfo() {
    return Optional.ofNullable(errorInfo);
  }

  /** The BadRequest as received. */
  public Optional<BadRequest> badRequest() {
    return Optional.ofNullable(badRequest);
  }

  /** The RetryInfo as received. */
  public Optional<RetryInfo> retryInfo() {
    return Optional.ofNullable(retryInfo);
  }

  /** Further details, still packed. */
  public List<Any> other() {
    return other;
  }

  @Override
  public String toString() {
    StringBuilder s = new StringBuilder(code.name()).append(": ").append(message);
    if (errorInfo != null) {
      s.append(" (reason ").append(reason()).append(", domain ").append(domain()).append(')');
    }
    for (FieldViolation v : fieldViolations) {
      s.append("\n  ").append(v.field()).append(": ").append(v.description());
    }
    vendorCode()
        .ifPresent(
            c ->
                s.append("\n  vendor code ")
                    .append(c)
                    .append(" (HTTP ")
                    .append(httpStatus().orElse("?"))
                    .append("): ")
                    .append(vendorMessage().orElse("")));
    retryDelay().ifPresent(d -> s.append("\n  retry after ").append(d));
    return s.toString();
  }
}
