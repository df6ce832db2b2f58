"""An in-process AttemptService whose WatchAttempt runs one scripted handler per call and
whose DownloadAttemptMedia runs ``download``."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent import futures
from typing import Any

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from idv.attempts.v1 import attempts_pb2, attempts_pb2_grpc

Handler = Callable[[attempts_pb2.WatchAttemptRequest, grpc.ServicerContext], Iterator[attempts_pb2.WatchAttemptResponse]]
MediaHandler = Callable[
    [attempts_pb2.DownloadAttemptMediaRequest, grpc.ServicerContext], Iterator[attempts_pb2.DownloadAttemptMediaResponse]
]

PENDING = attempts_pb2.ATTEMPT_STATE_PENDING
SUCCEEDED = attempts_pb2.ATTEMPT_STATE_SUCCEEDED


class FakeAttempts(attempts_pb2_grpc.AttemptServiceServicer):
    def __init__(self, *handlers: Handler) -> None:
        self.handlers = list(handlers)
        self.requests: list[attempts_pb2.WatchAttemptRequest] = []
        self.lock = threading.Lock()
        self.download: MediaHandler | None = None
        self.media_requests: list[attempts_pb2.DownloadAttemptMediaRequest] = []

    def WatchAttempt(self, request: Any, context: Any) -> Iterator[attempts_pb2.WatchAttemptResponse]:
        with self.lock:
            n = len(self.requests)
            self.requests.append(request)
        if n >= len(self.handlers):
            context.abort(grpc.StatusCode.INTERNAL, f"unexpected call {n + 1}")
        yield from self.handlers[n](request, context)

    def DownloadAttemptMedia(self, request: Any, context: Any) -> Iterator[attempts_pb2.DownloadAttemptMediaResponse]:
        with self.lock:
            self.media_requests.append(request)
        if self.download is None:
            context.abort(grpc.StatusCode.INTERNAL, "unexpected DownloadAttemptMedia")
            raise AssertionError
        yield from self.download(request, context)

    def GetAttempt(self, request: Any, context: Any) -> attempts_pb2.GetAttemptResponse:
        context.abort(grpc.StatusCode.UNIMPLEMENTED, "not in the fake")
        raise AssertionError  # abort raises

    def ListAttemptEvents(self, request: Any, context: Any) -> attempts_pb2.ListAttemptEventsResponse:
        context.abort(grpc.StatusCode.UNIMPLEMENTED, "not in the fake")
        raise AssertionError

    def tokens(self) -> list[str]:
        with self.lock:
            return [r.resume_token for r in self.requests]


def start_server(servicer: FakeAttempts, port: int = 0) -> tuple[grpc.Server, int]:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    attempts_pb2_grpc.add_AttemptServiceServicer_to_server(servicer, server)
    bound = server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    return server, bound


def snapshot(token: str, state: attempts_pb2.AttemptState = PENDING) -> attempts_pb2.WatchAttemptResponse:
    return attempts_pb2.WatchAttemptResponse(
        resume_token=token,
        attempt=attempts_pb2.Attempt(
            attempt_id="att-1", vendor=attempts_pb2.VENDOR_ABLEID, state=state, terminal=state != PENDING
        ),
    )


def event(token: str, seq: int, state: attempts_pb2.AttemptState = PENDING) -> attempts_pb2.WatchAttemptResponse:
    ev = attempts_pb2.AttemptEvent(
        event_id=f"ev-{seq}", sequence=seq, attempt_id="att-1", vendor=attempts_pb2.VENDOR_ABLEID, attempt_state=state
    )
    if seq == 1:
        ev.started.transaction_id = "tx"
    else:
        ev.completed.status_code = 200
    return attempts_pb2.WatchAttemptResponse(resume_token=token, event=ev)


def heartbeat(token: str) -> attempts_pb2.WatchAttemptResponse:
    return attempts_pb2.WatchAttemptResponse(resume_token=token, heartbeat=attempts_pb2.Heartbeat())


def rich_status(code: int, message: str, *details: Any) -> grpc.Status:
    packed = []
    for d in details:
        a = any_pb2.Any()
        a.Pack(d)
        packed.append(a)
    status: grpc.Status = rpc_status.to_status(status_pb2.Status(code=code, message=message, details=packed))
    return status


def error_info(reason: str, **metadata: str) -> error_details_pb2.ErrorInfo:
    return error_details_pb2.ErrorInfo(reason=reason, domain="idv-gateway", metadata=metadata)


__all__ = ["code_pb2"]
