"""The watch helper against an in-process fake AttemptService."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Any

import grpc
import grpc.aio
import pytest
from google.rpc import code_pb2
from google.protobuf import duration_pb2
from google.rpc import error_details_pb2

from fake import PENDING, SUCCEEDED, FakeAttempts, error_info, event, heartbeat, rich_status, snapshot, start_server
from idv.attempts.v1 import attempts_pb2
from idv_gateway import AsyncAttemptWatch, AttemptWatch, Reconnect, error_details, watch_attempt

FAST: dict[str, Any] = {"initial_backoff": 0.001, "max_backoff": 0.005, "max_retries": 3}


def served(fake: FakeAttempts) -> Iterator[grpc.Channel]:
    server, port = start_server(fake)
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield channel
    finally:
        channel.close()
        server.stop(0)


def test_resumes_with_last_token_after_unavailable() -> None:
    def first(req: Any, ctx: Any) -> Iterator[attempts_pb2.WatchAttemptResponse]:
        yield snapshot("t0")
        yield event("t1", 1)
        yield heartbeat("t2")
        ctx.abort(grpc.StatusCode.UNAVAILABLE, "gateway restarting")

    def second(req: Any, ctx: Any) -> Iterator[attempts_pb2.WatchAttemptResponse]:
        yield event("t1", 1)  # at least once: redelivered
        yield event("t3", 2, SUCCEEDED)

    fake = FakeAttempts(first, second)
    reconnects: list[Reconnect] = []
    snapshots: list[attempts_pb2.Attempt] = []
    for channel in served(fake):
        watch = AttemptWatch(
            channel, ableid_attempt_id="att-1", on_reconnect=reconnects.append, on_snapshot=snapshots.append, **FAST
        )
        events = list(watch)
    assert [e.sequence for e in events] == [1, 2]
    assert fake.tokens() == ["", "t2"]
    assert [r.resume_token for r in reconnects] == ["t2"]
    assert reconnects[0].cause.code() == grpc.StatusCode.UNAVAILABLE
    assert len(snapshots) == 1 and watch.snapshot is not None and watch.snapshot.attempt_id == "att-1"
    assert watch.state == SUCCEEDED and watch.resume_token == "t3" and watch.reconnects == 1
    assert fake.requests[0].ableid_attempt_id == "att-1"


def test_resumes_after_the_server_goes_away() -> None:
    """A real connection loss: the first server stops, a second one takes the port."""
    sent = threading.Event()

    def first(req: Any, ctx: Any) -> Iterator[attempts_pb2.WatchAttemptResponse]:
        yield snapshot("t0")
        yield event("t1", 1)
        sent.set()
        while ctx.is_active():
            time.sleep(0.01)

    def second(req: Any, ctx: Any) -> Iterator[attempts_pb2.WatchAttemptResponse]:
        yield event("t2", 2, SUCCEEDED)

    fake = FakeAttempts(first, second)
    server, port = start_server(fake)
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    replacement: list[grpc.Server] = []

    def swap() -> None:
        sent.wait(5)
        server.stop(0).wait()
        replacement.append(start_server(fake, port)[0])

    threading.Thread(target=swap, daemon=True).start()
    reconnects: list[Reconnect] = []
    try:
        events = list(
            watch_attempt(
                channel,
                ableid_attempt_id="att-1",
                on_reconnect=reconnects.append,
                initial_backoff=0.05,
                max_backoff=0.2,
                max_retries=20,
            )
        )
    finally:
        channel.close()
        for s in replacement:
            s.stop(0)
    assert [e.sequence for e in events] == [1, 2]
    assert fake.tokens()[0] == "" and fake.tokens()[-1] == "t1"
    assert reconnects and all(r.resume_token == "t1" for r in reconnects)


def test_retries_a_bare_internal_and_starts_from_the_callers_token() -> None:
    def reset(req: Any, ctx: Any) -> Iterator[attempts_pb2.WatchAttemptResponse]:
        ctx.abort(grpc.StatusCode.INTERNAL, "stream terminated by RST_STREAM")
        yield from ()  # a generator, like every WatchAttempt handler

    def rest(req: Any, ctx: Any) -> Iterator[attempts_pb2.WatchAttemptResponse]:
        yield event("t6", 2, SUCCEEDED)

    fake = FakeAttempts(reset, rest)
    for channel in served(fake):
        events = list(AttemptWatch(channel, baf_applicant_id="app-1", resume_token="t5", **FAST))
    assert len(events) == 1
    assert fake.tokens() == ["t5", "t5"]
    assert fake.requests[0].baf_applicant_id == "app-1"


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        (code_pb2.NOT_FOUND, "ATTEMPT_NOT_FOUND"),
        (code_pb2.FAILED_PRECONDITION, "RESUME_TOKEN_EXPIRED"),
        (code_pb2.INVALID_ARGUMENT, "INVALID_ARGUMENT"),
        (code_pb2.INTERNAL, "INTERNAL"),
    ],
)
def test_surfaces_answers_that_are_not_broken_connections(code: int, reason: str) -> None:
    def refuse(req: Any, ctx: Any) -> Iterator[attempts_pb2.WatchAttemptResponse]:
        ctx.abort_with_status(rich_status(code, reason, error_info(reason)))
        yield from ()  # a generator, like every WatchAttempt handler

    fake = FakeAttempts(refuse)
    reconnects: list[Reconnect] = []
    for channel in served(fake):
        with pytest.raises(grpc.RpcError) as caught:
            list(AttemptWatch(channel, ableid_attempt_id="att-1", on_reconnect=reconnects.append, **FAST))
    details = error_details(caught.value)
    assert details is not None and details.code.value[0] == code and details.reason == reason
    assert len(fake.requests) == 1 and not reconnects


def test_gives_up_after_max_retries() -> None:
    def down(req: Any, ctx: Any) -> Iterator[attempts_pb2.WatchAttemptResponse]:
        ctx.abort(grpc.StatusCode.UNAVAILABLE, "down")
        yield from ()  # a generator, like every WatchAttempt handler

    fake = FakeAttempts(*[down] * 4)
    reconnects: list[Reconnect] = []
    for channel in served(fake):
        with pytest.raises(grpc.RpcError) as caught:
            list(AttemptWatch(channel, ableid_attempt_id="att-1", on_reconnect=reconnects.append, **FAST))
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    assert len(fake.requests) == 4 and len(reconnects) == 3


def test_honours_retry_info() -> None:
    def wait(req: Any, ctx: Any) -> Iterator[attempts_pb2.WatchAttemptResponse]:
        delay = error_details_pb2.RetryInfo(retry_delay=duration_pb2.Duration(nanos=200_000_000))
        ctx.abort_with_status(rich_status(code_pb2.UNAVAILABLE, "busy", delay))
        yield from ()  # a generator, like every WatchAttempt handler

    def done(req: Any, ctx: Any) -> Iterator[attempts_pb2.WatchAttemptResponse]:
        yield event("t1", 1, SUCCEEDED)

    fake = FakeAttempts(wait, done)
    reconnects: list[Reconnect] = []
    for channel in served(fake):
        list(AttemptWatch(channel, ableid_attempt_id="att-1", on_reconnect=reconnects.append, **FAST))
    assert reconnects[0].delay == pytest.approx(0.2)


def _endless(req: Any, ctx: Any) -> Iterator[attempts_pb2.WatchAttemptResponse]:
    yield snapshot("t0")
    yield event("t1", 1)
    while ctx.is_active():
        time.sleep(0.01)


def test_cancel_from_another_thread_ends_iteration() -> None:
    fake = FakeAttempts(_endless)
    for channel in served(fake):
        watch = AttemptWatch(channel, ableid_attempt_id="att-1")
        got = []
        for ev in watch:
            got.append(ev)
            threading.Timer(0.05, watch.cancel).start()
    assert [e.sequence for e in got] == [1]


def test_breaking_out_cancels_the_call() -> None:
    fake = FakeAttempts(_endless)
    for channel in served(fake):
        events = watch_attempt(channel, ableid_attempt_id="att-1")
        first = next(events)
        events.close()  # what `break` does to a for loop's generator
    assert first.sequence == 1


def test_needs_exactly_one_attempt() -> None:
    with pytest.raises(ValueError):
        AttemptWatch(grpc.insecure_channel("127.0.0.1:1"))


def test_async_watch_resumes() -> None:
    def first(req: Any, ctx: Any) -> Iterator[attempts_pb2.WatchAttemptResponse]:
        yield snapshot("t0")
        yield event("t1", 1)
        ctx.abort(grpc.StatusCode.UNAVAILABLE, "bye")

    def second(req: Any, ctx: Any) -> Iterator[attempts_pb2.WatchAttemptResponse]:
        yield event("t1", 1)
        yield event("t2", 2, SUCCEEDED)

    fake = FakeAttempts(first, second)
    server, port = start_server(fake)

    async def main() -> list[attempts_pb2.AttemptEvent]:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            watch = AsyncAttemptWatch(channel, ableid_attempt_id="att-1", **FAST)
            out = [ev async for ev in watch]
            assert watch.reconnects == 1 and watch.snapshot is not None
            return out

    try:
        events = asyncio.run(main())
    finally:
        server.stop(0)
    assert [e.sequence for e in events] == [1, 2]
    assert fake.tokens() == ["", "t1"]


def test_async_watch_cancel() -> None:
    fake = FakeAttempts(_endless)
    server, port = start_server(fake)

    async def main() -> list[attempts_pb2.AttemptEvent]:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            watch = AsyncAttemptWatch(channel, ableid_attempt_id="att-1")
            out = []
            async for ev in watch:
                out.append(ev)
                asyncio.get_running_loop().call_later(0.05, watch.cancel)
            return out

    try:
        events = asyncio.run(main())
    finally:
        server.stop(0)
    assert [e.sequence for e in events] == [1]


_ = PENDING
