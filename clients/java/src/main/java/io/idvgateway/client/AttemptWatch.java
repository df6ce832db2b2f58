package io.idvgateway.client;

import io.grpc.Channel;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.idvgateway.attempts.v1.Attempt;
import io.idvgateway.attempts.v1.AttemptEvent;
import io.idvgateway.attempts.v1.AttemptServiceGrpc;
import io.idvgateway.attempts.v1.AttemptServiceGrpc.AttemptServiceBlockingStub;
import io.idvgateway.attempts.v1.AttemptState;
import io.idvgateway.attempts.v1.WatchAttemptRequest;
import io.idvgateway.attempts.v1.WatchAttemptResponse;
import java.time.Duration;
import java.util.HashSet;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;

/**
 * A resumable watch of one attempt ({@code idv.attempts.v1.AttemptService/WatchAttempt}), as a
 * blocking {@link Iterable} of events.
 *
 * <p>It remembers the resume token of every message received (the snapshot, events,
 * heartbeats), hands out each {@link AttemptEvent} once (delivery is at least once across
 * reconnects, so events are deduplicated by {@code event_id}), and when the call fails in a way
 * that says the connection or the stream broke ({@code UNAVAILABLE}, or {@code
 * CANCELLED}/{@code INTERNAL}/{@code UNKNOWN} without an ErrorInfo, as a reset stream gives) it
 * reconnects with exponential backoff and jitter and resends the last token.
 *
 * <p>Iteration ends when the stream ends with OK (the attempt reached a terminal state, or with
 * {@code follow_after_terminal} the gateway closed the stream) or after {@link #close()} (from
 * any thread). Every other error is thrown from {@code hasNext()} as the {@link
 * StatusRuntimeException} it is ({@code NOT_FOUND}, {@code FAILED_PRECONDITION} with reason
 * {@code RESUME_TOKEN_EXPIRED}, {@code INVALID_ARGUMENT}...); read it with {@link
 * ErrorDetails#from}. Interrupting the iterating thread ends the watch with the {@code
 * CANCELLED} status gRPC raises for it.
 *
 * <pre>{@code
 * try (AttemptWatch watch = AttemptWatch.forAbleIdAttempt(channel, attemptId).build()) {
 *   for (AttemptEvent event : watch) {
 *     System.out.println(event.getSequence() + " " + event.getKindCase());
 *   }
 * }
 * }</pre>
 *
 * <p>A watch is iterated once. Leaving the loop early leaves the call open until {@link
 * #close()}: use try-with-resources.
 */
public final class AttemptWatch implements Iterable<AttemptEvent>, AutoCloseable {
  public static final Duration DEFAULT_INITIAL_BACKOFF = Duration.ofMillis(250);
  public static final Duration DEFAULT_MAX_BACKOFF = Duration.ofSeconds(15);
  public static final int DEFAULT_MAX_RETRIES = 10;

  /**
   * One reconnect, for logging and tests.
   *
   * @param retry reconnects in a row without a message received, from 1
   * @param delay the wait before this reconnect
   * @param resumeToken the token the new call sends: the one of the last message received
   *     (empty when none has arrived yet, which starts over with a snapshot; known events are
   *     skipped)
   * @param cause the error that ended the previous call
   */
  public record Reconnect(int retry, Duration delay, String resumeToken, StatusRuntimeException cause) {}

  /** Watches an AbleID session. */
  public static Builder forAbleIdAttempt(Channel channel, String attemptId) {
    return new Builder(channel, WatchAttemptRequest.newBuilder().setAbleidAttemptId(attemptId));
  }

  /** Watches a BAF applicant. */
  public static Builder forBafApplicant(Channel channel, String applicantId) {
    return new Builder(channel, WatchAttemptRequest.newBuilder().setBafApplicantId(applicantId));
  }

  /** Watches the attempt named in {@code request}, from its resume token if it has one. */
  public static Builder forRequest(Channel channel, WatchAttemptRequest request) {
    return new Builder(channel, request.toBuilder());
  }

  /** Options of an {@link AttemptWatch}. */
  public static final class Builder {
    private final Channel channel;
    private final WatchAttemptRequest.Builder request;
    private Duration initialBackoff = DEFAULT_INITIAL_BACKOFF;
    private Duration maxBackoff = DEFAULT_MAX_BACKOFF;
    private int maxRetries = DEFAULT_MAX_RETRIES;
    private Consumer<Attempt> onSnapshot = a -> {};
    private Consumer<Reconnect> onReconnect = r -> {};
    private UnaryOperator<AttemptServiceBlockingStub> customizer = s -> s;

    private Builder(Channel channel, WatchAttemptRequest.Builder request) {
      this.channel = Objects.requireNonNull(channel, "channel");
      this.request = request;
    }

    /** Keep following after the terminal state (AbleID data hooks can arrive later). */
    public Builder followAfterTerminal(boolean follow) {
      request.setFollowAfterTerminal(follow);
      return this;
    }

    /** Start after this token (from an earlier watch of this attempt). */
    public Builder resumeToken(String token) {
      request.setResumeToken(token);
      return this;
    }

    /**
     * Base wait before the first reconnect; it doubles with each further failed reconnect in a
     * row, up to {@code max}. Each wait is jittered to between half and all of its base, and is
     * at least the delay of a {@code RetryInfo} in the error.
     */
    public Builder backoff(Duration initial, Duration max) {
      this.initialBackoff = initial;
      this.maxBackoff = max.compareTo(initial) < 0 ? initial : max;
      return this;
    }

    /** Failed reconnects in a row (no message between them) before the error is thrown; negative for no limit. */
    public Builder maxRetries(int maxRetries) {
      this.maxRetries = maxRetries;
      return this;
    }

    /** Called with each snapshot (the first message of a watch without resume token). */
    public Builder onSnapshot(Consumer<Attempt> onSnapshot) {
      this.onSnapshot = Objects.requireNonNull(onSnapshot);
      return this;
    }

    /** Called before each reconnect. */
    public Builder onReconnect(Consumer<Reconnect> onReconnect) {
      this.onReconnect = Objects.requireNonNull(onReconnect);
      return this;
    }

    /**
     * Adjusts the stub of every call (interceptors, call credentials). A deadline here would
     * bound each call, not the watch: close the watch instead.
     */
    public Builder customizeStub(UnaryOperator<AttemptServiceBlockingStub> customizer) {
      this.customizer = Objects.requireNonNull(customizer);
      return this;
    }

    public AttemptWatch build() {
      if (request.getAttemptCase() == WatchAttemptRequest.AttemptCase.ATTEMPT_NOT_SET) {
        throw new IllegalArgumentException("the request names no attempt");
      }
      return new AttemptWatch(this);
    }
  }

  private final AttemptServiceBlockingStub stub;
  private final WatchAttemptRequest request;
  private final Duration initialBackoff;
  private final Duration maxBackoff;
  private final int maxRetries;
  private final Consumer<Attempt> onSnapshot;
  private final Consumer<Reconnect> onReconnect;

  private final Object lock = new Object();
  private final CountDownLatch closed = new CountDownLatch(1);
  private final AtomicInteger reconnects = new AtomicInteger();
  private final Set<String> seen = new HashSet<>(); // the iterating thread's only
  private volatile String resumeToken;
  private volatile Attempt snapshot;
  private volatile AttemptState state = AttemptState.ATTEMPT_STATE_UNSPECIFIED;
  private Context.CancellableContext current; // guarded by lock
  private boolean iterated; // guarded by lock

  private AttemptWatch(Builder b) {
    this.stub = b.customizer.apply(AttemptServiceGrpc.newBlockingStub(b.channel));
    this.request = b.request.build();
    this.resumeToken = request.getResumeToken();
    this.initialBackoff = b.initialBackoff;
    this.maxBackoff = b.maxBackoff;
    this.maxRetries = b.maxRetries;
    this.onSnapshot = b.onSnapshot;
    this.onReconnect = b.onReconnect;
  }

  /** The token of the last message received: where to resume later, even in another process. */
  public String resumeToken() {
    return resumeToken;
  }

  /** The attempt as the last snapshot gave it. */
  public Optional<Attempt> snapshot() {
    return Optional.ofNullable(snapshot);
  }

  /** The attempt's state after the last snapshot or event received. */
  public AttemptState state() {
    return state;
  }

  /** Reconnects so far. */
  public int reconnects() {
    return reconnects.get();
  }

  /** Runs the watch to its end, handing each event to {@code onEvent}. */
  public void run(Consumer<AttemptEvent> onEvent) {
    for (AttemptEvent event : this) {
      onEvent.accept(event);
    }
  }

  /** Ends the watch from any thread: iteration stops without an error. */
  @Override
  public void close() {
    closed.countDown();
    synchronized (lock) {
      if (current != null) {
        current.cancel(null);
      }
    }
  }

  private boolean isClosed() {
    return closed.getCount() == 0;
  }

  @Override
  public Iterator<AttemptEvent> iterator() {
    synchronized (lock) {
      if (iterated) {
        throw new IllegalStateException("an AttemptWatch is iterated once");
      }
      iterated = true;
    }
    return new Events();
  }

  /**
   * Whether a WatchAttempt error means the connection or the stream broke: {@code UNAVAILABLE},
   * or {@code CANCELLED}, {@code INTERNAL} or {@code UNKNOWN} without an ErrorInfo (a reset
   * stream, or one that ended without a status; the gateway puts an ErrorInfo in every error it
   * returns itself).
   */
  public static boolean isRetryable(Throwable t) {
    Optional<ErrorDetails> details = ErrorDetails.from(t);
    if (details.isEmpty()) {
      return false;
    }
    Status.Code code = details.get().code();
    return switch (code) {
      case UNAVAILABLE -> true;
      case CANCELLED, INTERNAL, UNKNOWN -> details.get().errorInfo().isEmpty();
      default -> false;
    };
  }

  private final class Events implements Iterator<AttemptEvent> {
    private Iterator<WatchAttemptResponse> call;
    private AttemptEvent next;
    private boolean done;
    private int failures;

    @Override
    public boolean hasNext() {
      while (next == null && !done) {
        step();
      }
      return next != null;
    }

    @Override
    public AttemptEvent next() {
      if (!hasNext()) {
        throw new NoSuchElementException();
      }
      AttemptEvent event = next;
      next = null;
      return event;
    }

    private void step() {
      if (isClosed()) {
        finish();
        return;
      }
      try {
        if (call == null) {
          call = open();
        }
        if (!call.hasNext()) {
          finish(); // the stream ended with OK
          return;
        }
        next = accept(call.next());
      } catch (StatusRuntimeException e) {
        endCall();
        if (isClosed()) {
          finish();
          return;
        }
        if (Thread.currentThread().isInterrupted()) {
          finish();
          throw e;
        }
        Duration delay = retryDelay(e); // throws e when it is final
        try {
          if (closed.await(delay.toNanos(), TimeUnit.NANOSECONDS)) {
            finish();
          }
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          finish();
          throw e;
        }
      }
    }

    private Iterator<WatchAttemptResponse> open() {
      WatchAttemptRequest req = request.toBuilder().setResumeToken(resumeToken).build();
      Context.CancellableContext ctx = Context.current().withCancellation();
      synchronized (lock) {
        current = ctx;
      }
      if (isClosed()) {
        ctx.cancel(null);
      }
      Context previous = ctx.attach();
      try {
        return stub.watchAttempt(req);
      } finally {
        ctx.detach(previous);
      }
    }

    private void endCall() {
      call = null;
      synchronized (lock) {
        if (current != null) {
          current.cancel(null);
          current = null;
        }
      }
    }

    private void finish() {
      done = true;
      endCall();
    }

    private AttemptEvent accept(WatchAttemptResponse message) {
      failures = 0;
      if (!message.getResumeToken().isEmpty()) {
        resumeToken = message.getResumeToken();
      }
      switch (message.getKindCase()) {
        case ATTEMPT -> {
          snapshot = message.getAttempt();
          state = message.getAttempt().getState();
          onSnapshot.accept(message.getAttempt());
          return null;
        }
        case EVENT -> {
          AttemptEvent event = message.getEvent();
          String id = event.getEventId();
          if (!id.isEmpty() && !seen.add(id)) {
            return null; // redelivered
          }
          state = event.getAttemptState();
          return event;
        }
        default -> {
          return null; // heartbeats (and kinds this version does not know) only move the token
        }
      }
    }

    private Duration retryDelay(StatusRuntimeException e) {
      if (!isRetryable(e)) {
        throw e;
      }
      failures++;
      if (maxRetries >= 0 && failures > maxRetries) {
        throw e;
      }
      long base = initialBackoff.toNanos();
      for (int i = 1; i < failures && base < maxBackoff.toNanos(); i++) {
        base *= 2;
      }
      base = Math.min(base, maxBackoff.toNanos());
      long jittered = base / 2 + ThreadLocalRandom.current().nextLong(base / 2 + 1);
      Duration delay = Duration.ofNanos(jittered);
      Optional<Duration> asked = ErrorDetails.from(e).flatMap(ErrorDetails::retryDelay);
      if (asked.isPresent() && asked.get().compareTo(delay) > 0) {
        delay = asked.get();
      }
      reconnects.incrementAndGet();
      onReconnect.accept(new Reconnect(failures, delay, resumeToken, e));
      return delay;
    }
  }
}
