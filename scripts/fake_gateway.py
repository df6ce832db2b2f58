#!/usr/bin/env python3
"""A stand-in for `idv-gateway serve --sandbox`, to rehearse the client integration tests.

NOT the gateway: a small in-memory implementation of what the tests rely on, written from
the proto comments (idv.attempts.v1.WatchAttempt resume semantics, at-least-once
redelivery, heartbeats, terminal end with OK) and the sandbox URL contract. It lets
`scripts/test-clients --fake-gateway` run every integration test end to end while the real
WatchAttempt/GetAttempt and sandbox pages are still being built, so that the test code
itself is exercised. It proves nothing about the gateway.

Runs with the tools venv (grpcio) and the generated Python code in clients/python/src:

    .tools/venv/bin/python scripts/fake_gateway.py --ready-file /tmp/fake.json

It writes {"grpc": "HOST:PORT", "http": "http://HOST:PORT"} to --ready-file when serving.
On resume it deliberately sends the event of the token again (delivery is at least once),
so the clients' deduplication is exercised too.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import sys
import threading
import uuid
from concurrent import futures
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "clients", "python", "src"))

import grpc  # noqa: E402
from google.protobuf import any_pb2, timestamp_pb2  # noqa: E402
from google.rpc import code_pb2, error_details_pb2, status_pb2  # noqa: E402
from grpc_status import rpc_status  # noqa: E402

from idv.ableid.v1 import ableid_pb2, ableid_pb2_grpc  # noqa: E402
from idv.attempts.v1 import attempts_pb2 as apb  # noqa: E402
from idv.attempts.v1 import attempts_pb2_grpc  # noqa: E402
from idv.b2core.v1 import verifications_pb2, verifications_pb2_grpc  # noqa: E402
from idv.baf.v1 import applicants_pb2, applicants_pb2_grpc, validation_pb2, validation_pb2_grpc  # noqa: E402

HEARTBEAT_SECS = 1.0
VIDEO = bytes(range(256)) * 700  # 179,200 bytes, sent in 64 KiB chunks


def now() -> timestamp_pb2.Timestamp:
    ts = timestamp_pb2.Timestamp()
    ts.GetCurrentTime()
    return ts


def abort(ctx: grpc.ServicerContext, code: int, reason: str, message: str, violations: dict[str, str] | None = None) -> Any:
    details = [error_details_pb2.ErrorInfo(reason=reason, domain="idv-gateway")]
    if violations:
        details.append(
            error_details_pb2.BadRequest(
                field_violations=[
                    error_details_pb2.BadRequest.FieldViolation(field=f, description=d) for f, d in violations.items()
                ]
            )
        )
    packed = []
    for d in details:
        a = any_pb2.Any()
        a.Pack(d)
        packed.append(a)
    ctx.abort_with_status(rpc_status.to_status(status_pb2.Status(code=code, message=message, details=packed)))


@dataclass
class Record:
    attempt: apb.Attempt
    events: list[apb.AttemptEvent] = field(default_factory=list)
    baf_attempts: list[applicants_pb2.Attempt] = field(default_factory=list)


class Store:
    def __init__(self, http_base: str) -> None:
        self.http_base = http_base
        self.cond = threading.Condition()
        self.records: dict[str, Record] = {}

    def create(self, vendor: int, transaction_id: str, url_path: str) -> Record:
        attempt_id = uuid.uuid4().hex
        url = f"{self.http_base}/{url_path}/{attempt_id}"
        rec = Record(
            apb.Attempt(
                vendor=vendor,
                attempt_id=attempt_id,
                state=apb.ATTEMPT_STATE_PENDING,
                transaction_id=transaction_id,
                url=url,
                create_time=now(),
            )
        )
        with self.cond:
            self.records[attempt_id] = rec
        self.append(attempt_id, apb.ATTEMPT_STATE_PENDING, started=apb.Started(transaction_id=transaction_id, url=url))
        return rec

    def append(self, attempt_id: str, state: int, **kind: Any) -> apb.AttemptEvent:
        with self.cond:
            rec = self.records[attempt_id]
            seq = len(rec.events) + 1
            ev = apb.AttemptEvent(
                event_id=f"{attempt_id}-{seq}",
                sequence=seq,
                receive_time=now(),
                vendor=rec.attempt.vendor,
                attempt_id=attempt_id,
                attempt_state=state,
                **kind,
            )
            rec.events.append(ev)
            rec.attempt.state = state
            rec.attempt.terminal = state != apb.ATTEMPT_STATE_PENDING
            rec.attempt.last_sequence = seq
            rec.attempt.update_time.CopyFrom(ev.receive_time)
            self.cond.notify_all()
            return ev

    def get(self, attempt_id: str) -> Record | None:
        with self.cond:
            return self.records.get(attempt_id)


class Attempts(attempts_pb2_grpc.AttemptServiceServicer):
    def __init__(self, store: Store) -> None:
        self.store = store

    def _find(self, request: Any, ctx: grpc.ServicerContext) -> Record:
        which = request.WhichOneof("attempt")
        rec = self.store.get(getattr(request, which)) if which else None
        if rec is None:
            abort(ctx, code_pb2.NOT_FOUND, "ATTEMPT_NOT_FOUND", "no such attempt")
        assert rec is not None
        return rec

    def GetAttempt(self, request: Any, ctx: grpc.ServicerContext) -> apb.GetAttemptResponse:
        rec = self._find(request, ctx)
        with self.store.cond:
            return apb.GetAttemptResponse(attempt=rec.attempt)

    def ListAttemptEvents(self, request: Any, ctx: grpc.ServicerContext) -> apb.ListAttemptEventsResponse:
        rec = self._find(request, ctx)
        with self.store.cond:
            return apb.ListAttemptEventsResponse(events=rec.events)

    def WatchAttempt(self, request: Any, ctx: grpc.ServicerContext) -> Any:
        rec = self._find(request, ctx)
        attempt_id = rec.attempt.attempt_id
        if request.resume_token:
            m = re.fullmatch(r"([0-9a-f]+):(\d+)", request.resume_token)
            if not m or m.group(1) != attempt_id:
                abort(ctx, code_pb2.INVALID_ARGUMENT, "INVALID_RESUME_TOKEN", "malformed token or another attempt's")
            assert m is not None
            # At least once: send the token's own event again.
            pos = max(0, int(m.group(2)) - 1)
        else:
            with self.store.cond:
                snapshot = apb.Attempt()
                snapshot.CopyFrom(rec.attempt)
            yield apb.WatchAttemptResponse(resume_token=f"{attempt_id}:0", attempt=snapshot)
            pos = 0
        while ctx.is_active():
            with self.store.cond:
                pending = list(rec.events[pos:])
                terminal = rec.attempt.terminal
                if not pending and not (terminal and not request.follow_after_terminal):
                    self.store.cond.wait(HEARTBEAT_SECS)
                    pending = list(rec.events[pos:])
                    terminal = rec.attempt.terminal
            for ev in pending:
                pos = ev.sequence
                yield apb.WatchAttemptResponse(resume_token=f"{attempt_id}:{pos}", event=ev)
            if terminal and not request.follow_after_terminal:
                return
            if not pending:
                yield apb.WatchAttemptResponse(resume_token=f"{attempt_id}:{pos}", heartbeat=apb.Heartbeat(time=now()))


class AbleId(ableid_pb2_grpc.AbleIdServiceServicer):
    def __init__(self, store: Store) -> None:
        self.store = store

    def StartResidentCheck(self, request: Any, ctx: grpc.ServicerContext) -> ableid_pb2.StartResidentCheckResponse:
        violations = {}
        if not request.transaction_id:
            violations["transaction_id"] = "required"
        if not re.fullmatch(r"\d{14}", request.pinfl):
            violations["pinfl"] = "must be 14 digits"
        if not re.fullmatch(r"\d\d\.\d\d\.\d{4}", request.birth_date):
            violations["birth_date"] = "must be DD.MM.YYYY"
        if violations:
            abort(ctx, code_pb2.INVALID_ARGUMENT, "INVALID_ARGUMENT", "invalid request: " + ", ".join(violations), violations)
        rec = self.store.create(apb.VENDOR_ABLEID, request.transaction_id, "sandbox/ableid")
        return ableid_pb2.StartResidentCheckResponse(
            attempt_id=rec.attempt.attempt_id, full_url=rec.attempt.url, lang="ru", message="ok", expire_time=now()
        )

    def RequestPassport(self, request: Any, ctx: grpc.ServicerContext) -> ableid_pb2.RequestPassportResponse:
        if self.store.get(request.attempt_id) is None:
            abort(ctx, code_pb2.NOT_FOUND, "SESSION_NOT_FOUND", "no such session")
        # The passport arrives later, on the data hook.
        passport = ableid_pb2.Passport(attempt_id=request.attempt_id, surname="SANDBOX", name="TEST")
        threading.Timer(
            0.2, lambda: self.store.append(request.attempt_id, apb.ATTEMPT_STATE_SUCCEEDED, passport=passport)
        ).start()
        return ableid_pb2.RequestPassportResponse(status_code=200, type="SUCCESS", message="ok")


class Applicants(applicants_pb2_grpc.ApplicantServiceServicer):
    def __init__(self, store: Store) -> None:
        self.store = store

    def _rec(self, applicant_id: str, ctx: grpc.ServicerContext) -> Record:
        rec = self.store.get(applicant_id)
        if rec is None:
            abort(ctx, code_pb2.NOT_FOUND, "APPLICANT_NOT_FOUND", "no such applicant")
        assert rec is not None
        return rec

    def CreateApplicant(self, request: Any, ctx: grpc.ServicerContext) -> applicants_pb2.CreateApplicantResponse:
        rec = self.store.create(apb.VENDOR_BAF, request.reference_id, "sandbox/baf/embedded")
        return applicants_pb2.CreateApplicantResponse(applicant_id=rec.attempt.attempt_id, validation_link=rec.attempt.url)

    def GetApplicant(self, request: Any, ctx: grpc.ServicerContext) -> applicants_pb2.GetApplicantResponse:
        rec = self._rec(request.applicant_id, ctx)
        return applicants_pb2.GetApplicantResponse(
            applicant=applicants_pb2.Applicant(applicant_id=request.applicant_id, reference_id=rec.attempt.transaction_id)
        )

    def ListApplicantAttempts(self, request: Any, ctx: grpc.ServicerContext) -> applicants_pb2.ListApplicantAttemptsResponse:
        rec = self._rec(request.applicant_id, ctx)
        with self.store.cond:
            return applicants_pb2.ListApplicantAttemptsResponse(attempts=rec.baf_attempts)

    def DownloadAttemptVideo(self, request: Any, ctx: grpc.ServicerContext) -> Any:
        rec = self._rec(request.applicant_id, ctx)
        if not any(a.attempt_id == request.attempt_id for a in rec.baf_attempts):
            abort(ctx, code_pb2.NOT_FOUND, "ATTEMPT_NOT_FOUND", "no such attempt")
        for i in range(0, len(VIDEO), 65536):
            msg = applicants_pb2.DownloadAttemptVideoResponse(chunk=VIDEO[i : i + 65536])
            if i == 0:
                msg.content_type = "video/webm"
                msg.content_length = len(VIDEO)
            yield msg


class Validation(validation_pb2_grpc.ValidationServiceServicer):
    def RegisterFace(self, request: Any, ctx: grpc.ServicerContext) -> validation_pb2.RegisterFaceResponse:
        return validation_pb2.RegisterFaceResponse(
            result=validation_pb2.ValidationResult(applicant_id=request.applicant_id, attempt_id=1, document_type=10)
        )


class Verifications(verifications_pb2_grpc.VerificationServiceServicer):
    def ListVerifications(self, request: Any, ctx: grpc.ServicerContext) -> verifications_pb2.ListVerificationsResponse:
        md = dict(ctx.invocation_metadata())
        if not str(md.get("b2core-authorization", "")).startswith("Bearer "):
            abort(ctx, code_pb2.UNAUTHENTICATED, "B2CORE_TOKEN_MISSING", "b2core-authorization is required")
        item = verifications_pb2.Verification(
            id=1, client_id=7, current_level=verifications_pb2.VerificationLevel(id=1, name="Level 1")
        )
        return verifications_pb2.ListVerificationsResponse(total=1, data=[item])


def http_handler(store: Store) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            m = re.fullmatch(r"/sandbox/ableid/([0-9a-f]+)/approve", self.path)
            if m and store.get(m.group(1)):
                store.append(
                    m.group(1),
                    apb.ATTEMPT_STATE_SUCCEEDED,
                    completed=apb.Completed(status_code=200, type="SUCCESS", transaction_id="-"),
                )
                return self._done()
            m = re.fullmatch(r"/sandbox/baf/embedded/([0-9a-f]+)/pass", self.path)
            rec = store.get(m.group(1)) if m else None
            if m and rec:
                with store.cond:
                    baf_attempt = applicants_pb2.Attempt(attempt_id=len(rec.baf_attempts) + 1001, created=now())
                    rec.baf_attempts.append(baf_attempt)
                store.append(m.group(1), apb.ATTEMPT_STATE_SUCCEEDED, baf_attempt_added=apb.BafAttemptAdded(attempt=baf_attempt))
                return self._done()
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def _done(self) -> None:
            self.send_response(303)
            self.send_header("Location", "https://example.invalid/done")
            self.send_header("Content-Length", "0")
            self.end_headers()

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--ready-file")
    args = parser.parse_args()

    httpd = ThreadingHTTPServer((args.host, 0), BaseHTTPRequestHandler)
    http_base = f"http://{args.host}:{httpd.server_address[1]}"
    store = Store(http_base)
    httpd.RequestHandlerClass = http_handler(store)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=32))
    attempts_pb2_grpc.add_AttemptServiceServicer_to_server(Attempts(store), server)
    ableid_pb2_grpc.add_AbleIdServiceServicer_to_server(AbleId(store), server)
    applicants_pb2_grpc.add_ApplicantServiceServicer_to_server(Applicants(store), server)
    validation_pb2_grpc.add_ValidationServiceServicer_to_server(Validation(), server)
    verifications_pb2_grpc.add_VerificationServiceServicer_to_server(Verifications(), server)
    port = server.add_insecure_port(f"{args.host}:0")
    server.start()

    ready = json.dumps({"grpc": f"{args.host}:{port}", "http": http_base})
    if args.ready_file:
        with open(args.ready_file + ".tmp", "w") as f:
            f.write(ready)
        os.replace(args.ready_file + ".tmp", args.ready_file)
    print(ready, flush=True)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    server.stop(0)
    httpd.shutdown()


if __name__ == "__main__":
    main()
