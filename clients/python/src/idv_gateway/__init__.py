"""Hand-written helpers of the idv-gateway Python client.

The generated stubs live in the ``idv`` package and follow the proto packages::

    from idv.ableid.v1 import ableid_pb2, ableid_pb2_grpc

This package adds:

- :class:`AttemptWatch` / :func:`watch_attempt` (and :class:`AsyncAttemptWatch`): a
  resumable watch of one attempt that reconnects with the last resume token and yields
  every event exactly once;
- :func:`download_media` / :func:`download_media_to` (and their ``async_`` flavours):
  the bytes of a file an event carries by reference (``AttemptEvent.media``, such as a
  photo), streamed and checked against the reference's size and SHA-256
  (:class:`MediaMismatchError`);
- :func:`error_details`: the ``google.rpc`` details of a failed call (ErrorInfo,
  BadRequest field violations, RetryInfo);
- :func:`b2core_metadata`: the call metadata ``VerificationService`` needs.
"""

from idv_gateway.errors import ErrorDetails, FieldViolation, error_details
from idv_gateway.media import (
    MediaMismatchError,
    async_download_media,
    async_download_media_to,
    download_media,
    download_media_to,
    media_request,
)
from idv_gateway.metadata import B2CORE_AUTHORIZATION, b2core_metadata
from idv_gateway.watch import AsyncAttemptWatch, AttemptWatch, Reconnect, is_retryable, watch_attempt

__all__ = [
    "B2CORE_AUTHORIZATION",
    "AsyncAttemptWatch",
    "AttemptWatch",
    "ErrorDetails",
    "FieldViolation",
    "MediaMismatchError",
    "Reconnect",
    "async_download_media",
    "async_download_media_to",
    "b2core_metadata",
    "download_media",
    "download_media_to",
    "error_details",
    "is_retryable",
    "media_request",
    "watch_attempt",
]
