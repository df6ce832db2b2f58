"""The Python client against a running gateway in sandbox mode (scripts/test-clients).

Skipped unless IDV_GATEWAY_ADDR is set. Environment:

    IDV_GATEWAY_ADDR           host:port of the gateway's gRPC listener
    IDV_GATEWAY_HTTP           http://host:port of its HTTP listener (sandbox pages)
    IDV_GATEWAY_PROXY_ADDR     host:port of scripts/tcp_proxy.py in front of the gRPC listener
    IDV_GATEWAY_PROXY_CONTROL  http://host:port of the proxy's control API (POST /drop)

A call the gateway does not provide (UNIMPLEMENTED, a sandbox vendor not configured, a
sandbox page that answers 404) fails the test that needs it.
"""

from __future__ import annotations

import json
import os
import queue
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any, NoReturn

import grpc
import pytest

from idv.ableid.v1 import ableid_pb2, ableid_pb2_grpc
from idv.attempts.v1 import attempts_pb2, attempts_pb2_grpc
from idv.b2core.v1 import verifications_pb2, verifications_pb2_grpc
from idv.baf.v1 import applicants_pb2, applicants_pb2_grpc, validation_pb2, validation_pb2_grpc
from idv_gateway import AttemptWatch, Reconnect, b2core_metadata, download_media, error_details

ADDR = os.environ.get("IDV_GATEWAY_ADDR", "")
HTTP = os.environ.get("IDV_GATEWAY_HTTP", "").rstrip("/")
PINFL = "31205901234567"
BIRTH_DATE = "12.05.1990"
# A valid 1x1 JPEG, for calls that need a face image.
TINY_JPEG = bytes.fromhex(
    "ffd8ffdb004300080606070605080707070909080a0c140d0c0b0b0c1912130f141d1a1f1e1d1a1c1c20242e"
    "2720222c231c1c2837292c30313434341f27393d38323c2e333432ffc0000b080001000101011100ffc40014"
    "0001000000000000000000000000000000000009ffc40014100100000000000000000000000000000000ffda"
    "0008010100003f002a9fffd9"
)

pytestmark = pytest.mark.skipif(not ADDR, reason="IDV_GATEWAY_ADDR is not set: run scripts/test-clients")


def missing_feature(err: grpc.RpcError) -> str:
    """Why err means a missing gateway feature rather than a wrong answer: UNIMPLEMENTED, a
    vendor the sandbox does not configure, or a sandbox without public_url (so it cannot
    add its own AbleID hook). Empty for any other error."""
    d = error_details(err)
    if d is None:
        return ""
    if d.code == grpc.StatusCode.UNIMPLEMENTED:
        return "UNIMPLEMENTED"
    if d.code == grpc.StatusCode.FAILED_PRECONDITION and d.reason == "UPSTREAM_NOT_CONFIGURED":
        return "vendor not configured: UPSTREAM_NOT_CONFIGURED"
    if (
        d.code == grpc.StatusCode.INVALID_ARGUMENT
        and bool(d.field_violations)
        and all(v.field == "hooks" and "public_url" in v.description for v in d.field_violations)
    ):
        return "no public_url, so no AbleID completion hook"
    return ""


def call_failed(err: grpc.RpcError, what: str) -> NoReturn:
    """Fails the test on a call's error, naming the call (and saying so when the gateway
    lacks what the test needs)."""
    d = error_details(err)
    status = f"{d.code.name}: {d.message}" if d else repr(err)
    why = missing_feature(err)
    if why:
        raise AssertionError(f"{what}: the gateway does not provide what this test needs ({why}): {status}") from err
    raise AssertionError(f"{what}: {status}") from err


def unique(prefix: str) -> str:
    return f"{prefix}-{time.time_ns()}"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def post(url: str) -> None:
    """POSTs an empty form to a sandbox page without following its redirect."""
    opener = urllib.request.build_opener(_NoRedirect)
    request = urllib.request.Request(url, data=b"", method="POST")
    request.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        with opener.open(request, timeout=10) as resp:
            status = resp.status
    except urllib.error.HTTPError as err:
        status = err.code
    assert status != 404, f"POST {url}: HTTP 404: the gateway does not serve this sandbox page (serve --sandbox?)"
    assert status in (200, 303), f"POST {url}: HTTP {status}"


@pytest.fixture(scope="module")
def channel() -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(ADDR) as ch:
        yield ch


def start_resident(channel: grpc.Channel) -> ableid_pb2.StartResidentCheckResponse:
    try:
        resp: ableid_pb2.StartResidentCheckResponse = ableid_pb2_grpc.AbleIdServiceStub(channel).StartResidentCheck(
            ableid_pb2.StartResidentCheckRequest(transaction_id=unique("py-it"), pinfl=PINFL, birth_date=BIRTH_DATE),
            timeout=15,
        )
    except grpc.RpcError as err:
        call_failed(err, "AbleIdService.StartResidentCheck")
    assert resp.attempt_id and resp.full_url, resp
    return resp


def create_applicant(channel: grpc.Channel) -> applicants_pb2.CreateApplicantResponse:
    try:
        resp: applicants_pb2.CreateApplicantResponse = applicants_pb2_grpc.ApplicantServiceStub(channel).CreateApplicant(
            applicants_pb2.CreateApplicantRequest(first_name="Py", last_name="Client", reference_id=unique("py-it")),
            timeout=15,
        )
    except grpc.RpcError as err:
        call_failed(err, "ApplicantService.CreateApplicant")
    assert resp.applicant_id, resp
    return resp


def test_ableid_service_start_resident_check(channel: grpc.Channel) -> None:
    resp = start_resident(channel)
    assert resp.HasField("expire_time")


def test_applicant_service_create_and_get(channel: grpc.Channel) -> None:
    created = create_applicant(channel)
    try:
        got = applicants_pb2_grpc.ApplicantServiceStub(channel).GetApplicant(
            applicants_pb2.GetApplicantRequest(applicant_id=created.applicant_id), timeout=15
        )
    except grpc.RpcError as err:
        call_failed(err, "ApplicantService.GetApplicant")
    assert got.applicant.applicant_id == created.applicant_id


def test_validation_service_register_face(channel: grpc.Channel) -> None:
    created = create_applicant(channel)
    try:
        resp = validation_pb2_grpc.ValidationServiceStub(channel).RegisterFace(
            validation_pb2.RegisterFaceRequest(applicant_id=created.applicant_id, face_image_base64=TINY_JPEG),
            timeout=15,
        )
    except grpc.RpcError as err:
        call_failed(err, "ValidationService.RegisterFace")
    assert resp.HasField("result")


def test_verification_service_list_verifications(channel: grpc.Channel) -> None:
    try:
        resp = verifications_pb2_grpc.VerificationServiceStub(channel).ListVerifications(
            verifications_pb2.ListVerificationsRequest(), metadata=b2core_metadata("sandbox-client-token"), timeout=15
        )
    except grpc.RpcError as err:
        call_failed(err, "VerificationService.ListVerifications")
    assert resp.total >= len(resp.data)


def test_attempt_service_get_attempt(channel: grpc.Channel) -> None:
    started = start_resident(channel)
    try:
        resp = attempts_pb2_grpc.AttemptServiceStub(channel).GetAttempt(
            attempts_pb2.GetAttemptRequest(ableid_attempt_id=started.attempt_id), timeout=15
        )
    except grpc.RpcError as err:
        call_failed(err, "AttemptService.GetAttempt")
    a = resp.attempt
    assert a.attempt_id == started.attempt_id and a.vendor == attempts_pb2.VENDOR_ABLEID
    assert a.state == attempts_pb2.ATTEMPT_STATE_PENDING and not a.terminal and a.last_sequence >= 1


def test_invalid_request_has_field_violations(channel: grpc.Channel) -> None:
    """Validation happens in the gateway itself, before any vendor is called."""
    with pytest.raises(grpc.RpcError) as caught:
        ableid_pb2_grpc.AbleIdServiceStub(channel).StartResidentCheck(
            ableid_pb2.StartResidentCheckRequest(transaction_id=unique("py-it"), pinfl="12345", birth_date=BIRTH_DATE),
            timeout=15,
        )
    d = error_details(caught.value)
    assert d is not None and d.code == grpc.StatusCode.INVALID_ARGUMENT
    assert d.reason == "INVALID_ARGUMENT" and d.domain == "idv-gateway" and d.error_info is not None
    assert d.violation("pinfl"), d.field_violations


def test_applicant_service_download_attempt_video(channel: grpc.Channel) -> None:
    created = create_applicant(channel)
    post(f"{HTTP}/sandbox/baf/embedded/{created.applicant_id}/pass")
    stub = applicants_pb2_grpc.ApplicantServiceStub(channel)
    deadline = time.monotonic() + 10
    while True:
        try:
            listed = stub.ListApplicantAttempts(
                applicants_pb2.ListApplicantAttemptsRequest(applicant_id=created.applicant_id), timeout=15
            )
        except grpc.RpcError as err:
            call_failed(err, "ApplicantService.ListApplicantAttempts")
        if listed.attempts:
            attempt = listed.attempts[-1]
            break
        assert time.monotonic() < deadline, "no attempt listed after the sandbox pass"
        time.sleep(0.2)

    total = declared = chunks = 0
    try:
        for msg in stub.DownloadAttemptVideo(
            applicants_pb2.DownloadAttemptVideoRequest(applicant_id=created.applicant_id, attempt_id=attempt.attempt_id),
            timeout=60,
        ):
            if chunks == 0:
                declared = msg.content_length
                assert msg.content_type, "first message has no content_type"
            chunks += 1
            total += len(msg.chunk)
    except grpc.RpcError as err:
        call_failed(err, "ApplicantService.DownloadAttemptVideo")
    assert total > 0, f"downloaded 0 bytes in {chunks} messages"
    assert declared in (0, total), f"downloaded {total} bytes, content_length says {declared}"


class Proxy:
    """scripts/tcp_proxy.py, which scripts/test-clients puts in front of the gateway."""

    def __init__(self) -> None:
        self.addr = os.environ.get("IDV_GATEWAY_PROXY_ADDR", "")
        self.control = os.environ.get("IDV_GATEWAY_PROXY_CONTROL", "").rstrip("/")
        assert self.addr and self.control, "IDV_GATEWAY_PROXY_ADDR/_CONTROL must be set: run scripts/test-clients"

    def _call(self, method: str, path: str) -> dict[str, int]:
        req = urllib.request.Request(self.control + path, data=b"" if method == "POST" else None, method=method)
        with urllib.request.urlopen(req, timeout=5) as resp:
            out: dict[str, int] = json.load(resp)
            return out

    def drop(self) -> int:
        return self._call("POST", "/drop")["dropped"]

    def accepted(self) -> int:
        return self._call("GET", "/stats")["accepted"]


def test_ableid_watch_across_disconnects(channel: grpc.Channel) -> None:
    """The full AbleID flow through the watch helper, across two forced disconnects:
    start, watch (following after the terminal state, for the data hooks), `started`,
    cut, approve on the sandbox page, `completed`, cut, RequestPassport, `passport`. Every
    event arrives once, in sequence order from 1 without gaps, and the helper resumed with
    its token (a resume without one would have brought a second snapshot)."""
    proxy = Proxy()
    started = start_resident(channel)
    accepted_before = proxy.accepted()
    events: queue.Queue[attempts_pb2.AttemptEvent | BaseException | None] = queue.Queue()
    reconnects: queue.Queue[Reconnect] = queue.Queue()
    snapshots: list[attempts_pb2.Attempt] = []

    with grpc.insecure_channel(proxy.addr) as via_proxy:
        watch = AttemptWatch(
            via_proxy,
            ableid_attempt_id=started.attempt_id,
            follow_after_terminal=True,
            initial_backoff=0.05,
            max_backoff=1.0,
            max_retries=30,
            on_snapshot=snapshots.append,
            on_reconnect=reconnects.put,
        )

        def run() -> None:
            try:
                for ev in watch:
                    events.put(ev)
                events.put(None)
            except BaseException as err:  # handed to the test thread
                events.put(err)

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        received: list[attempts_pb2.AttemptEvent] = []

        def wait_for(kind: str) -> attempts_pb2.AttemptEvent:
            deadline = time.monotonic() + 30
            while True:
                try:
                    item = events.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    pytest.fail(f"no {kind!r} event within 30s; got {len(received)} events")
                if isinstance(item, grpc.RpcError):
                    call_failed(item, "AttemptService.WatchAttempt")
                if item is None or isinstance(item, BaseException):
                    pytest.fail(f"watch ended before a {kind!r} event: {item!r}")
                received.append(item)
                if item.WhichOneof("kind") == kind:
                    return item

        def wait_reconnect() -> Reconnect:
            try:
                r = reconnects.get(timeout=15)
            except queue.Empty:
                pytest.fail("no reconnect within 15s of the drop")
            assert r.resume_token, f"reconnected without a resume token: {r}"
            return r

        try:
            wait_for("started")
            assert snapshots and snapshots[0].attempt_id == started.attempt_id
            assert snapshots[0].state == attempts_pb2.ATTEMPT_STATE_PENDING
            assert proxy.drop() >= 1
            wait_reconnect()

            post(started.full_url.rstrip("/") + "/approve")
            completed = wait_for("completed")
            assert completed.attempt_state == attempts_pb2.ATTEMPT_STATE_SUCCEEDED
            assert proxy.drop() >= 1
            wait_reconnect()

            try:
                ableid_pb2_grpc.AbleIdServiceStub(channel).RequestPassport(
                    ableid_pb2.RequestPassportRequest(attempt_id=started.attempt_id, pinfl=PINFL, birth_date=BIRTH_DATE),
                    timeout=15,
                )
            except grpc.RpcError as err:
                call_failed(err, "AbleIdService.RequestPassport")
            passport = wait_for("passport")
            assert passport.HasField("passport")
        finally:
            watch.cancel()
            thread.join(10)
        assert not thread.is_alive(), "the watch did not stop after cancel()"
        while True:  # whatever arrived between the last wait and the cancel
            item = events.get_nowait() if not events.empty() else None
            if item is None:
                break
            if isinstance(item, attempts_pb2.AttemptEvent):
                received.append(item)
            else:
                raise AssertionError(f"watch ended with {item!r}")

    assert [e.sequence for e in received] == list(range(1, len(received) + 1)), "sequence not 1,2,3… once each"
    assert len({e.event_id for e in received}) == len(received), "an event was delivered twice"
    assert all(e.attempt_id == started.attempt_id for e in received)
    kinds = [e.WhichOneof("kind") for e in received]
    assert kinds.index("started") < kinds.index("completed") < kinds.index("passport"), kinds
    assert len(snapshots) == 1, "a resume without the token would send another snapshot"
    assert watch.reconnects >= 2 and proxy.accepted() - accepted_before >= 3


def test_two_large_photos_with_default_limits(channel: grpc.Channel) -> None:
    """Two photos larger than gRPC's default 4 MiB receive limit (scripts/test-clients runs
    the sandbox with IDV_SANDBOX_PHOTO_BYTES=12582912): a channel with default options
    watches the attempt, lists its events with the default page, and downloads each photo
    by reference, checked against its size and SHA-256."""
    started = start_resident(channel)
    watch = AttemptWatch(channel, ableid_attempt_id=started.attempt_id, follow_after_terminal=True)
    events = iter(watch)
    # The watch blocks; ending it bounds a wait for an event that never comes.
    deadline = threading.Timer(90, watch.cancel)
    deadline.start()

    def wait_for(kind: str) -> attempts_pb2.AttemptEvent:
        for ev in events:
            if ev.WhichOneof("kind") == kind:
                return ev
        pytest.fail(f"the watch ended before a {kind!r} event")

    photos: list[attempts_pb2.AttemptEvent] = []
    try:
        wait_for("started")
        post(started.full_url.rstrip("/") + "/approve")
        wait_for("completed")
        for _ in range(2):
            try:
                ableid_pb2_grpc.AbleIdServiceStub(channel).RequestPhoto(
                    ableid_pb2.RequestPhotoRequest(attempt_id=started.attempt_id), timeout=30
                )
            except grpc.RpcError as err:
                call_failed(err, "AbleIdService.RequestPhoto")
            photos.append(wait_for("photo"))
    finally:
        deadline.cancel()
        watch.cancel()

    stub = attempts_pb2_grpc.AttemptServiceStub(channel)
    try:
        page = stub.ListAttemptEvents(
            attempts_pb2.ListAttemptEventsRequest(ableid_attempt_id=started.attempt_id), timeout=15
        )
    except grpc.RpcError as err:
        call_failed(err, "AttemptService.ListAttemptEvents")
    assert [ev.WhichOneof("kind") for ev in page.events].count("photo") == 2

    for ev in photos:
        assert ev.ByteSize() < 64 * 1024, "a photo event should carry a reference, not the bytes"
        assert len(ev.media) == 1
        media = ev.media[0]
        assert media.size_bytes > 4 * 1024 * 1024, (
            f"the photo is {media.size_bytes} bytes: run scripts/test-clients, which makes the sandbox's photos 12 MiB"
        )
        try:
            data = download_media(channel, ev, media, timeout=60)
        except grpc.RpcError as err:
            call_failed(err, "AttemptService.DownloadAttemptMedia")
        assert len(data) == media.size_bytes
