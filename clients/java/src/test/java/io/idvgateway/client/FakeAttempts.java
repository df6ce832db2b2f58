package io.idvgateway.client;

import com.google.protobuf.Any;
import com.google.protobuf.Message;
import com.google.rpc.ErrorInfo;
import io.grpc.Grpc;
import io.grpc.InsecureServerCredentials;
import io.grpc.Server;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.StreamObserver;
import io.idvgateway.attempts.v1.Attempt;
import io.idvgateway.attempts.v1.AttemptEvent;
import io.idvgateway.attempts.v1.AttemptServiceGrpc;
import io.idvgateway.attempts.v1.AttemptState;
import io.idvgateway.attempts.v1.Completed;
import io.idvgateway.attempts.v1.DownloadAttemptMediaRequest;
import io.idvgateway.attempts.v1.DownloadAttemptMediaResponse;
import io.idvgateway.attempts.v1.Heartbeat;
import io.idvgateway.attempts.v1.Started;
import io.idvgateway.attempts.v1.Vendor;
import io.idvgateway.attempts.v1.WatchAttemptRequest;
import io.idvgateway.attempts.v1.WatchAttemptResponse;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BiConsumer;

/**
 * An in-process AttemptService whose WatchAttempt runs one scripted handler per call and whose
 * DownloadAttemptMedia runs {@link #download}.
 */
final class FakeAttempts extends AttemptServiceGrpc.AttemptServiceImplBase {
  private final List<BiConsumer<WatchAttemptRequest, StreamObserver<WatchAttemptResponse>>> handlers;
  final List<WatchAttemptRequest> requests = new ArrayList<>();
  volatile BiConsumer<DownloadAttemptMediaRequest, StreamObserver<DownloadAttemptMediaResponse>> download;
  final List<DownloadAttemptMediaRequest> mediaRequests = new CopyOnWriteArrayList<>();

  @SafeVarargs
  FakeAttempts(BiConsumer<WatchAttemptRequest, StreamObserver<WatchAttemptResponse>>... handlers) {
    this.handlers = List.of(handlers);
  }

  @Override
  public void watchAttempt(WatchAttemptRequest request, StreamObserver<WatchAttemptResponse> out) {
    int n;
    synchronized (this) {
      n = requests.size();
      requests.add(request);
    }
    if (n >= handlers.size()) {
      out.onError(io.grpc.Status.INTERNAL.withDescription("unexpected call " + (n + 1)).asRuntimeException());
      return;
    }
    handlers.get(n).accept(request, out);
  }

  @Override
  public void downloadAttemptMedia(
      DownloadAttemptMediaRequest request, StreamObserver<DownloadAttemptMediaResponse> out) {
    mediaRequests.add(request);
    if (download == null) {
      out.onError(io.grpc.Status.INTERNAL.withDescription("unexpected DownloadAttemptMedia").asRuntimeException());
      return;
    }
    download.accept(request, out);
  }

  synchronized List<String> tokens() {
    return requests.stream().map(WatchAttemptRequest::getResumeToken).toList();
  }

  Server start(int port) throws IOException {
    return Grpc.newServerBuilderForPort(port, InsecureServerCredentials.create()).addService(this).build().start();
  }

  static WatchAttemptResponse snapshot(String token) {
    return WatchAttemptResponse.newBuilder()
        .setResumeToken(token)
        .setAttempt(
            Attempt.newBuilder()
                .setAttemptId("att-1")
                .setVendor(Vendor.VENDOR_ABLEID)
                .setState(AttemptState.ATTEMPT_STATE_PENDING))
        .build();
  }

  static WatchAttemptResponse event(String token, long seq, AttemptState state) {
    AttemptEvent.Builder ev =
        AttemptEvent.newBuilder()
            .setEventId("ev-" + seq)
            .setSequence(seq)
            .setAttemptId("att-1")
            .setVendor(Vendor.VENDOR_ABLEID)
            .setAttemptState(state);
    if (seq == 1) {
      ev.setStarted(Started.newBuilder().setTransactionId("tx"));
    } else {
      ev.setCompleted(Completed.newBuilder().setStatusCode(200).setType("SUCCESS"));
    }
    return WatchAttemptResponse.newBuilder().setResumeToken(token).setEvent(ev).build();
  }

  static WatchAttemptResponse event(String token, long seq) {
    return event(token, seq, AttemptState.ATTEMPT_STATE_PENDING);
  }

  static WatchAttemptResponse heartbeat(String token) {
    return WatchAttemptResponse.newBuilder().setResumeToken(token).setHeartbeat(Heartbeat.getDefaultInstance()).build();
  }

  static StatusRuntimeException richError(com.google.rpc.Code code, String message, Message... details) {
    com.google.rpc.Status.Builder s = com.google.rpc.Status.newBuilder().setCode(code.getNumber()).setMessage(message);
    for (Message d : details) {
      s.addDetails(Any.pack(d));
    }
    return StatusProto.toStatusRuntimeException(s.build());
  }

  static ErrorInfo info(String reason) {
    return ErrorInfo.newBuilder().setReason(reason).setDomain("idv-gateway").build();
  }
}
