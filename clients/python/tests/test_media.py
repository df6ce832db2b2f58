"""The media download helpers against an in-process fake AttemptService."""

from __future__ import annotations

import asyncio
import hashlib
import io
import random
import threading
from collections.abc import Iterator
from typing import Any

import grpc
import grpc.aio
import pytest

from fake import FakeAttempts, error_info, rich_status, start_server
from idv.attempts.v1 import attempts_pb2
from idv_gateway import (
    MediaMismatchError,
    async_download_media,
    async_download_media_to,
    download_media,
    download_media_to,
    error_details,
    media_request,
)

CHUNK = 64 * 1024


def photo(n: int) -> tuple[bytes, attempts_pb2.Media]:
    data = random.Random(n).randbytes(n)
    digest = hashlib.sha256(data).hexdigest()
    return data, attempts_pb2.Media(
        media_id=digest[:32], field="photo.photo", content_type="image/jpeg", size_bytes=n, sha256=digest
    )


def photo_event(
    media: attempts_pb2.Media, vendor: attempts_pb2.Vendor = attempts_pb2.VENDOR_ABLEID
) -> attempts_pb2.AttemptEvent:
    event = attempts_pb2.AttemptEvent(event_id="ev-photo", sequence=3, vendor=vendor, attempt_id="att-1")
    event.media.append(media)
    return event


def chunks(data: bytes, announced: int) -> Iterator[attempts_pb2.DownloadAttemptMediaResponse]:
    """``data`` as the gateway sends it: 64 KiB chunks, the first with type and length."""
    for i in range(0, max(len(data), 1), CHUNK):
        message = attempts_pb2.DownloadAttemptMediaResponse(chunk=data[i : i + CHUNK])
        if i == 0:
            message.content_type, message.content_length = "image/jpeg", announced
        yield message


def served(fake: FakeAttempts) -> Iterator[grpc.Channel]:
    server, port = start_server(fake)
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield channel
    finally:
        channel.close()
        server.stop(0)


DATA, REF = photo(5 * CHUNK + 123)


def test_streams_and_checks() -> None:
    fake = FakeAttempts()
    fake.download = lambda req, ctx: chunks(DATA, len(DATA))
    for channel in served(fake):
        out = io.BytesIO()
        assert download_media_to(channel, photo_event(REF), REF, out) == len(DATA)
        assert out.getvalue() == DATA
        assert download_media(channel, photo_event(REF, attempts_pb2.VENDOR_BAF), REF) == DATA
    first, second = fake.media_requests[:2]
    assert (first.ableid_attempt_id, first.media_id) == ("att-1", REF.media_id)
    assert (second.baf_applicant_id, second.media_id) == ("att-1", REF.media_id)


def test_an_empty_file() -> None:
    data, ref = photo(0)
    fake = FakeAttempts()
    fake.download = lambda req, ctx: chunks(data, 0)
    for channel in served(fake):
        assert download_media(channel, photo_event(ref), ref) == b""


CORRUPT = bytearray(DATA)
CORRUPT[CHUNK + 1] ^= 0xFF


@pytest.mark.parametrize(
    ("sent", "announced", "received", "is_announced", "sha"),
    [
        (DATA[:-1], 0, len(DATA) - 1, False, False),  # short
        (DATA + bytes(10 * CHUNK), 0, 6 * CHUNK, False, False),  # long: stops at the first chunk too many
        (bytes(CORRUPT), len(DATA), len(DATA), False, True),  # same size, other bytes
        (DATA, len(DATA) + 1, len(DATA) + 1, True, False),  # announces another length
    ],
    ids=["short", "long", "corrupt", "announced"],
)
def test_mismatches(sent: bytes, announced: int, received: int, is_announced: bool, sha: bool) -> None:
    fake = FakeAttempts()
    fake.download = lambda req, ctx: chunks(sent, announced)
    for channel in served(fake):
        out = io.BytesIO()
        with pytest.raises(MediaMismatchError) as raised:
            download_media_to(channel, photo_event(REF), REF, out)
        with pytest.raises(MediaMismatchError):
            download_media(channel, photo_event(REF), REF)
    err = raised.value
    assert err.media == REF and err.received == received and err.announced == is_announced
    assert (err.sha256 is not None) == sha and err.sha256 != REF.sha256
    assert len(out.getvalue()) <= REF.size_bytes and (not is_announced or out.getvalue() == b"")
    assert REF.media_id in str(err)


def test_errors_pass_through_and_a_failed_write_ends_the_call() -> None:
    ended = threading.Event()

    def download(req: Any, ctx: Any) -> Iterator[attempts_pb2.DownloadAttemptMediaResponse]:
        if req.media_id != REF.media_id:
            ctx.abort_with_status(rich_status(5, "no such media", error_info("MEDIA_NOT_FOUND")))
        ctx.add_callback(ended.set)
        yield from chunks(DATA + DATA, len(DATA))

    class Full(io.RawIOBase):
        def write(self, b: Any) -> int:
            raise OSError("disk full")

    fake = FakeAttempts()
    fake.download = download
    for channel in served(fake):
        other = attempts_pb2.Media(media_id="0123456789abcdef0123456789abcdef", size_bytes=1, sha256=REF.sha256)
        with pytest.raises(grpc.RpcError) as raised:
            download_media(channel, photo_event(other), other)
        details = error_details(raised.value)
        assert details is not None and details.code == grpc.StatusCode.NOT_FOUND and details.reason == "MEDIA_NOT_FOUND"

        with pytest.raises(OSError, match="disk full"):
            download_media_to(channel, photo_event(REF), REF, Full())
        assert ended.wait(5), "the call was not ended after the failed write"

        with pytest.raises(ValueError):
            download_media(channel, attempts_pb2.AttemptEvent(attempt_id="x"), REF)
        with pytest.raises(ValueError):
            download_media(channel, photo_event(REF), attempts_pb2.Media(media_id=REF.media_id, size_bytes=1))
    assert len(fake.media_requests) == 2  # none for the unusable event and reference


def test_media_request() -> None:
    assert media_request(photo_event(REF), REF).WhichOneof("attempt") == "ableid_attempt_id"
    assert media_request(photo_event(REF, attempts_pb2.VENDOR_BAF), REF).baf_applicant_id == "att-1"


def test_async() -> None:
    fake = FakeAttempts()
    fake.download = lambda req, ctx: chunks(DATA if req.media_id == REF.media_id else DATA[:-1], 0)
    server, port = start_server(fake)
    short = attempts_pb2.Media()
    short.CopyFrom(REF)
    short.media_id = "f" * 32

    async def main() -> tuple[bytes, int]:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            data = await async_download_media(channel, photo_event(REF), REF)
            out = io.BytesIO()
            n = await async_download_media_to(channel, photo_event(REF), REF, out)
            assert out.getvalue() == DATA
            with pytest.raises(MediaMismatchError):
                await async_download_media(channel, photo_event(short), short)
            return data, n

    try:
        data, n = asyncio.run(main())
    finally:
        server.stop(0)
    assert data == DATA and n == len(DATA)
