package io.idvgateway.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.protobuf.ByteString;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.idvgateway.ableid.v1.AbleIdServiceGrpc;
import io.idvgateway.ableid.v1.RequestPassportRequest;
import io.idvgateway.ableid.v1.RequestPhotoRequest;
import io.idvgateway.ableid.v1.StartResidentCheckRequest;
import io.idvgateway.ableid.v1.StartResidentCheckResponse;
import io.idvgateway.attempts.v1.Attempt;
import io.idvgateway.attempts.v1.AttemptEvent;
import io.idvgateway.attempts.v1.AttemptServiceGrpc;
import io.idvgateway.attempts.v1.AttemptState;
import io.idvgateway.attempts.v1.GetAttemptRequest;
import io.idvgateway.attempts.v1.ListAttemptEventsRequest;
import io.idvgateway.attempts.v1.ListAttemptEventsResponse;
import io.idvgateway.attempts.v1.Media;
import io.idvgateway.attempts.v1.Vendor;
import io.idvgateway.b2core.v1.ListVerificationsRequest;
import io.idvgateway.b2core.v1.ListVerificationsResponse;
import io.idvgateway.b2core.v1.VerificationServiceGrpc;
import io.idvgateway.baf.v1.ApplicantServiceGrpc;
import io.idvgateway.baf.v1.CreateApplicantRequest;
import io.idvgateway.baf.v1.CreateApplicantResponse;
import io.idvgateway.baf.v1.DownloadAttemptVideoRequest;
import io.idvgateway.baf.v1.DownloadAttemptVideoResponse;
import io.idvgateway.baf.v1.GetApplicantRequest;
import io.idvgateway.baf.v1.ListApplicantAttemptsRequest;
import io.idvgateway.baf.v1.ListApplicantAttemptsResponse;
import io.idvgateway.baf.v1.RegisterFaceRequest;
import io.idvgateway.baf.v1.RegisterFaceResponse;
import io.idvgateway.baf.v1.ValidationServiceGrpc;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;

/**
 * The Java client against a running gateway in sandbox mode (scripts/test-clients).
 *
 * <p>Disabled unless IDV_GATEWAY_ADDR is set. Environment: IDV_GATEWAY_ADDR (gRPC host:port),
 * IDV_GATEWAY_HTTP (http://host:port of the sandbox pages), IDV_GATEWAY_PROXY_ADDR and
 * IDV_GATEWAY_PROXY_CONTROL (scripts/tcp_proxy.py). A call the gateway does not provide
 * (UNIMPLEMENTED, a sandbox vendor not configured, a sandbox page that answers 404) fails the test
 * that needs it.
 */
@EnabledIfEnvironmentVariable(named = "IDV_GATEWAY_ADDR", matches = ".+")
@Timeout(120)
class GatewayIntegrationTest {
  private static final String PINFL = "31205901234567";
  private static final String BIRTH_DATE = "12.05.1990";
  private static final String HTTP = trimSlash(System.getenv().getOrDefault("IDV_GATEWAY_HTTP", ""));
  /** A valid 1x1 JPEG, for calls that need a face image. */
  private static final ByteString TINY_JPEG =
      ByteString.copyFrom(
          HexFormat.of()
              .parseHex(
                  "ffd8ffdb004300080606070605080707070909080a0c140d0c0b0b0c1912130f141d1a1f1e1d1a1c1c20242e"
                      + "2720222c231c1c2837292c30313434341f27393d38323c2e333432ffc0000b080001000101011100ffc40014"
                      + "0001000000000000000000000000000000000009ffc40014100100000000000000000000000000000000ffda"
                      + "0008010100003f002a9fffd9"));

  private static ManagedChannel channel;

  @BeforeAll
  static void connect() {
    channel = channel(System.getenv("IDV_GATEWAY_ADDR"));
  }

  @AfterAll
  static void disconnect() throws InterruptedException {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }

  private static ManagedChannel channel(String hostPort) {
    return Grpc.newChannelBuilder(hostPort, InsecureChannelCredentials.create()).build();
  }

  private static String trimSlash(String s) {
    return s.endsWith("/") ? s.substring(0, s.length() - 1) : s;
  }

  /** Runs a call; its error fails the test, naming the call (see {@link #callFailed}). */
  private static <T> T call(String what, Supplier<T> rpc) {
    try {
      return rpc.get();
    } catch (StatusRuntimeException e) {
      throw callFailed(what, e);
    }
  }

  /**
   * The failure of a test on a call's error, which says so when the error means that the gateway
   * lacks what the test needs (see {@link #missingFeature}).
   */
  private static AssertionError callFailed(String what, StatusRuntimeException e) {
    String why = missingFeature(e);
    String status = ErrorDetails.from(e).map(Object::toString).orElse(e.toString());
    return new AssertionError(
        why.isEmpty()
            ? what + ": " + status
            : what + ": the gateway does not provide what this test needs (" + why + "): " + status,
        e);
  }

  /**
   * Why an error means a missing gateway feature rather than a wrong answer: UNIMPLEMENTED, a
   * vendor the sandbox does not configure, or a sandbox without public_url (so it cannot add its
   * own AbleID hook). Empty for any other error.
   */
  private static String missingFeature(StatusRuntimeException e) {
    ErrorDetails d = ErrorDetails.from(e).orElse(null);
    if (d == null) {
      return "";
    }
    if (d.code() == Status.Code.UNIMPLEMENTED) {
      return "UNIMPLEMENTED";
    }
    if (d.code() == Status.Code.FAILED_PRECONDITION && d.reason().equals("UPSTREAM_NOT_CONFIGURED")) {
      return "vendor not configured: UPSTREAM_NOT_CONFIGURED";
    }
    if (d.code() == Status.Code.INVALID_ARGUMENT
        && !d.fieldViolations().isEmpty()
        && d.fieldViolations().stream()
            .allMatch(v -> v.field().equals("hooks") && v.description().contains("public_url"))) {
      return "no public_url, so no AbleID completion hook";
    }
    return "";
  }

  private static String unique(String prefix) {
    return prefix + "-" + System.nanoTime();
  }

  /** POSTs an empty form to a sandbox page without following its redirect. */
  private static void post(String url) throws Exception {
    HttpURLConnection c = (HttpURLConnection) URI.create(url).toURL().openConnection();
    c.setInstanceFollowRedirects(false);
    c.setRequestMethod("POST");
    c.setDoOutput(true);
    c.setRequestProperty("Content-Type", "application/x-www-form-urlencoded");
    c.setConnectTimeout(10_000);
    c.setReadTimeout(10_000);
    c.getOutputStream().close();
    int status = c.getResponseCode();
    c.disconnect();
    assertTrue(
        status != 404,
        "POST " + url + ": HTTP 404: the gateway does not serve this sandbox page (serve --sandbox?)");
    assertTrue(status == 200 || status == 303, "POST " + url + ": HTTP " + status);
  }

  /**
   * Takes what a watch's runner thread put in {@code events} (events, then its end or its
   * error) until an event of {@code kind}, within 30 s; every event taken goes to {@code
   * received}.
   */
  private static AttemptEvent nextOfKind(
      BlockingQueue<Object> events, AttemptEvent.KindCase kind, List<AttemptEvent> received) {
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (true) {
      Object item;
      try {
        item = events.poll(Math.max(0, until - System.nanoTime()), TimeUnit.NANOSECONDS);
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
      if (item == null) {
        fail("no " + kind + " event within 30s; got " + received.size() + " events");
      }
      if (item instanceof StatusRuntimeException e) {
        throw callFailed("AttemptService.WatchAttempt", e);
      }
      if (!(item instanceof AttemptEvent ev)) {
        fail("watch ended before a " + kind + " event: " + item);
        return null;
      }
      received.add(ev);
      if (ev.getKindCase() == kind) {
        return ev;
      }
    }
  }

  private static StartResidentCheckResponse startResident() {
    StartResidentCheckResponse r =
        call(
            "AbleIdService.StartResidentCheck",
            () ->
                AbleIdServiceGrpc.newBlockingStub(channel)
                    .withDeadlineAfter(15, TimeUnit.SECONDS)
                    .startResidentCheck(
                        StartResidentCheckRequest.newBuilder()
                            .setTransactionId(unique("java-it"))
                            .setPinfl(PINFL)
                            .setBirthDate(BIRTH_DATE)
                            .build()));
    assertFalse(r.getAttemptId().isEmpty() || r.getFullUrl().isEmpty(), r.toString());
    return r;
  }

  private static CreateApplicantResponse createApplicant() {
    CreateApplicantResponse r =
        call(
            "ApplicantService.CreateApplicant",
            () ->
                ApplicantServiceGrpc.newBlockingStub(channel)
                    .withDeadlineAfter(15, TimeUnit.SECONDS)
                    .createApplicant(
                        CreateApplicantRequest.newBuilder()
                            .setFirstName("Java")
                            .setLastName("Client")
                            .setReferenceId(unique("java-it"))
                            .build()));
    assertFalse(r.getApplicantId().isEmpty(), r.toString());
    return r;
  }

  @Test
  void ableIdServiceStartResidentCheck() {
    assertTrue(startResident().hasExpireTime());
  }

  @Test
  void applicantServiceCreateAndGet() {
    CreateApplicantResponse created = createApplicant();
    var got =
        call(
            "ApplicantService.GetApplicant",
            () ->
                ApplicantServiceGrpc.newBlockingStub(channel)
                    .withDeadlineAfter(15, TimeUnit.SECONDS)
                    .getApplicant(GetApplicantRequest.newBuilder().setApplicantId(created.getApplicantId()).build()));
    assertEquals(created.getApplicantId(), got.getApplicant().getApplicantId());
  }

  @Test
  void validationServiceRegisterFace() {
    CreateApplicantResponse created = createApplicant();
    RegisterFaceResponse r =
        call(
            "ValidationService.RegisterFace",
            () ->
                ValidationServiceGrpc.newBlockingStub(channel)
                    .withDeadlineAfter(15, TimeUnit.SECONDS)
                    .registerFace(
                        RegisterFaceRequest.newBuilder()
                            .setApplicantId(created.getApplicantId())
                            .setFaceImageBase64(TINY_JPEG)
                            .build()));
    assertTrue(r.hasResult());
  }

  @Test
  void verificationServiceListVerifications() {
    ListVerificationsResponse r =
        call(
            "VerificationService.ListVerifications",
            () ->
                B2CoreAuth.withToken(VerificationServiceGrpc.newBlockingStub(channel), "sandbox-client-token")
                    .withDeadlineAfter(15, TimeUnit.SECONDS)
                    .listVerifications(ListVerificationsRequest.getDefaultInstance()));
    assertTrue(r.getTotal() >= r.getDataCount());
  }

  @Test
  void attemptServiceGetAttempt() {
    StartResidentCheckResponse started = startResident();
    Attempt a =
        call(
                "AttemptService.GetAttempt",
                () ->
                    AttemptServiceGrpc.newBlockingStub(channel)
                        .withDeadlineAfter(15, TimeUnit.SECONDS)
                        .getAttempt(
                            GetAttemptRequest.newBuilder().setAbleidAttemptId(started.getAttemptId()).build()))
            .getAttempt();
    assertEquals(started.getAttemptId(), a.getAttemptId());
    assertEquals(Vendor.VENDOR_ABLEID, a.getVendor());
    assertEquals(AttemptState.ATTEMPT_STATE_PENDING, a.getState());
    assertFalse(a.getTerminal());
    assertTrue(a.getLastSequence() >= 1);
  }

  /** Validation happens in the gateway itself, before any vendor is called. */
  @Test
  void invalidRequestHasFieldViolations() {
    StatusRuntimeException e =
        assertThrows(
            StatusRuntimeException.class,
            () ->
                AbleIdServiceGrpc.newBlockingStub(channel)
                    .withDeadlineAfter(15, TimeUnit.SECONDS)
                    .startResidentCheck(
                        StartResidentCheckRequest.newBuilder()
                            .setTransactionId(unique("java-it"))
                            .setPinfl("12345")
                            .setBirthDate(BIRTH_DATE)
                            .build()));
    ErrorDetails d = ErrorDetails.from(e).orElseThrow();
    assertEquals(Status.Code.INVALID_ARGUMENT, d.code());
    assertEquals("INVALID_ARGUMENT", d.reason());
    assertEquals("idv-gateway", d.domain());
    assertTrue(d.violation("pinfl").isPresent(), d.toString());
  }

  @Test
  void applicantServiceDownloadAttemptVideo() throws Exception {
    CreateApplicantResponse created = createApplicant();
    post(HTTP + "/sandbox/baf/embedded/" + created.getApplicantId() + "/pass");
    var baf = ApplicantServiceGrpc.newBlockingStub(channel);
    io.idvgateway.baf.v1.Attempt attempt = null;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (attempt == null) {
      ListApplicantAttemptsResponse listed =
          call(
              "ApplicantService.ListApplicantAttempts",
              () ->
                  baf.withDeadlineAfter(15, TimeUnit.SECONDS)
                      .listApplicantAttempts(
                          ListApplicantAttemptsRequest.newBuilder().setApplicantId(created.getApplicantId()).build()));
      if (listed.getAttemptsCount() > 0) {
        attempt = listed.getAttempts(listed.getAttemptsCount() - 1);
      } else if (System.nanoTime() > deadline) {
        fail("no attempt listed after the sandbox pass");
      } else {
        Thread.sleep(200);
      }
    }
    DownloadAttemptVideoRequest req =
        DownloadAttemptVideoRequest.newBuilder()
            .setApplicantId(created.getApplicantId())
            .setAttemptId(attempt.getAttemptId())
            .build();
    long total = 0;
    long declared = 0;
    int chunks = 0;
    try {
      Iterator<DownloadAttemptVideoResponse> it =
          baf.withDeadlineAfter(60, TimeUnit.SECONDS).downloadAttemptVideo(req);
      while (it.hasNext()) {
        DownloadAttemptVideoResponse msg = it.next();
        if (chunks == 0) {
          declared = msg.getContentLength();
          assertFalse(msg.getContentType().isEmpty(), "first message has no content_type");
        }
        chunks++;
        total += msg.getChunk().size();
      }
    } catch (StatusRuntimeException e) {
      throw callFailed("ApplicantService.DownloadAttemptVideo", e);
    }
    assertTrue(total > 0, "downloaded 0 bytes in " + chunks + " messages");
    assertTrue(declared == 0 || declared == total, "downloaded " + total + " bytes, content_length says " + declared);
  }

  /** scripts/tcp_proxy.py, which scripts/test-clients puts in front of the gateway. */
  private record Proxy(String addr, String control) {
    static Proxy fromEnv() {
      String addr = System.getenv("IDV_GATEWAY_PROXY_ADDR");
      String control = System.getenv("IDV_GATEWAY_PROXY_CONTROL");
      assertTrue(addr != null && control != null, "IDV_GATEWAY_PROXY_ADDR/_CONTROL must be set");
      return new Proxy(addr, trimSlash(control));
    }

    private Map<String, Integer> call(String method, String path) throws Exception {
      HttpURLConnection c = (HttpURLConnection) URI.create(control + path).toURL().openConnection();
      c.setRequestMethod(method);
      if (method.equals("POST")) {
        c.setDoOutput(true);
        c.getOutputStream().close();
      }
      assertEquals(200, c.getResponseCode());
      String body;
      try (InputStream in = c.getInputStream()) {
        body = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
      }
      Matcher m = Pattern.compile("\"(\\w+)\":\\s*(\\d+)").matcher(body);
      Map<String, Integer> out = new java.util.HashMap<>();
      while (m.find()) {
        out.put(m.group(1), Integer.parseInt(m.group(2)));
      }
      return out;
    }

    int drop() throws Exception {
      return call("POST", "/drop").get("dropped");
    }

    int accepted() throws Exception {
      return call("GET", "/stats").get("accepted");
    }
  }

  /**
   * The full AbleID flow through the watch helper, across two forced disconnects: start, watch
   * (following after the terminal state, for the data hooks), {@code started}, cut, approve on
   * the sandbox page, {@code completed}, cut, RequestPassport, {@code passport}. Every event
   * arrives once, in sequence order from 1 without gaps, and the helper resumed with its token (a
   * resume without one would have brought a second snapshot).
   */
  @Test
  void ableIdWatchAcrossDisconnects() throws Exception {
    Proxy proxy = Proxy.fromEnv();
    StartResidentCheckResponse started = startResident();
    int acceptedBefore = proxy.accepted();
    BlockingQueue<Object> events = new LinkedBlockingQueue<>();
    BlockingQueue<AttemptWatch.Reconnect> reconnects = new LinkedBlockingQueue<>();
    List<Attempt> snapshots = new CopyOnWriteArrayList<>();
    Object end = new Object();
    ManagedChannel viaProxy = channel(proxy.addr());
    List<AttemptEvent> received = new ArrayList<>();
    try (AttemptWatch watch =
        AttemptWatch.forAbleIdAttempt(viaProxy, started.getAttemptId())
            .followAfterTerminal(true)
            .backoff(java.time.Duration.ofMillis(50), java.time.Duration.ofSeconds(1))
            .maxRetries(30)
            .onSnapshot(snapshots::add)
            .onReconnect(reconnects::add)
            .build()) {
      Thread runner =
          new Thread(
              () -> {
                try {
                  watch.run(events::add);
                  events.add(end);
                } catch (RuntimeException e) {
                  events.add(e);
                }
              });
      runner.start();

      java.util.function.Function<AttemptEvent.KindCase, AttemptEvent> waitFor =
          kind -> nextOfKind(events, kind, received);
      Supplier<AttemptWatch.Reconnect> waitReconnect =
          () -> {
            try {
              AttemptWatch.Reconnect r = reconnects.poll(15, TimeUnit.SECONDS);
              assertNotNull(r, "no reconnect within 15s of the drop");
              assertFalse(r.resumeToken().isEmpty(), "reconnected without a resume token: " + r);
              return r;
            } catch (InterruptedException e) {
              throw new AssertionError(e);
            }
          };

      waitFor.apply(AttemptEvent.KindCase.STARTED);
      assertEquals(started.getAttemptId(), snapshots.get(0).getAttemptId());
      assertEquals(AttemptState.ATTEMPT_STATE_PENDING, snapshots.get(0).getState());
      assertTrue(proxy.drop() >= 1);
      waitReconnect.get();

      post(trimSlash(started.getFullUrl()) + "/approve");
      AttemptEvent completed = waitFor.apply(AttemptEvent.KindCase.COMPLETED);
      assertEquals(AttemptState.ATTEMPT_STATE_SUCCEEDED, completed.getAttemptState());
      assertTrue(proxy.drop() >= 1);
      waitReconnect.get();

      call(
          "AbleIdService.RequestPassport",
          () ->
              AbleIdServiceGrpc.newBlockingStub(channel)
                  .withDeadlineAfter(15, TimeUnit.SECONDS)
                  .requestPassport(
                      RequestPassportRequest.newBuilder()
                          .setAttemptId(started.getAttemptId())
                          .setPinfl(PINFL)
                          .setBirthDate(BIRTH_DATE)
                          .build()));
      AttemptEvent passport = waitFor.apply(AttemptEvent.KindCase.PASSPORT);
      assertTrue(passport.hasPassport());

      watch.close();
      runner.join(10_000);
      assertFalse(runner.isAlive(), "the watch did not stop after close()");
      for (Object item; (item = events.poll()) != null; ) {
        if (item instanceof AttemptEvent ev) {
          received.add(ev);
        } else if (item != end) {
          fail("watch ended with " + item);
        }
      }
      assertEquals(1, snapshots.size(), "a resume without the token would send another snapshot");
      assertTrue(watch.reconnects() >= 2, "reconnects " + watch.reconnects());
    } finally {
      viaProxy.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    List<AttemptEvent.KindCase> kinds = received.stream().map(AttemptEvent::getKindCase).toList();
    var ids = new HashSet<String>();
    for (int i = 0; i < received.size(); i++) {
      AttemptEvent ev = received.get(i);
      assertEquals(i + 1, ev.getSequence(), "sequence not 1,2,3… once each: " + kinds);
      assertTrue(ids.add(ev.getEventId()), "event " + ev.getEventId() + " delivered twice");
      assertEquals(started.getAttemptId(), ev.getAttemptId());
    }
    int s = kinds.indexOf(AttemptEvent.KindCase.STARTED);
    int c = kinds.indexOf(AttemptEvent.KindCase.COMPLETED);
    int p = kinds.indexOf(AttemptEvent.KindCase.PASSPORT);
    assertTrue(s >= 0 && s < c && c < p, "event order " + kinds);
    assertTrue(proxy.accepted() - acceptedBefore >= 3, "proxy connections");
  }

  /**
   * Two photos larger than gRPC's default 4 MiB receive limit (scripts/test-clients runs the
   * sandbox with IDV_SANDBOX_PHOTO_BYTES=12582912): a channel with default options watches the
   * attempt, lists its events with the default page, and downloads each photo by reference,
   * checked against its size and SHA-256.
   */
  @Test
  void twoLargePhotosWithDefaultLimits() throws Exception {
    StartResidentCheckResponse started = startResident();
    BlockingQueue<Object> events = new LinkedBlockingQueue<>();
    Object end = new Object();
    List<AttemptEvent> photos = new ArrayList<>();
    try (AttemptWatch watch =
        AttemptWatch.forAbleIdAttempt(channel, started.getAttemptId()).followAfterTerminal(true).build()) {
      Thread runner =
          new Thread(
              () -> {
                try {
                  watch.run(events::add);
                  events.add(end);
                } catch (RuntimeException e) {
                  events.add(e);
                }
              });
      runner.start();
      List<AttemptEvent> received = new ArrayList<>();
      java.util.function.Function<AttemptEvent.KindCase, AttemptEvent> waitFor =
          kind -> nextOfKind(events, kind, received);
      waitFor.apply(AttemptEvent.KindCase.STARTED);
      post(trimSlash(started.getFullUrl()) + "/approve");
      waitFor.apply(AttemptEvent.KindCase.COMPLETED);
      for (int i = 0; i < 2; i++) {
        call(
            "AbleIdService.RequestPhoto",
            () ->
                AbleIdServiceGrpc.newBlockingStub(channel)
                    .withDeadlineAfter(30, TimeUnit.SECONDS)
                    .requestPhoto(
                        RequestPhotoRequest.newBuilder().setAttemptId(started.getAttemptId()).build()));
        photos.add(waitFor.apply(AttemptEvent.KindCase.PHOTO));
      }
      watch.close();
      runner.join(10_000);
    }

    ListAttemptEventsResponse page =
        call(
            "AttemptService.ListAttemptEvents",
            () ->
                AttemptServiceGrpc.newBlockingStub(channel)
                    .withDeadlineAfter(15, TimeUnit.SECONDS)
                    .listAttemptEvents(
                        ListAttemptEventsRequest.newBuilder()
                            .setAbleidAttemptId(started.getAttemptId())
                            .build()));
    assertEquals(
        2, page.getEventsList().stream().filter(AttemptEvent::hasPhoto).count(), "photo events listed");

    for (AttemptEvent ev : photos) {
      assertTrue(ev.getSerializedSize() < 64 * 1024, "a photo event should carry a reference");
      assertEquals(1, ev.getMediaCount());
      Media media = ev.getMedia(0);
      assertTrue(
          media.getSizeBytes() > 4 * 1024 * 1024,
          "the photo is "
              + media.getSizeBytes()
              + " bytes: run scripts/test-clients, which makes the sandbox's photos 12 MiB");
      byte[] data = AttemptMedia.download(channel, ev, media);
      assertEquals(media.getSizeBytes(), data.length);
    }
  }
}
