"""Files events carry by reference (``AttemptEvent.media``), such as an AbleID photo.

An event does not carry a photo's bytes (``photo.photo`` is empty): ``event.media`` lists
the files it refers to, each with ``media_id``, ``field`` (such as ``photo.photo``),
``content_type``, ``size_bytes`` and ``sha256``, and
``idv.attempts.v1.AttemptService/DownloadAttemptMedia`` streams a file in 64 KiB chunks.

These helpers make that call for one reference and check what arrives: the announced
``content_length``, the running size (the call is cancelled as soon as more bytes than
``size_bytes`` arrive), and at the end the size and the SHA-256. A difference raises
:class:`MediaMismatchError`; a failed call raises the ``grpc.RpcError`` it is
(``NOT_FOUND`` with reason ``MEDIA_NOT_FOUND`` for an unknown id; read it with
:func:`idv_gateway.error_details`).

::

    for media in event.media:
        with open(f"{media.media_id}.jpg", "wb") as out:
            download_media_to(channel, event, media, out)   # streamed, never all in memory
    jpeg = download_media(channel, event, event.media[0])    # or all of it, in memory
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence
from typing import Any, Protocol

import grpc
import grpc.aio

from idv.attempts.v1 import attempts_pb2, attempts_pb2_grpc

Media = attempts_pb2.Media
Metadata = Sequence[tuple[str, str | bytes]]


class Writer(Protocol):
    """Where a download goes: a file opened ``"wb"``, an ``io.BytesIO``, a socket file..."""

    def write(self, data: bytes, /) -> Any: ...


class MediaMismatchError(Exception):
    """The downloaded bytes are not the file the reference describes: another size or
    another SHA-256. They must not be used (a ``download_media_to`` target must be
    discarded).

    :ivar media: the reference.
    :ivar received: bytes received (when more arrived than expected, the count at the
        point the download stopped), or with ``announced`` the ``content_length`` the
        stream announced before any bytes.
    :ivar announced: whether ``received`` is the announced length.
    :ivar sha256: the hex SHA-256 of what was received, when the size matched; else ``None``.
    """

    def __init__(self, media: Media, received: int, *, announced: bool = False, sha256: str | None = None) -> None:
        self.media = media
        self.received = received
        self.announced = announced
        self.sha256 = sha256
        what = f"media {media.media_id} ({media.field})"
        if announced:
            text = f"{what}: the download announces {received} bytes, the reference says {media.size_bytes}"
        elif received > media.size_bytes:
            text = f"{what}: received {received} bytes or more, the reference says {media.size_bytes}"
        elif received != media.size_bytes:
            text = f"{what}: received {received} bytes, the reference says {media.size_bytes}"
        else:
            text = f"{what}: sha256 {sha256}, the reference says {media.sha256}"
        super().__init__(text)


def media_request(event: attempts_pb2.AttemptEvent, media: Media) -> attempts_pb2.DownloadAttemptMediaRequest:
    """The ``DownloadAttemptMediaRequest`` for ``media``, a reference ``event`` carries: the
    attempt comes from the event's ``vendor`` and ``attempt_id``."""
    request = attempts_pb2.DownloadAttemptMediaRequest(media_id=media.media_id)
    if event.vendor == attempts_pb2.VENDOR_ABLEID:
        request.ableid_attempt_id = event.attempt_id
    elif event.vendor == attempts_pb2.VENDOR_BAF:
        request.baf_applicant_id = event.attempt_id
    else:
        raise ValueError(f"media of an event of vendor {attempts_pb2.Vendor.Name(event.vendor)} cannot be downloaded")
    return request


class _Check:
    """Checks a download against its reference, chunk by chunk."""

    def __init__(self, media: Media) -> None:
        want = media.sha256.lower()
        if len(want) != 64 or any(c not in "0123456789abcdef" for c in want) or media.size_bytes < 0:
            raise ValueError(f"media {media.media_id} ({media.field}) has no valid size and sha256 to check a download against")
        self.media = media
        self.want = want
        self.received = 0
        self.hash = hashlib.sha256()
        self.first = True

    def take(self, message: attempts_pb2.DownloadAttemptMediaResponse) -> bytes:
        """The message's chunk, once it is known to fit the reference."""
        if self.first:
            self.first = False
            if message.content_length and message.content_length != self.media.size_bytes:
                raise MediaMismatchError(self.media, message.content_length, announced=True)
        chunk = message.chunk
        if self.received + len(chunk) > self.media.size_bytes:
            raise MediaMismatchError(self.media, self.received + len(chunk))
        self.received += len(chunk)
        self.hash.update(chunk)
        return chunk

    def finish(self) -> None:
        if self.received != self.media.size_bytes:
            raise MediaMismatchError(self.media, self.received)
        got = self.hash.hexdigest()
        if got != self.want:
            raise MediaMismatchError(self.media, self.received, sha256=got)


def _stub(target: Any) -> Any:
    if isinstance(target, attempts_pb2_grpc.AttemptServiceStub):
        return target
    return attempts_pb2_grpc.AttemptServiceStub(target)


def download_media_to(
    target: grpc.Channel | attempts_pb2_grpc.AttemptServiceStub,
    event: attempts_pb2.AttemptEvent,
    media: Media,
    out: Writer,
    *,
    timeout: float | None = None,
    metadata: Metadata | None = None,
) -> int:
    """Streams the bytes of ``media`` (one of ``event.media``) into ``out`` chunk by chunk,
    without holding the file in memory, and returns the count.

    :raises MediaMismatchError: what arrived is not the file the reference describes;
        discard what was written to ``out``.
    :raises grpc.RpcError: the call failed (``NOT_FOUND`` for an unknown attempt or id).
    :raises ValueError: the event's vendor or the reference cannot be used.
    """
    check = _Check(media)
    call = _stub(target).DownloadAttemptMedia(media_request(event, media), timeout=timeout, metadata=metadata)
    try:
        for message in call:
            out.write(check.take(message))
        check.finish()
    finally:
        call.cancel()  # no-op once finished; ends the call on a mismatch or a failed write
    return check.received


def download_media(
    target: grpc.Channel | attempts_pb2_grpc.AttemptServiceStub,
    event: attempts_pb2.AttemptEvent,
    media: Media,
    *,
    timeout: float | None = None,
    metadata: Metadata | None = None,
) -> bytes:
    """The bytes of ``media`` (one of ``event.media``), checked against the reference: see
    :func:`download_media_to`."""
    buffer = io.BytesIO()
    download_media_to(target, event, media, buffer, timeout=timeout, metadata=metadata)
    return buffer.getvalue()


async def async_download_media_to(
    target: grpc.aio.Channel | attempts_pb2_grpc.AttemptServiceStub,
    event: attempts_pb2.AttemptEvent,
    media: Media,
    out: Writer,
    *,
    timeout: float | None = None,
    metadata: Metadata | None = None,
) -> int:
    """:func:`download_media_to` over a ``grpc.aio`` channel (``out`` is written to as it is)."""
    check = _Check(media)
    call = _stub(target).DownloadAttemptMedia(media_request(event, media), timeout=timeout, metadata=metadata)
    try:
        async for message in call:
            out.write(check.take(message))
        check.finish()
    finally:
        call.cancel()
    return check.received


async def async_download_media(
    target: grpc.aio.Channel | attempts_pb2_grpc.AttemptServiceStub,
    event: attempts_pb2.AttemptEvent,
    media: Media,
    *,
    timeout: float | None = None,
    metadata: Metadata | None = None,
) -> bytes:
    """:func:`download_media` over a ``grpc.aio`` channel."""
    buffer = io.BytesIO()
    await async_download_media_to(target, event, media, buffer, timeout=timeout, metadata=metadata)
    return buffer.getvalue()
