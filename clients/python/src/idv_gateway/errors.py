"""Reading the ``google.rpc`` error details every gateway error carries.

Every error the gateway returns is a ``google.rpc.Status`` with one ``ErrorInfo``:
``reason`` (UPPER_SNAKE, the vendor's own type where it has one), ``domain`` (the vendor,
such as ``ableid``, or ``idv-gateway`` for the gateway's own errors) and ``metadata``
(the vendor's ``code``, ``http_status``, ``type`` and ``message`` when a vendor refused
the call). Requests the gateway rejected itself add ``BadRequest`` field violations;
``RetryInfo`` says how long to wait when the vendor asked for it.

::

    try:
        stub.StartResidentCheck(request)
    except grpc.RpcError as err:
        details = error_details(err)
        if details and details.violation("pinfl"):
            ...
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import timedelta
from typing import Any, cast

import grpc
from google.protobuf.message import Message
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

_DETAILS_KEY = "grpc-status-details-bin"


@dataclasses.dataclass(frozen=True)
class FieldViolation:
    """One invalid request field."""

    #: Path of the field, such as ``pinfl`` or ``hooks[0]``.
    field: str
    #: What is wrong with it.
    description: str


@dataclasses.dataclass(frozen=True)
class ErrorDetails:
    """What a failed gateway call says."""

    code: grpc.StatusCode
    message: str
    #: ``ErrorInfo.reason``; empty without an ErrorInfo.
    reason: str = ""
    #: ``ErrorInfo.domain``.
    domain: str = ""
    #: ``ErrorInfo.metadata``.
    metadata: dict[str, str] = dataclasses.field(default_factory=dict)
    #: ``BadRequest`` field violations, in order.
    field_violations: tuple[FieldViolation, ...] = ()
    #: ``RetryInfo.retry_delay``; ``None`` without a RetryInfo.
    retry_delay: timedelta | None = None
    #: The detail messages as received, or ``None``.
    error_info: error_details_pb2.ErrorInfo | None = None
    bad_request: error_details_pb2.BadRequest | None = None
    retry_info: error_details_pb2.RetryInfo | None = None
    #: Further details, still packed in ``google.protobuf.Any``.
    other: tuple[Any, ...] = ()

    def violation(self, field: str) -> str | None:
        """The description of the first violation of ``field``, or ``None``."""
        return next((v.description for v in self.field_violations if v.field == field), None)

    @property
    def vendor_code(self) -> str | None:
        """The vendor's own error code (ErrorInfo metadata ``code``)."""
        return self.metadata.get("code")

    @property
    def http_status(self) -> str | None:
        """The HTTP status the vendor answered (ErrorInfo metadata ``http_status``)."""
        return self.metadata.get("http_status")

    @property
    def vendor_message(self) -> str | None:
        """The vendor's own message (ErrorInfo metadata ``message``)."""
        return self.metadata.get("message")


def _status_of(err: grpc.RpcError) -> status_pb2.Status | None:
    if isinstance(err, grpc.Call):
        try:
            status: status_pb2.Status | None = rpc_status.from_call(err)
            return status
        except ValueError:
            return None  # details that contradict the call's code or message
    # grpc.aio.AioRpcError is no grpc.Call; read its trailers directly.
    trailers = cast("Iterable[tuple[str, str | bytes]] | None", getattr(err, "trailing_metadata", lambda: None)())
    for key, value in trailers or ():
        if key == _DETAILS_KEY and isinstance(value, bytes):
            return status_pb2.Status.FromString(value)
    return None


def error_details(err: BaseException) -> ErrorDetails | None:
    """The details of a failed call (sync or asyncio), or ``None`` for other exceptions."""
    if not isinstance(err, grpc.RpcError) or not hasattr(err, "code"):
        return None
    code = err.code()
    message = err.details() or ""
    status = _status_of(err)
    if status is None:
        return ErrorDetails(code=code, message=message)

    info: error_details_pb2.ErrorInfo | None = None
    bad: error_details_pb2.BadRequest | None = None
    retry: error_details_pb2.RetryInfo | None = None
    other: list[Any] = []
    for any_detail in status.details:
        for cls in (error_details_pb2.ErrorInfo, error_details_pb2.BadRequest, error_details_pb2.RetryInfo):
            if any_detail.Is(cls.DESCRIPTOR):
                msg: Message = cls()
                any_detail.Unpack(msg)
                if isinstance(msg, error_details_pb2.ErrorInfo):
                    info = info or msg
                elif isinstance(msg, error_details_pb2.BadRequest):
                    bad = bad or msg
                elif isinstance(msg, error_details_pb2.RetryInfo):
                    retry = retry or msg
                break
        else:
            other.append(any_detail)

    return ErrorDetails(
        code=code,
        message=message,
        reason=info.reason if info else "",
        domain=info.domain if info else "",
        metadata=dict(info.metadata) if info else {},
        field_violations=tuple(FieldViolation(v.field, v.description) for v in bad.field_violations) if bad else (),
        retry_delay=retry.retry_delay.ToTimedelta() if retry is not None and retry.HasField("retry_delay") else None,
        error_info=info,
        bad_request=bad,
        retry_info=retry,
        other=tuple(other),
    )
