"""error_details() on real failed calls (sync and asyncio) from an in-process server."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import grpc
import grpc.aio
from google.protobuf import duration_pb2
from google.rpc import code_pb2, error_details_pb2

from fake import FakeAttempts, error_info, rich_status, start_server
from idv.attempts.v1 import attempts_pb2, attempts_pb2_grpc
from idv_gateway import b2core_metadata, error_details


def _invalid(req: Any, ctx: Any) -> Iterator[attempts_pb2.WatchAttemptResponse]:
    ctx.abort_with_status(
        rich_status(
            code_pb2.INVALID_ARGUMENT,
            "invalid request: pinfl",
            error_info("INVALID_ARGUMENT", code="10201", http_status="400", message="bad"),
            error_details_pb2.BadRequest(
                field_violations=[
                    error_details_pb2.BadRequest.FieldViolation(field="pinfl", description="must be 14 digits"),
                    error_details_pb2.BadRequest.FieldViolation(field="birth_date", description="DD.MM.YYYY"),
                ]
            ),
            error_details_pb2.RetryInfo(retry_delay=duration_pb2.Duration(seconds=1, nanos=500_000_000)),
        )
    )
    yield from ()  # a generator, like every WatchAttempt handler


def _check(err: BaseException) -> None:
    d = error_details(err)
    assert d is not None
    assert d.code == grpc.StatusCode.INVALID_ARGUMENT and d.message == "invalid request: pinfl"
    assert d.reason == "INVALID_ARGUMENT" and d.domain == "idv-gateway"
    assert (d.vendor_code, d.http_status, d.vendor_message) == ("10201", "400", "bad")
    assert d.violation("pinfl") == "must be 14 digits" and d.violation("nope") is None
    assert [v.field for v in d.field_violations] == ["pinfl", "birth_date"]
    assert d.retry_delay == timedelta(seconds=1.5)


def test_error_details_sync() -> None:
    server, port = start_server(FakeAttempts(_invalid))
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = attempts_pb2_grpc.AttemptServiceStub(channel)
            try:
                list(stub.WatchAttempt(attempts_pb2.WatchAttemptRequest(ableid_attempt_id="x")))
            except grpc.RpcError as err:
                _check(err)
            else:
                raise AssertionError("no error")
    finally:
        server.stop(0)


def test_error_details_asyncio() -> None:
    server, port = start_server(FakeAttempts(_invalid))

    async def main() -> None:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = attempts_pb2_grpc.AttemptServiceStub(channel)
            try:
                async for _ in stub.WatchAttempt(attempts_pb2.WatchAttemptRequest(ableid_attempt_id="x")):
                    pass
            except grpc.aio.AioRpcError as err:
                _check(err)
            else:
                raise AssertionError("no error")

    try:
        asyncio.run(main())
    finally:
        server.stop(0)


def test_error_details_without_details_and_of_other_errors() -> None:
    server, port = start_server(FakeAttempts())
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = attempts_pb2_grpc.AttemptServiceStub(channel)
            try:
                stub.GetAttempt(attempts_pb2.GetAttemptRequest(ableid_attempt_id="x"))
            except grpc.RpcError as err:
                d = error_details(err)
                assert d is not None and d.code == grpc.StatusCode.UNIMPLEMENTED
                assert d.reason == "" and d.error_info is None and d.field_violations == ()
    finally:
        server.stop(0)
    assert error_details(ValueError("x")) is None


def test_b2core_metadata() -> None:
    assert b2core_metadata("abc") == (("b2core-authorization", "Bearer abc"),)
    assert b2core_metadata("Bearer abc") == (("b2core-authorization", "Bearer abc"),)
